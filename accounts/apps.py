from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, apps=None, **kwargs) -> None:
    from django.apps import apps as installed_apps

    from .roles import sync_roles

    sync_roles(apps or installed_apps)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # After every migrate (and every test database flush, which empties the tables
        # and runs post_migrate), the role groups match accounts/roles.py again.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="greenlight-sync-roles")
        # Whatever signs someone in (either sign-in page, an accepted invitation, a
        # test's client), the session learns there what two-factor step it still owes.
        # A signal because Django's login() is the one place all of them pass through.
        from django.contrib.auth.signals import user_logged_in

        from .two_factor import on_sign_in

        user_logged_in.connect(on_sign_in, dispatch_uid="greenlight-two-factor-step")
