"""The REST API under /api/v1/: one router for every app's viewsets, plus the explicit
paths of the report request, the gate and promotion."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from reports.api import PlanReportsView, ReportViewSet
from reports.evidence_packages_api import (
    EvidencePackageFileView,
    EvidencePackageView,
    ReleaseEvidencePackageView,
)

from .gate import ReleaseGateView, ReleasePromoteView
from .views.catalog import (
    CaseViewSet,
    EnvironmentViewSet,
    ProductViewSet,
    ReleaseViewSet,
    RequirementViewSet,
)
from .views.planning import CohortViewSet, PlanViewSet
from .views.records import EventViewSet, SignOffViewSet, WaiverViewSet
from .views.tokens import ApiTokenViewSet
from .views.work import DefectViewSet, ExecutionViewSet

router = DefaultRouter()
router.register("products", ProductViewSet)
router.register("releases", ReleaseViewSet)
router.register("environments", EnvironmentViewSet)
router.register("requirements", RequirementViewSet)
router.register("cases", CaseViewSet)
router.register("plans", PlanViewSet)
router.register("cohorts", CohortViewSet)
router.register("executions", ExecutionViewSet)
router.register("defects", DefectViewSet)
router.register("reports", ReportViewSet, basename="report")
router.register("signoffs", SignOffViewSet)
router.register("waivers", WaiverViewSet)
router.register("events", EventViewSet)
router.register("tokens", ApiTokenViewSet)

# Explicit paths first, so a router route can never shadow them.
urlpatterns = [
    path("releases/<int:pk>/gate/", ReleaseGateView.as_view(), name="release-gate"),
    path("releases/<int:pk>/promote/", ReleasePromoteView.as_view(), name="release-promote"),
    path("plans/<int:plan_id>/reports/", PlanReportsView.as_view(), name="plan-reports"),
    path(
        "releases/<int:pk>/evidence-package/",
        ReleaseEvidencePackageView.as_view(),
        name="release-evidence-package",
    ),
    path(
        "evidence-packages/<uuid:uuid>/",
        EvidencePackageView.as_view(),
        name="evidence-package-detail",
    ),
    path(
        "evidence-packages/<uuid:uuid>/file/",
        EvidencePackageFileView.as_view(),
        name="evidence-package-file",
    ),
    *router.urls,
]
