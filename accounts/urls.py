from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.login_view, name="login"),
    path("sign-out/", views.logout_view, name="logout"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views.password_reset_complete, name="password_reset_complete"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("security/", views.security, name="security"),
    path("security/two-factor/set-up/", views.two_factor_setup, name="two_factor_setup"),
    path(
        "security/two-factor/backup-codes/",
        views.two_factor_backup_codes,
        name="two_factor_backup_codes",
    ),
    path(
        "security/two-factor/backup-codes/new/",
        views.two_factor_backup_codes_regenerate,
        name="two_factor_backup_codes_regenerate",
    ),
    path("security/two-factor/turn-off/", views.two_factor_disable, name="two_factor_disable"),
    path("invitations/new/", views.invitation_new, name="invitation_new"),
    path("invitations/<str:secret>/", views.invitation_accept, name="invitation_accept"),
]
