from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from .api.docs import ApiDocsView

admin.site.site_header = "Greenlight"
admin.site.site_title = "Greenlight"
admin.site.index_title = "User acceptance testing"

# Uploaded evidence is never served as plain media: only views that check who may see
# the execution hand it out.
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("uat.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from our own static files; its start-up script is a separate file, so
    # the strict Content-Security-Policy holds.
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
]
