"""The interactive API docs: Swagger UI served from our own static files."""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI whose start-up script and styles are separate files, so the page runs
    under the strict Content-Security-Policy with no inline script or style."""

    template_name = "api/docs.html"
