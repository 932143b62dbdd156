"""API tokens: stored hashed, shown once, revocable, and accepted by the API."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.authentication import ApiTokenAuthentication
from accounts.models import ApiToken
from tests.admin_support import shown_messages
from tests.factories import ApiTokenFactory
from uat.models import Event

pytestmark = pytest.mark.django_db


def test_only_the_hash_of_the_secret_is_stored(tester):
    token, secret = ApiToken.issue(user=tester, name="laptop")
    assert secret.startswith("glt_")
    assert secret not in {token.key_hash, token.key_prefix}
    assert ApiToken.find(secret) == token
    assert ApiToken.find(secret + "x") is None


def test_a_revoked_token_or_inactive_user_is_refused(tester):
    token = ApiTokenFactory(user=tester)
    assert ApiToken.find(token.secret) == token
    tester.is_active = False
    tester.save()
    assert ApiToken.find(token.secret) is None
    tester.is_active = True
    tester.save()
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert ApiToken.find(token.secret) is None


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_the_api_accepts_a_token_and_records_its_use(tester, scheme):
    token = ApiTokenFactory(user=tester)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token.secret}")
    response = client.get(reverse("api-root"))
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_bad_token_gets_401_with_a_reason():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token glt_nope")
    response = client.get(reverse("api-root"))
    assert response.status_code == 401
    assert "not valid" in response.json()["error"]["message"]
    assert ApiTokenAuthentication().authenticate_header(None) == "Token"


def test_a_lead_makes_a_token_in_the_admin_and_sees_the_secret_once(client, lead, tester):
    client.force_login(lead)
    response = client.post(
        reverse("admin:accounts_apitoken_add"), {"user": tester.pk, "name": "deploy"}, follow=True
    )
    assert response.status_code == 200
    [message] = [m for m in shown_messages(response) if "glt_" in m]
    secret = message.split(": ", 1)[1].split(" ")[0]
    token = ApiToken.objects.get()
    assert ApiToken.find(secret) == token
    assert token.created_by == lead
    assert Event.objects.get(verb="apitoken.created").object_id == str(token.pk)


def test_a_lead_revokes_tokens_in_the_admin(client, lead, tester):
    token = ApiTokenFactory(user=tester)
    client.force_login(lead)
    client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Event.objects.filter(verb="apitoken.revoked").exists()
