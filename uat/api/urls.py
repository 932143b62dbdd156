"""The REST API under /api/v1/: one router for every app's viewsets."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from .gate import ReleaseGateView, ReleasePromoteView

router = DefaultRouter()

# Explicit routes first, so they win over any router route of the same shape.
urlpatterns = [
    path("releases/<int:pk>/gate/", ReleaseGateView.as_view(), name="release-gate"),
    path("releases/<int:pk>/promote/", ReleasePromoteView.as_view(), name="release-promote"),
    *router.urls,
]
