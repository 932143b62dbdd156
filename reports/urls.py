from django.urls import path

from . import release_pages, signing_page, views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("releases/<int:release_id>/", release_pages.release, name="release"),
    path("waiting/", release_pages.waiting, name="waiting"),
    path("plans/<int:plan_id>/", views.dashboard, name="dashboard"),
    path("plans/<int:plan_id>/report/", views.report_status, name="report_status"),
    path("plans/<int:plan_id>/report/request/", views.report_ask, name="report_request"),
    path(
        "plans/<int:plan_id>/requirements/<int:requirement_id>/",
        views.requirement,
        name="requirement",
    ),
    path("<uuid:uuid>/", views.report, name="report"),
    path("<uuid:uuid>/pdf/", views.report_pdf, name="report_pdf"),
    path("<uuid:uuid>/signed.pdf", signing_page.report_signed_pdf, name="report_signed_pdf"),
    path("<uuid:uuid>/sign/", signing_page.report_sign, name="report_sign"),
    path("email-settings/", views.email_settings, name="email_settings"),
]
