"""Accounts announce the changes the audit trail records; the trail (uat) writes them.
Accounts never import the trail (the import contract), so an announcement nobody
receives would be a change without a trace: it is refused."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.services import api_token_issue
from accounts.signals import account_event
from uat.audit import account_event_record
from uat.models import Event

pytestmark = pytest.mark.django_db


def test_a_token_made_is_in_the_audit_trail_through_the_announcement(lead):
    token, _ = api_token_issue(user=lead, name="laptop", actor=lead)
    event = Event.objects.get(verb="apitoken.created")
    assert (event.actor, event.object_id) == (lead, str(token.pk))


def test_an_announcement_nobody_records_is_refused(lead):
    assert account_event.disconnect(dispatch_uid="greenlight-account-events")
    try:
        with pytest.raises(ImproperlyConfigured):
            api_token_issue(user=lead, name="laptop", actor=lead)
    finally:
        account_event.connect(account_event_record, dispatch_uid="greenlight-account-events")
    assert not lead.api_tokens.exists()
