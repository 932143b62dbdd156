"""The gate and promotion over the API, as a release pipeline calls them."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Role, User
from reports.models import Promotion
from tests.admin_support import shown_messages
from tests.factories import (
    ApiTokenFactory,
    CaseFactory,
    DefectFactory,
    ExecutionFactory,
    UserFactory,
    WebhookFactory,
)
from tests.reports.gate_support import (
    FAILED_PASS_RATE,
    approved,
    fresh_report,
    plan_with_signers,
    release_in,
)
from uat.models import Defect, Event, Execution, Plan, Release, SignoffRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(db):
    return UserFactory(email="deploy@example.com", full_name="Deploy bot", roles=[Role.PIPELINE])


@pytest.fixture
def machine(pipeline):
    """An API client authenticated as the pipeline, with its token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiTokenFactory(user=pipeline).secret}")
    return client


@pytest.fixture
def release():
    return release_in("alpha")


@pytest.fixture
def plan(release):
    return plan_with_signers(release)


def gate_url(release, stage="beta") -> str:
    return reverse("release-gate", args=[release.pk]) + f"?stage={stage}"


def promote_url(release) -> str:
    return reverse("release-promote", args=[release.pk])


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---------------------------------------------------------------------------- the gate


def test_a_pipeline_reads_the_gate_with_its_token(machine, plan):
    report = approved(plan)
    response = machine.get(gate_url(plan.release))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "release",
        "stage",
        "decision",
        "reasons",
        "report",
        "signoffs",
        "evaluated_at",
    }
    assert body["decision"] == "go"
    assert body["stage"] == "beta"
    assert body["reasons"] == []
    assert body["release"] == {
        "id": plan.release.pk,
        "product": plan.release.product.slug,
        "version": plan.release.version,
        "kind": "normal",
        "stage": "alpha",
    }
    assert body["report"]["uuid"] == str(report.uuid)
    assert body["report"]["fresh"] is True
    assert body["signoffs"][0]["status"] == "approved"


def test_the_gate_gives_its_reasons_in_plain_words(machine, plan):
    fresh_report(plan, decision="no-go", criteria=[FAILED_PASS_RATE])
    body = machine.get(gate_url(plan.release)).json()
    assert body["decision"] == "no-go"
    assert body["reasons"] == [
        "Criterion failed: Overall pass rate (actual 80.00, needed 95.00).",
        "Missing sign-off: Business Owner.",
    ]


def test_no_report_is_inconclusive_over_the_api(machine, plan):
    body = machine.get(gate_url(plan.release)).json()
    assert body["decision"] == "inconclusive"
    assert body["report"] is None


@pytest.mark.parametrize("query", ["", "?stage=alpha", "?stage=nowhere"])
def test_the_stage_must_be_beta_or_production(machine, release, query):
    response = machine.get(reverse("release-gate", args=[release.pk]) + query)
    assert response.status_code == 400
    assert "stage" in response.json()["error"]["fields"]


def test_a_hotfix_has_no_beta_gate_over_the_api(machine):
    hotfix = release_in("alpha", hotfix=True)
    response = machine.get(gate_url(hotfix, "beta"))
    assert response.status_code == 400
    assert "no beta gate" in response.json()["error"]["fields"]["stage"][0]
    assert machine.get(gate_url(hotfix, "production")).status_code == 200


def test_leads_and_the_releases_stakeholders_read_the_gate(plan, lead, stakeholder):
    plan.stakeholders.add(stakeholder)
    for user in (lead, stakeholder, plan.signers["business_owner"]):
        assert as_user(user).get(gate_url(plan.release)).status_code == 200, user


@pytest.mark.parametrize("person", ["outsider", "tester", "beta_tester", "stakeholder"])
def test_strangers_to_the_release_get_404(request, plan, person):
    client = as_user(request.getfixturevalue(person))
    assert client.get(gate_url(plan.release)).status_code == 404
    assert (
        client.post(promote_url(plan.release), {"stage": "beta", "build": "b1"}).status_code == 404
    )


