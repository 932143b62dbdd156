"""What accounts announce to the rest of Greenlight.

Accounts sit below the testing work, so they never import its audit trail; instead every
change of an account that the trail records (tokens, sign-ins and their failures,
two-factor) is sent as ``account_event`` inside the change's transaction, and the audit
trail (``uat.audit``) writes the event. ``account_event_send`` refuses to send into the
void: with no receiver connected the change would leave no trace.
"""

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

# Sent with: actor (a user or None), verb, obj (the account record; None for an
# address that has no account) and after (a dict or None).
account_event = Signal()


def account_event_send(*, actor, verb: str, obj, after: dict | None = None) -> None:
    if not account_event.has_listeners():
        raise ImproperlyConfigured("Nothing records account events: is the uat app installed?")
    from .models import User

    sender = User if obj is None else type(obj)
    account_event.send(sender=sender, actor=actor, verb=verb, obj=obj, after=after)
