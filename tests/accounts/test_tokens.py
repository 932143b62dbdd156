"""API tokens: stored hashed, shown once, revocable, and accepted by the API."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.authentication import ApiTokenAuthentication
from accounts.models import ApiToken, Role
from accounts.services import api_token_issue, api_token_revoke
from tests.admin_support import shown_messages
from tests.factories import ApiTokenFactory, UserFactory
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


def make_in_admin(client, actor, owner, name="deploy"):
    client.force_login(actor)
    return client.post(
        reverse("admin:accounts_apitoken_add"), {"user": owner.pk, "name": name}, follow=True
    )


@pytest.fixture
def machine(db):
    return UserFactory(email="deploy-bot@example.com", roles=[Role.PIPELINE])


def test_an_administrator_makes_a_machine_accounts_token_and_sees_the_secret_once(
    client, admin_user, machine, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = make_in_admin(client, admin_user, machine)
    assert response.status_code == 200
    [message] = [m for m in shown_messages(response) if "glt_" in m]
    secret = message.split(": ", 1)[1].split(" ")[0]
    token = ApiToken.objects.get()
    assert ApiToken.find(secret) == token
    assert (token.user, token.created_by) == (machine, admin_user)
    assert Event.objects.get(verb="apitoken.created").object_id == str(token.pk)
    [email] = mailoutbox
    assert email.to == [machine.email] and "deploy" in email.subject
    assert "Ada Admin" in email.body and secret not in email.body


def test_a_lead_makes_their_own_token_in_the_admin_and_is_emailed(
    client, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_in_admin(client, lead, lead, name="laptop")
    assert ApiToken.objects.get().user == lead
    assert [email.to for email in mailoutbox] == [[lead.email]]


# A token acts as its owner: a lead who could mint one for a stakeholder, another lead or
# the superuser could waive, sign or administer as them.
@pytest.mark.parametrize("victim", ["stakeholder", "admin_user", "other_lead", "tester", "machine"])
def test_a_lead_makes_no_token_for_anyone_else(request, client, lead, victim, mailoutbox):
    if victim == "other_lead":
        owner = UserFactory(roles=[Role.QA_LEAD], staff=True)
    else:
        owner = request.getfixturevalue(victim)
    response = make_in_admin(client, lead, owner)
    assert "Select a valid choice" in response.text
    assert not ApiToken.objects.exists() and not mailoutbox
    with pytest.raises(PermissionDenied):
        api_token_issue(user=owner, name="x", actor=lead)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("victim", ["stakeholder", "lead", "tester"])
def test_an_administrator_makes_no_token_for_a_person(request, client, admin_user, victim):
    owner = request.getfixturevalue(victim)
    assert "Select a valid choice" in make_in_admin(client, admin_user, owner).text
    with pytest.raises(PermissionDenied):
        api_token_issue(user=owner, name="x", actor=admin_user)
    assert not ApiToken.objects.exists()


def test_an_account_with_a_persons_role_besides_the_pipeline_is_no_machine(admin_user):
    person = UserFactory(roles=[Role.PIPELINE, Role.STAKEHOLDER])
    with pytest.raises(PermissionDenied):
        api_token_issue(user=person, name="x", actor=admin_user)


def test_the_token_list_shows_others_tokens_only_to_administrators(client, lead, machine):
    theirs = ApiTokenFactory(user=machine, name="their pipeline")
    ApiTokenFactory(user=lead, name="my laptop")
    client.force_login(lead)
    page = client.get(reverse("admin:accounts_apitoken_changelist")).text
    assert "my laptop" in page and "their pipeline" not in page
    url = reverse("admin:accounts_apitoken_change", args=[theirs.pk])
    assert client.get(url).status_code == 302  # the admin's answer to an object not shown


def test_a_lead_revokes_their_own_tokens_in_the_admin(client, lead, tester):
    token = ApiTokenFactory(user=lead)
    others = ApiTokenFactory(user=tester)
    client.force_login(lead)
    client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk, others.pk]},
    )
    token.refresh_from_db()
    others.refresh_from_db()
    assert token.revoked_at is not None and others.revoked_at is None
    assert Event.objects.filter(verb="apitoken.revoked").count() == 1
    with pytest.raises(PermissionDenied):
        api_token_revoke(token=others, actor=lead)


def test_an_administrator_revokes_anyones_token(admin_user, tester):
    token = ApiTokenFactory(user=tester)
    assert api_token_revoke(token=token, actor=admin_user)
    assert not api_token_revoke(token=token, actor=admin_user)  # already revoked


def test_a_failing_mail_server_does_not_cost_the_secret(
    client, lead, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    import smtplib

    def refuse(**kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("accounts.services.email_send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = make_in_admin(client, lead, lead, name="laptop")
    assert response.status_code == 200
    assert [m for m in shown_messages(response) if "glt_" in m]
    assert ApiToken.objects.get().user == lead