def test_without_credentials_or_with_a_revoked_token_there_is_no_answer(pipeline, plan):
    client = APIClient()
    assert client.get(gate_url(plan.release)).status_code == 401
    token = ApiTokenFactory(user=pipeline)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.secret}")
    assert client.get(gate_url(plan.release)).status_code == 401


def test_reading_the_gate_announces_a_change(machine, plan):
    hook = WebhookFactory(product=plan.release.product, topics=["gate.changed"])
    machine.get(gate_url(plan.release))
    assert not hook.deliveries.exists()
    approved(plan)
    machine.get(gate_url(plan.release))
    machine.get(gate_url(plan.release))
    assert [d.payload["decision"] for d in hook.deliveries.all()] == ["go"]


def _bigger_release():
    roles = [SignoffRole.BUSINESS_OWNER, SignoffRole.COMPLIANCE, SignoffRole.PRODUCT_OWNER]
    plan = plan_with_signers(release_in("alpha"), roles=roles)
    plan.cases.add(*CaseFactory.create_batch(3, product=plan.release.product))
    approved(plan)
    return plan.release


def test_the_gate_answers_in_a_fixed_number_of_queries(
    machine, plan, warm_caches, django_assert_num_queries
):
    approved(plan)
    bigger = _bigger_release()
    for release in (plan.release, bigger):
        machine.get(gate_url(release))  # the first answer records the gate's state
    # The token and its user, the pipeline's roles, the release, the gate's 5, and the
    # gate's last state.
    for release in (plan.release, bigger):
        with django_assert_num_queries(9):
            assert machine.get(gate_url(release)).json()["decision"] == "go"


def test_the_schema_documents_the_gate_and_promotion(machine, lead):
    response = as_user(lead).get(reverse("schema"), {"format": "json"})
    paths = response.json()["paths"]
    gate = paths["/api/v1/releases/{id}/gate/"]["get"]
    assert {"200", "400", "404"} <= set(gate["responses"])
    promote = paths["/api/v1/releases/{id}/promote/"]["post"]
    assert {"201", "400", "403", "404", "409"} <= set(promote["responses"])


# ---------------------------------------------------------------------------- promotion


def test_a_go_promotes_records_and_audits(machine, pipeline, plan):
    report = approved(plan)
    response = machine.post(promote_url(plan.release), {"stage": "beta", "build": "2.4.0-rc1"})
    assert response.status_code == 201, response.json()
    promotion = Promotion.objects.get()
    assert response.json()["id"] == promotion.pk
    assert (promotion.from_stage, promotion.to_stage, promotion.build) == (
        "alpha",
        "beta",
        "2.4.0-rc1",
    )
    assert promotion.promoted_by == pipeline
    assert promotion.report == report
    assert promotion.decision["decision"] == "go"
    plan.release.refresh_from_db()
    assert plan.release.stage == "beta"
    assert plan.release.released_at is None
    event = Event.objects.get(verb="release.promoted")
    assert event.actor == pipeline
    assert event.before == {"stage": "alpha"}
    assert event.after["stage"] == "beta"
    assert event.after["build"] == "2.4.0-rc1"


def test_promoting_to_production_releases_it(machine, lead):
    release = release_in("beta")
    approved(plan_with_signers(release, stage="beta"))
    response = as_user(lead).post(promote_url(release), {"stage": "production", "build": "b7"})
    assert response.status_code == 201
    release.refresh_from_db()
    assert release.stage == "production"
    assert release.released_at == Promotion.objects.get().created_at


def test_a_closed_gate_refuses_with_409_and_the_reasons(machine, plan):
    fresh_report(plan)
    response = machine.post(promote_url(plan.release), {"stage": "beta", "build": "b1"})
    assert response.status_code == 409
    body = response.json()["error"]
    assert body["code"] == "gate_closed"
    assert body["decision"]["decision"] == "no-go"
    assert body["decision"]["reasons"] == ["Missing sign-off: Business Owner."]
    assert "no-go" in body["message"]
    assert not Promotion.objects.exists()
    plan.release.refresh_from_db()
    assert plan.release.stage == "alpha"
    assert not Event.objects.filter(verb="release.promoted").exists()


