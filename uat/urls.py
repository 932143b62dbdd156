from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from .health import healthz
from .views import audit

admin.site.site_header = "Greenlight"
admin.site.site_title = "Greenlight"
admin.site.index_title = "User acceptance testing"


def home(request):
    """The front door: a signed-in user's inbox, everyone else the sign-in page."""
    return redirect("uat:inbox" if request.user.is_authenticated else "accounts:login")


# Uploaded evidence is never served as plain media: only views that check who may see
# the execution hand it out.
urlpatterns = [
    path("", home, name="home"),
    path("", include("uat.views.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("releases/<int:release_id>/audit/", audit.release_audit, name="release-audit"),
    path(
        "releases/<int:release_id>/evidence-package/",
        audit.evidence_package_create,
        name="evidence-package-create",
    ),
    path(
        "evidence-packages/<uuid:package_uuid>/",
        audit.evidence_package_download,
        name="evidence-package-download",
    ),
    path("api/v1/", include("uat.api.urls")),
    path("reports/", include("reports.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
]
