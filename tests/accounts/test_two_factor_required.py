"""Roles that must use two-factor (OTP_REQUIRED_ROLES), the API's tokens and sessions,
and an administrator's reset of a lost phone."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import services, two_factor
from accounts.models import Role
from config import settings as config_settings
from tests.admin_support import post_action, shown_messages
from tests.factories import (
    ApiTokenFactory,
    PlanSignoffRoleFactory,
    UserFactory,
    totp_code,
)
from tests.test_settings import manage
from uat.models import Event

pytestmark = pytest.mark.django_db

VERIFY_URL = reverse("accounts:two_factor_verify")
SETUP_URL = reverse("accounts:two_factor_setup")
INBOX_URL = reverse("uat:inbox")


@pytest.fixture(autouse=True)
def _leads_must(settings):
    settings.OTP_REQUIRED_ROLES = ["QA lead", "Admin"]
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def sign_in(client, user, password, url=None):
    return client.post(
        url or reverse("accounts:login"), {"username": user.email, "password": password}
    )


def enrol(client, user) -> None:
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP_URL, {"code": totp_code(device)})
    assert response.status_code == 302, response.text


def test_a_lead_without_two_factor_is_sent_to_set_it_up_and_sees_nothing_else(
    client, lead, password
):
    response = sign_in(client, lead, password)
    assert response.url == f"{SETUP_URL}?next=%2F"
    page = client.get(response.url)
    assert "Your role requires two-factor authentication" in page.text
    assert reverse("uat:defect_list") not in page.text  # no menu to pages it cannot open
    for url in (INBOX_URL, reverse("accounts:security"), "/admin/", reverse("reports:index")):
        assert client.get(url).url.startswith(SETUP_URL), url
    assert client.get(VERIFY_URL).url.startswith(SETUP_URL)
    assert client.get(reverse("api-root")).status_code in (401, 403)

    enrol(client, lead)
    assert client.get(INBOX_URL).status_code == 200
    assert client.get("/admin/").status_code == 200
    client.post(reverse("accounts:logout"))
    assert sign_in(client, lead, password).url == f"{VERIFY_URL}?next=%2F"


def test_the_admin_sign_in_also_sends_a_lead_to_set_it_up(client, lead, password):
    sign_in(client, lead, password, reverse("admin:login"))
    assert client.get("/admin/").url == f"{SETUP_URL}?next=/admin/"


def test_other_roles_stay_optional(client, tester, stakeholder, password):
    assert sign_in(client, tester, password).url == "/"
    assert client.get(INBOX_URL).status_code == 200
    client.post(reverse("accounts:logout"))
    assert sign_in(client, stakeholder, password).url == "/"


def test_superusers_count_as_admins(client, password):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    assert two_factor.is_required(superuser)
    assert sign_in(client, superuser, password).url.startswith(SETUP_URL)


def test_signers_are_those_named_on_a_plan_sign_off(settings, stakeholder, tester):
    settings.OTP_REQUIRED_ROLES = ["Signer"]
    assert not two_factor.is_required(stakeholder)
    PlanSignoffRoleFactory(signers=[stakeholder])
    assert two_factor.is_required(stakeholder)
    assert not two_factor.is_required(tester)
    settings.OTP_REQUIRED_ROLES = ["Stakeholder"]
    assert two_factor.is_required(stakeholder) and not two_factor.is_required(tester)


def test_a_new_requirement_reaches_sessions_already_signed_in(client, settings, lead):
    settings.OTP_REQUIRED_ROLES = []
    client.force_login(lead)
    assert client.get(INBOX_URL).status_code == 200
    settings.OTP_REQUIRED_ROLES = ["QA lead"]
    assert client.get(INBOX_URL).url.startswith(SETUP_URL)


def test_a_required_role_cannot_turn_it_off_but_can_move_it(client, lead, password):
    client.force_login(lead)
    enrol(client, lead)
    device = TOTPDevice.objects.get(user=lead)
    page = client.get(reverse("accounts:security")).text
    assert "Turn off two-factor" not in page and "Move to a new authenticator app" in page
    response = client.post(
        reverse("accounts:two_factor_disable"),
        {"disable-password": password, "disable-code": totp_code(device)},
    )
    assert response.status_code == 403 and "stays on" in response.text
    assert TOTPDevice.objects.filter(user=lead, confirmed=True).exists()
    checked = Event.objects.for_object(lead).filter(verb__in=services.CODE_VERBS)
    assert not checked.filter(after__purpose="disable").exists()  # no code was used up
    with pytest.raises(Exception, match="requires two-factor"):
        services.two_factor_disable(user=lead)

    client.get(SETUP_URL)
    new = TOTPDevice.objects.get(user=lead, confirmed=False)
    response = client.post(SETUP_URL, {"code": totp_code(new), "password": password})
    assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=lead)) == [new]


# ------------------------------------------------------------------------- the API


def test_api_tokens_of_machine_accounts_need_no_second_factor(settings):
    settings.OTP_REQUIRED_ROLES = ["QA lead", "Admin", "Release pipeline"]
    pipeline = UserFactory(roles=[Role.PIPELINE])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiTokenFactory(user=pipeline).secret}")
    assert client.get("/api/v1/releases/").status_code == 200  # what a pipeline reads


def test_a_persons_tokens_are_suspended_while_their_required_two_factor_is_not_set_up(lead):
    # A token is not the way around the second factor the web asks of this lead.
    for user in (lead, UserFactory(roles=[Role.PIPELINE, Role.QA_LEAD])):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {ApiTokenFactory(user=user).secret}")
        response = client.get(reverse("api-root"))
        assert response.status_code == 401
        assert "requires two-factor" in response.json()["error"]["message"]


def test_turning_two_factor_on_revokes_the_tokens_made_without_it(client, lead, password):
    old = ApiTokenFactory(user=lead)
    sign_in(client, lead, password)
    enrol(client, lead)
    old.refresh_from_db()
    assert old.revoked_at is not None
    revoked = Event.objects.for_object(old).get(verb="apitoken.revoked")
    assert revoked.after == {"why": "two-factor turned on"}
    new = ApiTokenFactory(user=lead)  # made after, from the verified session
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {new.secret}")
    assert api.get(reverse("api-root")).status_code == 200


def test_a_token_works_beside_a_session_that_owes_its_code(client, password):
    enrolled = UserFactory(roles=[Role.TESTER], two_factor=True)
    sign_in(client, enrolled, password)
    token = ApiTokenFactory(user=enrolled)
    assert client.get(reverse("api-root")).status_code in (401, 403)
    response = client.get(reverse("api-root"), HTTP_AUTHORIZATION=f"Token {token.secret}")
    assert response.status_code == 200


# ---------------------------------------------------------- resetting a lost phone


@pytest.fixture
def lost(db):
    return UserFactory(email="lost@example.com", roles=[Role.QA_LEAD], staff=True, two_factor=True)


def test_an_administrator_resets_a_lost_phone_in_the_admin(client, admin_user, lost, password):
    client.force_login(admin_user)
    enrol(client, admin_user)
    response = post_action(client, type(lost), "reset_two_factor", [lost])
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=lost).exists()
    event = Event.objects.for_object(lost).get(verb=services.TWO_FACTOR_RESET_VERB)
    assert event.actor == admin_user
    assert any("lost@example.com" in text for text in shown_messages(client.get(response.url)))
    # The lead signs in with the password and, since the role requires it, enrols again.
    client.post(reverse("accounts:logout"))
    assert sign_in(client, lost, password).url.startswith(SETUP_URL)


def test_the_user_list_shows_who_has_two_factor_and_leads_cannot_reset(client, lead, lost):
    client.force_login(lead)
    enrol(client, lead)
    changelist = client.get(reverse("admin:accounts_user_changelist"))
    assert changelist.status_code == 200
    actions = dict(changelist.context["action_form"].fields["action"].choices)
    assert "reset_two_factor" not in actions
    assert re.search(r'<td class="field-two_factor"><img [^>]*alt="True"', changelist.text)
    tester = UserFactory(roles=[Role.TESTER], two_factor=True)
    post_action(client, type(tester), "reset_two_factor", [tester])
    assert TOTPDevice.objects.filter(user=tester).exists()


def test_a_session_whose_device_was_reset_moves_on(client, tester, password):
    enrolled = UserFactory(roles=[Role.TESTER], two_factor=True)
    sign_in(client, enrolled, password)
    services.two_factor_reset(user=enrolled, actor=None)
    assert client.get(INBOX_URL).url.startswith(VERIFY_URL)
    assert client.get(VERIFY_URL).url == "/"
    assert client.get(INBOX_URL).status_code == 200


def test_the_reset_command(lost):
    out = io.StringIO()
    call_command("two_factor_reset", "LOST@example.com", stdout=out)
    assert "is reset" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=lost).exists()
    assert Event.objects.for_object(lost).filter(verb=services.TWO_FACTOR_RESET_VERB).exists()
    call_command("two_factor_reset", "lost@example.com", stdout=out)
    assert "no two-factor authentication to reset" in out.getvalue()
    with pytest.raises(CommandError, match="No account"):
        call_command("two_factor_reset", "nobody@example.com")


# ----------------------------------------------------------------------- settings


def test_required_roles_are_read_from_the_environment_whatever_their_case():
    script = "from django.conf import settings; print(settings.OTP_REQUIRED_ROLES)"
    result = manage("shell", "-c", script, OTP_REQUIRED_ROLES="qa lead, Stakeholder,signer")
    assert result.returncode == 0, result.stderr
    assert "['QA lead', 'Stakeholder', 'Signer']" in result.stdout


def test_an_unknown_required_role_is_a_clear_error():
    result = manage("check", OTP_REQUIRED_ROLES="QA lead,Managers")
    assert result.returncode != 0
    assert "OTP_REQUIRED_ROLES names unknown roles ['Managers']" in result.stderr


def test_the_role_names_the_setting_knows_are_the_roles(settings):
    assert set(config_settings._OTP_ROLE_NAMES.values()) == {*Role.values, settings.OTP_SIGNER}


# ------------------------------------------------------ signing with an API token


@pytest.fixture
def signable(db):
    from reports.fingerprint import plan_fingerprint
    from tests.factories import AcceptanceReportFactory, PlanFactory, PlanSignoffRoleFactory

    signer = UserFactory(full_name="Sid Signer", roles=[Role.STAKEHOLDER], two_factor=True)
    plan = PlanFactory()
    plan.stakeholders.add(signer)
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[signer])
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {ApiTokenFactory(user=signer).secret}")
    return signer, report, api


def sign_with_token(api, report, password, **extra):
    body = {"role": "business_owner", "decision": "approve", "password": password, **extra}
    return api.post(f"/api/v1/reports/{report.uuid}/signoffs/", body, format="json")


def test_signing_with_a_token_asks_the_code_the_page_asks_at_sign_in(signable, password):
    signer, report, api = signable
    response = sign_with_token(api, report, password)
    assert response.status_code == 400 and "code" in response.json()["error"]["fields"]
    response = sign_with_token(api, report, password, code="000000")
    assert response.status_code == 400 and "code" in response.json()["error"]["fields"]
    assert not report.signoffs.exists()
    device = TOTPDevice.objects.get(user=signer, confirmed=True)
    response = sign_with_token(api, report, password, code=totp_code(device))
    assert response.status_code == 201, response.json()
    event = Event.objects.for_object(signer).filter(verb=services.CODE_VERIFIED_VERB).first()
    assert event.after["purpose"] == "sign"


def test_signing_from_the_verified_browser_session_needs_no_second_code(signable, password):
    signer, report, _ = signable
    api = APIClient()
    api.force_authenticate(signer)  # a session that passed its code step
    assert sign_with_token(api, report, password).status_code == 201
