"""Alpha cohorts take internal staff, beta cohorts external testers: one rule
(``Cohort.member_error``), and every way of putting someone in a cohort refuses the wrong
kind of person with its words."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Invitation
from tests.admin_support import admin_url, changeform_data
from tests.factories import CohortFactory, UserFactory
from uat.models import Cohort, CohortMembership
from uat.services import invitation_accept, invitation_problem, invitation_send

ALPHA_REFUSAL = "External testers cannot join an alpha cohort."
BETA_REFUSAL = "Only external testers can join a beta cohort."


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def lead_api(lead):
    api = APIClient()
    api.force_authenticate(user=lead)
    return api


def test_the_rule_says_who_each_kind_takes(tester, beta_tester):
    alpha, beta = CohortFactory.build(), CohortFactory.build(beta=True)
    assert (alpha.admits(tester), alpha.admits(beta_tester)) == (True, False)
    assert (beta.admits(tester), beta.admits(beta_tester)) == (False, True)
    assert alpha.member_error(beta_tester) == ALPHA_REFUSAL
    assert beta.member_error(tester) == BETA_REFUSAL
    assert Cohort.Kind.taking(external=True) == Cohort.Kind.BETA
    assert Cohort(kind="").member_error(tester) == ""  # the kind's own field says why


def _inline(client, cohort, user):
    url = admin_url(Cohort, "change", cohort.pk)
    data = changeform_data(
        client.get(url), **{"memberships-TOTAL_FORMS": "1", "memberships-0-user": str(user.pk)}
    )
    response = client.post(url, data)
    assert response.status_code == 200
    return response.context["inline_admin_formsets"][0].formset.errors[0]["user"]


def _membership_page(client, cohort, user):
    response = client.post(
        admin_url(CohortMembership, "add"), {"cohort": cohort.pk, "user": user.pk}
    )
    assert response.status_code == 200
    return response.context["adminform"].form.errors["user"]


def _api_create(api, cohort, user):
    response = api.post(
        reverse("cohort-list"),
        {"product": cohort.product_id, "name": "New", "kind": cohort.kind, "members": [user.pk]},
        format="json",
    )
    assert response.status_code == 400
    return response.json()["error"]["fields"]["members"]


def _api_update(api, cohort, user):
    response = api.patch(
        reverse("cohort-detail", args=[cohort.pk]), {"members": [user.pk]}, format="json"
    )
    assert response.status_code == 400
    return response.json()["error"]["fields"]["members"]


def _model_clean(client, cohort, user):
    with pytest.raises(ValidationError) as refused:
        CohortMembership(cohort=cohort, user=user).full_clean()
    return refused.value.message_dict["user"]


@pytest.mark.parametrize(
    "interface", [_inline, _membership_page, _api_create, _api_update, _model_clean]
)
@pytest.mark.parametrize("kind", ["alpha", "beta"])
def test_every_interface_refuses_the_wrong_kind_with_the_rules_words(
    interface, kind, lead_client, lead_api, tester, beta_tester
):
    cohort = CohortFactory(kind=kind)
    wrong = beta_tester if kind == "alpha" else tester
    client = lead_api if interface.__name__.startswith("_api") else lead_client
    errors = interface(client, cohort, wrong)
    words = cohort.member_error(wrong)
    assert words == (ALPHA_REFUSAL if kind == "alpha" else BETA_REFUSAL)
    assert [error.removeprefix(f"{wrong.email}: ") for error in errors] == [words]
    assert not CohortMembership.objects.exists()


def test_the_api_checks_the_members_held_when_only_the_kind_changes(lead_api, tester):
    cohort = CohortFactory(members=[tester])
    response = lead_api.patch(
        reverse("cohort-detail", args=[cohort.pk]), {"kind": "beta"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["members"] == [f"{tester.email}: {BETA_REFUSAL}"]
    cohort.refresh_from_db()
    assert cohort.kind == Cohort.Kind.ALPHA


def test_the_admin_checks_the_members_held_when_the_kind_changes(lead_client, tester):
    cohort = CohortFactory(members=[tester])
    url = admin_url(Cohort, "change", cohort.pk)
    response = lead_client.post(url, changeform_data(lead_client.get(url), kind="beta"))
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["user"] == [BETA_REFUSAL]


def test_an_invitation_into_an_alpha_cohort_is_refused_with_the_rule(lead):
    with pytest.raises(ValidationError) as refused:
        invitation_send(email="pat@example.org", cohort=CohortFactory(), actor=lead)
    assert refused.value.message_dict["cohort"][0].startswith(ALPHA_REFUSAL)
    assert not Invitation.objects.exists()


def test_an_invitation_whose_cohort_became_alpha_cannot_be_accepted(lead, monkeypatch):
    cohort = CohortFactory(beta=True)
    monkeypatch.setattr("uat.services.invitations.secrets.token_urlsafe", lambda n: "s3cret")
    invitation = invitation_send(email="pat@example.org", cohort=cohort, actor=lead)
    Cohort.objects.filter(pk=cohort.pk).update(kind=Cohort.Kind.ALPHA)
    invitation.refresh_from_db()
    assert invitation_problem(invitation).startswith(ALPHA_REFUSAL)
    with pytest.raises(ValidationError, match=ALPHA_REFUSAL):
        invitation_accept(secret="s3cret", full_name="Pat", password="a-long-pass-phrase-1")
    assert not CohortMembership.objects.exists()


def test_making_a_cohort_member_external_in_the_admin_is_refused(client, tester):
    admin = UserFactory(staff=True, is_superuser=True)
    client.force_login(admin)
    cohort = CohortFactory(name="Sales", members=[tester])
    url = admin_url(type(tester), "change", tester.pk)
    response = client.post(url, changeform_data(client.get(url), is_external="on"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["is_external"] == [
        f"{cohort.name}: {ALPHA_REFUSAL}"
    ]
    tester.refresh_from_db()
    assert not tester.is_external
