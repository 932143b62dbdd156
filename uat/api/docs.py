"""The API schema and the interactive API docs (Swagger UI served from our own static
files). Both describe every endpoint and field: open to anyone while developing
(``DEBUG``), behind sign-in otherwise unless ``API_DOCS_PUBLIC`` opens them."""

from django.conf import settings
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer


class DocsPermission(BasePermission):
    """Anyone with ``DEBUG`` on or ``API_DOCS_PUBLIC`` set; else a signed-in caller (a
    session or an API token). Read at each request, so the settings can change."""

    def has_permission(self, request, view) -> bool:
        if settings.DEBUG or settings.API_DOCS_PUBLIC:
            return True
        return bool(request.user and request.user.is_authenticated)


class ErrorsAsJson:
    """A refusal answers in the API's JSON error format, not as YAML or a docs page."""

    def handle_exception(self, exc):
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class SchemaView(ErrorsAsJson, SpectacularAPIView):
    permission_classes = [DocsPermission]


class ApiDocsView(ErrorsAsJson, SpectacularSwaggerSplitView):
    """Swagger UI whose start-up script and styles are separate files, so the page runs
    under the strict Content-Security-Policy with no inline script or style."""

    permission_classes = [DocsPermission]
    template_name = "api/docs.html"
