from django.apps import AppConfig


class UatConfig(AppConfig):
    name = "uat"
    verbose_name = "User acceptance testing"

    def ready(self) -> None:
        # Accounts announce their changes (they may not import the audit trail, which
        # builds on them); the trail records each one.
        from accounts.signals import account_event

        from .audit import account_event_record

        account_event.connect(account_event_record, dispatch_uid="greenlight-account-events")
