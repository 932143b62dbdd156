"""The REST API under /api/v1/: one router for every app's viewsets."""

from rest_framework.routers import DefaultRouter

from .views.catalog import (
    CaseViewSet,
    EnvironmentViewSet,
    ProductViewSet,
    ReleaseViewSet,
    RequirementViewSet,
)
from .views.planning import CohortViewSet, PlanViewSet
from .views.records import EventViewSet, SignOffViewSet
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
router.register("signoffs", SignOffViewSet)
router.register("events", EventViewSet)
router.register("tokens", ApiTokenViewSet)

urlpatterns = router.urls
