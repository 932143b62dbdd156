from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import include, path
from django.views.defaults import page_not_found

from accounts.forms import AdminSignInForm
from reports.navigation import landing
from uat.api.docs import ApiDocsView, SchemaView
from uat.api.errors import error_body

from .health import healthz

admin.site.site_header = "Greenlight"
admin.site.site_title = "Greenlight"
admin.site.index_title = "User acceptance testing"
admin.site.login_form = AdminSignInForm  # the same sign-in lockout as the testers' page


def not_found(request, exception):
    """404s under /api/ answer in the API's error format (an id that is not a number, an
    unknown path); everywhere else, the usual page."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return page_not_found(request, exception)


handler404 = not_found


def home(request):
    """The front door: each person's landing page, decided by role in one place
    (``reports.navigation``); the sign-in page for a visitor."""
    return redirect(landing(request.user))


# Uploaded evidence is never served as plain media: only views that check who may see
# the execution hand it out.
urlpatterns = [
    path("", home, name="home"),
    path("", include("uat.views.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("uat.api.urls")),
    path("reports/", include("reports.urls")),
    # The schema and docs need a sign-in with DEBUG off, unless API_DOCS_PUBLIC is set.
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # Swagger UI from our own static files; its start-up script is a separate file, so
    # the strict Content-Security-Policy holds.
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
]
