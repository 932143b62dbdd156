"""Nobody signs as someone else: who may name the signers of a plan's required sign-offs
(administrators and the release's owner), who may be named (active internal
stakeholders, never the person naming them), the audit event and emails of every change,
on every interface that changes them — the plan's inline, the sign-off role admin, the
API, a plan clone and the demo data."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role, User
from tests.admin_support import admin_url, changeform_data
from tests.factories import (
    PASSWORD,
    PlanFactory,
    PlanSignoffRoleFactory,
    ReleaseFactory,
    UserFactory,
)
from uat import policy
from uat.models import Event, Plan, PlanSignoffRole
from uat.services import plan_clone, signoff_role_configure, signoff_role_remove

pytestmark = pytest.mark.django_db

VERB = "plan.signers_changed"


@pytest.fixture
def plan(stakeholder):
    plan = PlanFactory()
    plan.stakeholders.add(stakeholder)
    return plan


@pytest.fixture
def colleague(db):
    """A second stakeholder, who may be named a signer."""
    return UserFactory(email="cfo@example.com", full_name="Cara Finance", roles=[Role.STAKEHOLDER])


def inline_data(client, plan, **changes) -> dict:
    page = client.get(admin_url(Plan, "change", plan.pk))
    return changeform_data(page, **changes)


def new_inline_row(role: str, signers) -> dict:
    return {
        "signoff_roles-TOTAL_FORMS": "1",
        "signoff_roles-INITIAL_FORMS": "0",
        "signoff_roles-0-role": role,
        "signoff_roles-0-signers": [str(user.pk) for user in signers],
    }


# ----------------------------------------------------------------------- the forgery


def test_a_lead_cannot_forge_the_business_owners_sign_off(client, lead, stakeholder, plan):
    """The forgery of issue #14: a QA lead makes a look-alike "Robert Chen" with a
    password of their choosing, names it the Business Owner's only signer and signs as
    it. Every step is refused now: the account cannot be a stakeholder, the lead names
    no signers anywhere, and the look-alike holds nothing to sign."""
    client.force_login(lead)
    stakeholder_group = Group.objects.get(name=Role.STAKEHOLDER.value)
    add = client.post(
        admin_url(User, "add"),
        {
            "email": "robert.chen@example.net",
            "full_name": "Robert Chen",
            "is_external": "",
            "usable_password": "true",
            "password1": "lookalike-pass-1",
            "password2": "lookalike-pass-1",
            "groups": [str(stakeholder_group.pk)],
        },
    )
    assert add.status_code == 200  # the Stakeholder role is not the lead's to give
    assert not User.objects.filter(email="robert.chen@example.net").exists()
    lookalike = UserFactory(email="robert.chen@example.net", full_name="Robert Chen")

    # The plan's inline: offered read-only, and a forged row is not saved.
    data = inline_data(client, plan, **new_inline_row("business_owner", [lookalike]))
    client.post(admin_url(Plan, "change", plan.pk), data)
    # The sign-off role admin: no adding for a lead who owns no release.
    page = client.post(
        admin_url(PlanSignoffRole, "add"),
        {"plan": plan.pk, "role": "business_owner", "signers": [lookalike.pk]},
    )
    assert page.status_code == 403
    # The API.
    api = APIClient()
    api.force_authenticate(lead)
    answer = api.post(
        reverse("plan-signers", args=[plan.pk]),
        {"role": "business_owner", "signers": [lookalike.pk]},
        format="json",
    )
    assert answer.status_code == 403
    # The service itself.
    with pytest.raises(PermissionDenied, match="administrator or the release's owner"):
        signoff_role_configure(plan=plan, role="business_owner", signers=[lookalike], actor=lead)

    assert not PlanSignoffRole.objects.filter(plan=plan).exists()
    assert not policy.can_sign(lookalike, plan, "business_owner")
    assert not Event.objects.filter(verb=VERB).exists()


def test_even_the_release_owner_names_only_active_internal_stakeholders(lead, plan):
    plan.release.owner = lead
    plan.release.save()
    lookalike = UserFactory(full_name="Robert Chen", roles=[Role.TESTER])
    external = UserFactory(external=True, roles=[Role.STAKEHOLDER])
    gone = UserFactory(is_active=False, roles=[Role.STAKEHOLDER])
    lead.groups.add(Group.objects.get(name=Role.STAKEHOLDER.value))
    lead = User.objects.get(pk=lead.pk)  # roles read afresh
    for signer, words in (
        (lookalike, "does not hold the Stakeholder role"),
        (external, "external tester"),
        (gone, "not an active account"),
        (lead, "cannot name yourself"),
    ):
        with pytest.raises(ValidationError, match=words):
            signoff_role_configure(plan=plan, role="business_owner", signers=[signer], actor=lead)
    assert not PlanSignoffRole.objects.filter(plan=plan).exists()


def test_the_release_owner_names_signers_of_their_release_only(lead, stakeholder, plan):
    other = PlanFactory()
    plan.release.owner = lead
    plan.release.save()
    signoff_role_configure(plan=plan, role="business_owner", signers=[stakeholder], actor=lead)
    assert policy.can_configure_signoffs(lead, plan)
    assert not policy.can_configure_signoffs(lead, other)
    with pytest.raises(PermissionDenied):
        signoff_role_configure(plan=other, role="business_owner", signers=[stakeholder], actor=lead)


# ------------------------------------------------------------------- audit and email


def test_every_change_is_audited_and_emailed_to_the_signers_before_and_after(
    admin_user, stakeholder, colleague, plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signoff_role_configure(
            plan=plan, role="business_owner", signers=[stakeholder], actor=admin_user
        )
    assert [message.to for message in mail.outbox] == [["owner@example.com"]]
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        required = signoff_role_configure(
            plan=plan, role="business_owner", signers=[colleague], actor=admin_user
        )
    assert (required.configured_by, required.configured_at is not None) == (admin_user, True)
    event = Event.objects.filter(verb=VERB).latest("created_at")
    assert event.actor == admin_user and event.release == plan.release
    assert event.before == {"role": "business_owner", "signers": ["owner@example.com"]}
    assert event.after == {
        "role": "business_owner",
        "signers": ["cfo@example.com"],
        "configured_by": "admin@example.com",
    }
    assert sorted(message.to[0] for message in mail.outbox) == [
        "cfo@example.com",
        "owner@example.com",
    ]
    body = mail.outbox[0].body
    assert "Ada Admin changed who signs as Business Owner" in body
    assert "Before: Olive Owner" in body and "Now: Cara Finance" in body

    # Naming the same signers again is no change: no event, no email.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        signoff_role_configure(
            plan=plan, role="business_owner", signers=[colleague], actor=admin_user
        )
    assert Event.objects.filter(verb=VERB).count() == 2 and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        signoff_role_remove(required=required, actor=admin_user)
    assert not PlanSignoffRole.objects.filter(plan=plan).exists()
    removed = Event.objects.filter(verb=VERB).latest("created_at")
    assert removed.after["removed"] is True and removed.before["signers"] == ["cfo@example.com"]
    assert [message.to for message in mail.outbox] == [["cfo@example.com"]]


# ---------------------------------------------------------------- the admin and API


def test_the_plan_inline_names_signers_through_the_service(
    client, admin_user, stakeholder, plan, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    data = inline_data(client, plan, **new_inline_row("business_owner", [stakeholder]))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(admin_url(Plan, "change", plan.pk), data)
    assert response.status_code == 302, response.content[:2000]
    required = PlanSignoffRole.objects.get(plan=plan)
    assert list(required.signers.all()) == [stakeholder]
    assert required.configured_by == admin_user
    assert Event.objects.filter(verb=VERB, actor=admin_user).count() == 1
    assert [message.to for message in mail.outbox] == [["owner@example.com"]]


def test_the_plan_inline_refuses_a_signer_on_the_form(client, admin_user, plan):
    client.force_login(admin_user)
    lookalike = UserFactory(full_name="Robert Chen")
    data = inline_data(client, plan, **new_inline_row("business_owner", [lookalike]))
    response = client.post(admin_url(Plan, "change", plan.pk), data)
    assert response.status_code == 200
    assert "does not hold the Stakeholder role" in response.content.decode()
    assert not PlanSignoffRole.objects.filter(plan=plan).exists()


def test_the_plan_inline_is_read_only_for_a_lead_who_does_not_own_the_release(
    client, lead, stakeholder, plan
):
    required = PlanSignoffRoleFactory(plan=plan, signers=[stakeholder])
    client.force_login(lead)
    data = inline_data(client, plan)
    data.update({"signoff_roles-0-DELETE": "on", "signoff_roles-0-id": str(required.pk)})
    client.post(admin_url(Plan, "change", plan.pk), data)
    assert PlanSignoffRole.objects.filter(pk=required.pk).exists()
    assert not Event.objects.filter(verb=VERB).exists()


def test_the_signoff_role_admin_goes_through_the_service(
    client, admin_user, stakeholder, colleague, plan
):
    client.force_login(admin_user)
    lookalike = UserFactory(full_name="Robert Chen")
    url = admin_url(PlanSignoffRole, "add")
    refused = client.post(
        url, {"plan": plan.pk, "role": "business_owner", "signers": [lookalike.pk]}
    )
    assert refused.status_code == 200
    assert "does not hold the Stakeholder role" in refused.content.decode()
    added = client.post(
        url, {"plan": plan.pk, "role": "business_owner", "signers": [stakeholder.pk]}
    )
    assert added.status_code == 302
    required = PlanSignoffRole.objects.get(plan=plan)
    changed = client.post(
        admin_url(PlanSignoffRole, "change", required.pk), {"signers": [colleague.pk]}
    )
    assert changed.status_code == 302
    assert list(required.signers.all()) == [colleague]
    assert Event.objects.filter(verb=VERB).count() == 2
    client.post(admin_url(PlanSignoffRole, "delete", required.pk), {"post": "yes"})
    assert not PlanSignoffRole.objects.filter(plan=plan).exists()
    assert Event.objects.filter(verb=VERB).count() == 3


def test_a_lead_sees_the_release_owner_read_only(client, lead, admin_user):
    release = ReleaseFactory()
    client.force_login(lead)
    page = client.get(admin_url(release._meta.model, "change", release.pk))
    assert "owner" not in page.context["adminform"].form.fields
    client.force_login(admin_user)
    page = client.get(admin_url(release._meta.model, "change", release.pk))
    assert "owner" in page.context["adminform"].form.fields


def test_the_api_names_signers_for_the_owner_and_refuses_bad_ones(lead, stakeholder, plan):
    plan.release.owner = lead
    plan.release.save()
    api = APIClient()
    api.force_authenticate(lead)
    url = reverse("plan-signers", args=[plan.pk])
    lookalike = UserFactory(full_name="Robert Chen")
    refused = api.post(url, {"role": "business_owner", "signers": [lookalike.pk]}, format="json")
    assert refused.status_code == 400
    assert "Stakeholder role" in str(refused.json())
    named = api.post(url, {"role": "business_owner", "signers": [stakeholder.pk]}, format="json")
    assert named.status_code == 200, named.content
    assert named.json()["signers"] == [stakeholder.pk]
    assert named.json()["configured_by"] == lead.pk
    removed = api.post(url, {"role": "business_owner", "remove": True}, format="json")
    assert removed.status_code == 204
    assert not PlanSignoffRole.objects.filter(plan=plan).exists()
    # The release's owner is not for the API to set.
    answer = api.patch(
        reverse("release-detail", args=[plan.release.pk]), {"owner": None}, format="json"
    )
    plan.release.refresh_from_db()
    assert answer.status_code in (200, 403) and plan.release.owner == lead


# ---------------------------------------------------------------------------- clone


def test_a_clone_by_a_lead_keeps_the_roles_but_not_their_signers(lead, stakeholder, plan):
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    clone = plan_clone(plan=plan, release=ReleaseFactory(product=plan.release.product), actor=lead)
    required = clone.signoff_roles.get()
    assert required.role == "business_owner" and not required.signers.exists()
    assert not Event.objects.filter(verb=VERB).exists()


def test_a_clone_by_an_administrator_names_the_signers_through_the_service(
    admin_user, stakeholder, plan
):
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    release = ReleaseFactory(product=plan.release.product)
    clone = plan_clone(plan=plan, release=release, actor=admin_user)
    required = clone.signoff_roles.get()
    assert list(required.signers.all()) == [stakeholder]
    assert required.configured_by == admin_user
    assert Event.objects.filter(verb=VERB, release=release).count() == 1


def test_signing_as_a_signer_is_for_the_named_only(stakeholder, plan):
    """The password of the factories' users is PASSWORD; a look-alike with it holds
    nothing to sign."""
    lookalike = UserFactory(full_name=stakeholder.full_name)
    assert lookalike.check_password(PASSWORD)
    assert not policy.signable_roles(lookalike, plan).exists()


def test_a_signer_who_no_longer_may_be_named_cannot_sign(password):
    """Named before the rule (or since stripped of the Stakeholder role, deactivated or
    made external): the name on the role is not enough to sign."""
    from django.core.exceptions import PermissionDenied

    from reports.fingerprint import plan_fingerprint
    from reports.signoffs import signoff_sign
    from tests.factories import AcceptanceReportFactory, PlanFactory, PlanSignoffRoleFactory
    from uat.policy import can_sign

    plain = UserFactory(full_name="Robert Chen")  # no Stakeholder role
    plan = PlanFactory()
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[plain])
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    assert not can_sign(plain, plan, "business_owner")
    with pytest.raises(PermissionDenied, match="Stakeholder role"):
        signoff_sign(
            report=report,
            signer=plain,
            role="business_owner",
            decision="approve",
            password=password,
        )
    assert not report.signoffs.exists()
