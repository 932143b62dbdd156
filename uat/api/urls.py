"""The REST API under /api/v1/: one router for every app's viewsets."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from reports.api import PlanReportsView, ReportViewSet

from .gate import ReleaseGateView, ReleasePromoteView

router = DefaultRouter()
router.register("reports", ReportViewSet, basename="report")

# Explicit paths first, so a router route can never shadow them.
urlpatterns = [
    path("releases/<int:pk>/gate/", ReleaseGateView.as_view(), name="release-gate"),
    path("releases/<int:pk>/promote/", ReleasePromoteView.as_view(), name="release-promote"),
    path("plans/<int:plan_id>/reports/", PlanReportsView.as_view(), name="plan-reports"),
    *router.urls,
]