def test_an_inconclusive_gate_refuses_too(machine, plan):
    response = machine.post(promote_url(plan.release), {"stage": "beta", "build": "b1"})
    assert response.status_code == 409
    assert response.json()["error"]["decision"]["decision"] == "inconclusive"


def test_a_stage_that_is_not_next_is_400(machine, plan):
    approved(plan_with_signers(plan.release, stage="beta"))
    response = machine.post(promote_url(plan.release), {"stage": "production", "build": "b1"})
    assert response.status_code == 400
    assert "it can move to beta, not production" in response.json()["error"]["fields"]["stage"][0]


@pytest.mark.parametrize("data", [{"stage": "beta"}, {"stage": "beta", "build": "  "}])
def test_a_build_is_required(machine, plan, data):
    approved(plan)
    response = machine.post(promote_url(plan.release), data)
    assert response.status_code == 400
    assert "build" in response.json()["error"]["fields"]


def test_promoting_needs_the_permission(plan, stakeholder):
    plan.stakeholders.add(stakeholder)
    approved(plan)
    response = as_user(stakeholder).post(promote_url(plan.release), {"stage": "beta", "build": "1"})
    assert response.status_code == 403
    assert not Promotion.objects.exists()


def test_a_promotion_announces_the_gates_that_moved(machine, plan):
    hook = WebhookFactory(product=plan.release.product, topics=["gate.changed"])
    approved(plan)
    approved(plan_with_signers(plan.release, stage="beta"))
    machine.get(gate_url(plan.release, "production"))  # inconclusive: still in alpha
    machine.post(promote_url(plan.release), {"stage": "beta", "build": "b1"})
    changes = {(d.payload["stage"], d.payload["decision"]) for d in hook.deliveries.all()}
    assert ("production", "go") in changes


# ---------------------------------------------------------------------------- accounts


def test_a_lead_makes_a_machine_account_and_an_administrator_its_token(
    client, lead, admin_user, plan
):
    client.force_login(lead)
    pipeline_role = Group.objects.get(name=Role.PIPELINE.value)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "deploy@example.com",
            "full_name": "Deploy pipeline",
            "usable_password": "false",
            "groups": [pipeline_role.pk],
        },
    )
    assert response.status_code == 302
    account = User.objects.get(email="deploy@example.com")
    assert not account.has_usable_password()
    token = {"user": account.pk, "name": "GitHub Actions"}
    # A token acts as its owner: only an administrator makes one for another account.
    response = client.post(reverse("admin:accounts_apitoken_add"), token)
    assert response.status_code == 200 and "Select a valid choice" in response.text
    client.force_login(admin_user)
    response = client.post(reverse("admin:accounts_apitoken_add"), token, follow=True)
    [message] = [m for m in shown_messages(response) if "glt_" in m]
    secret = message.split(": ", 1)[1].split(" ")[0]

    approved(plan)
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert machine.get(gate_url(plan.release)).json()["decision"] == "go"
    response = machine.post(promote_url(plan.release), {"stage": "beta", "build": "b1"})
    assert response.status_code == 201


def test_a_pipeline_reads_every_release_but_no_plan_report_or_test_work(pipeline):
    execution = ExecutionFactory()
    DefectFactory(release=execution.plan.release)
    assert set(Release.objects.visible_to(pipeline)) == set(Release.objects.all())
    assert not Release.objects.with_results_for(pipeline).exists()
    assert not Plan.objects.visible_to(pipeline).exists()
    assert not Execution.objects.visible_to(pipeline).exists()
    assert not Defect.objects.visible_to(pipeline).exists()
    assert not pipeline.has_perm("uat.change_release")
    assert pipeline.has_perm("reports.add_promotion")
    assert not pipeline.has_perm("reports.view_acceptancereport")
    assert not pipeline.has_perm("uat.view_plan")
