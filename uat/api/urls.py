"""The REST API under /api/v1/: one router for every app's viewsets."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from reports.api import PlanReportsView, ReportViewSet

router = DefaultRouter()
router.register("reports", ReportViewSet, basename="report")

urlpatterns = [
    # Explicit paths first, so a router route can never shadow them.
    path("plans/<int:plan_id>/reports/", PlanReportsView.as_view(), name="plan-reports"),
    *router.urls,
]
