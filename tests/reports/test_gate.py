"""The gate: every outcome, the stage it reads its evidence from, and its changes."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from reports.gate import gate_check, gate_evaluate, gate_record, gate_refresh
from reports.models import GateState, WebhookDelivery
from tests.factories import (
    AcceptanceReportFactory,
    CaseFactory,
    PlanFactory,
    UserFactory,
    WebhookFactory,
)
from uat.models import SignoffRole

from .gate_support import (
    FAILED_PASS_RATE,
    approved,
    fresh_report,
    plan_with_signers,
    release_in,
    sign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def release():
    """A normal release in alpha: its beta gate reads the alpha plan."""
    return release_in("alpha")


@pytest.fixture
def plan(release):
    return plan_with_signers(release)


def beta_gate(release):
    return gate_evaluate(release=release, stage="beta")


# ---------------------------------------------------------------------------- outcomes


def test_no_plan_is_inconclusive(release):
    gate = beta_gate(release)
    assert gate.decision == "inconclusive"
    assert "no alpha plan" in gate.reasons[0]
    assert gate.report is None


def test_no_report_is_inconclusive(plan):
    gate = beta_gate(plan.release)
    assert gate.decision == "inconclusive"
    assert gate.reasons == ["No acceptance report has been built for the alpha plan; ask for one."]
    assert not gate.building


@pytest.mark.parametrize("status", ["pending", "running"])
def test_a_report_being_built_is_inconclusive(plan, status):
    approved(plan)
    report = AcceptanceReportFactory(plan=plan, status=status)
    gate = beta_gate(plan.release)
    assert gate.decision == "inconclusive"
    assert "still being built" in gate.reasons[0]
    assert gate.building
    assert gate.report == report


def test_a_failed_report_is_inconclusive_and_says_why(plan):
    approved(plan)
    AcceptanceReportFactory(plan=plan, status="failed", error="PDF renderer crashed\nTraceback")
    gate = beta_gate(plan.release)
    assert gate.decision == "inconclusive"
    assert "failed to build (PDF renderer crashed)" in gate.reasons[0]
    assert not gate.building


def test_a_stale_report_is_inconclusive_even_when_it_said_go(plan):
    approved(plan)
    plan.min_pass_rate = 80
    plan.save()
    gate = beta_gate(plan.release)
    assert gate.decision == "inconclusive"
    assert "stale" in gate.reasons[0]
    assert gate.as_dict()["report"]["fresh"] is False


def test_a_failing_criterion_is_no_go_with_the_criterion_named(plan):
    report = fresh_report(plan, decision="no-go", criteria=[FAILED_PASS_RATE])
    approved(plan, report)
    gate = beta_gate(plan.release)
    assert gate.decision == "no-go"
    assert gate.reasons == ["Criterion failed: Overall pass rate (actual 80.00, needed 95.00)."]


def test_a_no_go_report_without_criteria_details_is_still_no_go(plan):
    approved(plan, fresh_report(plan, decision="no-go"))
    gate = beta_gate(plan.release)
    assert gate.decision == "no-go"
    assert gate.reasons == ["The acceptance report's decision is no-go."]


def test_a_rejection_is_no_go_with_the_signers_reason(plan):
    report = fresh_report(plan)
    sign(report, plan.signers["business_owner"], decision="reject")
    gate = beta_gate(plan.release)
    assert gate.decision == "no-go"
    [reason] = gate.reasons
    assert reason.startswith("Rejected by ")
    assert reason.endswith("as Business Owner: The invoice totals are wrong.")
    assert gate.signoffs[0]["status"] == "rejected"


def test_a_missing_signoff_is_no_go(release):
    plan = plan_with_signers(release, roles=[SignoffRole.BUSINESS_OWNER, SignoffRole.COMPLIANCE])
    report = fresh_report(plan)
    sign(report, plan.signers["business_owner"])
    gate = beta_gate(release)
    assert gate.decision == "no-go"
    assert gate.reasons == ["Missing sign-off: Compliance."]
    assert [(s["role"], s["status"]) for s in gate.signoffs] == [
        ("business_owner", "approved"),
        ("compliance", "missing"),
    ]


def test_a_stale_signoff_does_not_count(plan):
    report = fresh_report(plan)
    sign(report, plan.signers["business_owner"], fingerprint="0" * 64)
    gate = beta_gate(plan.release)
    assert gate.decision == "no-go"
    assert "Missing sign-off: Business Owner" in gate.reasons[0]
    assert "stale" in gate.reasons[0]


def test_a_signoff_by_someone_without_the_role_does_not_count(plan):
    report = fresh_report(plan)
    sign(report, UserFactory(full_name="Pat Passerby"))
    gate = beta_gate(plan.release)
    assert gate.decision == "no-go"
    assert gate.reasons == [
        "Missing sign-off: Business Owner; Pat Passerby is not a named signer for this role."
    ]


def test_a_role_without_signers_can_never_be_given(release):
    plan = PlanFactory(release=release)
    plan.signoff_roles.create(role=SignoffRole.COMPLIANCE)
    fresh_report(plan)
    gate = beta_gate(release)
    assert gate.reasons == ["Missing sign-off: Compliance (no signers are named for this role)."]


def test_a_signoff_on_an_older_report_does_not_count(plan):
    approved(plan)
    fresh_report(plan)  # built again since: nobody signed this one yet
    assert beta_gate(plan.release).decision == "no-go"


def test_a_fresh_go_report_approved_by_every_required_signer_is_go(plan):
    report = approved(plan)
    gate = beta_gate(plan.release)
    assert gate.decision == "go"
    assert gate.reasons == []
    assert gate.report == report
    assert gate.signoffs[0]["status"] == "approved"
    assert gate.signoffs[0]["signer"] == plan.signers["business_owner"].email


def test_a_plan_requiring_no_signoffs_goes_on_a_fresh_go_report(release):
    fresh_report(PlanFactory(release=release))
    assert beta_gate(release).decision == "go"


@pytest.mark.parametrize(
    ("decisions", "expected"), [(["approve", "reject"], "no-go"), (["reject", "approve"], "go")]
)
def test_the_latest_signoff_of_a_role_decides(plan, decisions, expected):
    # Two signers of the role: one signs a report once per role (a constraint holds it).
    second = UserFactory(roles=[Role.STAKEHOLDER])
    plan.signoff_roles.get(role="business_owner").signers.add(second)
    report = fresh_report(plan)
    for signer, decision in zip((plan.signers["business_owner"], second), decisions, strict=True):
        sign(report, signer, decision=decision)
    assert beta_gate(plan.release).decision == expected


def test_every_reason_is_listed(release):
    roles = [SignoffRole.BUSINESS_OWNER, SignoffRole.COMPLIANCE]
    plan = plan_with_signers(release, roles=roles)
    report = fresh_report(plan, decision="no-go", criteria=[FAILED_PASS_RATE])
    sign(report, plan.signers["business_owner"], decision="reject")
    gate = beta_gate(release)
    assert gate.decision == "no-go"
    assert len(gate.reasons) == 3


# ---------------------------------------------------------------------------- stages


def test_production_reads_the_beta_plan_of_a_normal_release():
    release = release_in("beta")
    approved(plan_with_signers(release, stage="alpha"))
    assert gate_evaluate(release=release, stage="production").decision == "inconclusive"
    approved(plan_with_signers(release, stage="beta"))
    assert gate_evaluate(release=release, stage="production").decision == "go"


def test_a_hotfix_goes_to_production_on_its_alpha_plan():
    release = release_in("alpha", hotfix=True)
    approved(plan_with_signers(release, stage="alpha"))
    assert gate_evaluate(release=release, stage="production").decision == "go"


def test_a_hotfix_has_no_beta_gate():
    release = release_in("alpha", hotfix=True)
    with pytest.raises(ValidationError, match="no beta gate"):
        gate_evaluate(release=release, stage="beta")


@pytest.mark.parametrize("stage", ["alpha", "planning", "staging"])
def test_only_beta_and_production_have_gates(release, stage):
    with pytest.raises(ValidationError, match="beta or production"):
        gate_evaluate(release=release, stage=stage)


def test_a_release_not_yet_at_the_previous_stage_is_inconclusive():
    release = release_in("planning")
    approved(plan_with_signers(release, stage="alpha"))
    gate = beta_gate(release)
    assert gate.decision == "inconclusive"
    assert gate.reasons == [
        f"{release} is in planning; it moves to alpha next, so it cannot go to beta yet."
    ]


def test_a_release_already_past_the_stage_still_reads_its_evidence():
    release = release_in("production")
    approved(plan_with_signers(release, stage="beta"))
    assert gate_evaluate(release=release, stage="production").decision == "go"


def test_the_latest_report_counts(plan):
    approved(plan)
    AcceptanceReportFactory(plan=plan, status="pending")
    assert beta_gate(plan.release).decision == "inconclusive"


# ---------------------------------------------------------------------------- cost


def _queries(release) -> int:
    with CaptureQueriesContext(connection) as captured:
        gate_evaluate(release=release, stage="beta")
    return len(captured)


def test_evaluation_costs_a_fixed_number_of_queries(release):
    roles = [SignoffRole.BUSINESS_OWNER, SignoffRole.COMPLIANCE, SignoffRole.PRODUCT_OWNER]
    plan = plan_with_signers(release, roles=roles[:1])
    approved(plan)
    small = _queries(release)
    # The latest report with its plan, the 3 of the report's fingerprint (which name
    # the required roles and their signers), and the sign-offs on the report.
    assert small == 5

    bigger = plan_with_signers(release_in("alpha"), roles=roles)
    bigger.cases.add(*CaseFactory.create_batch(3, product=bigger.release.product))
    report = approved(bigger)
    for role, signer in bigger.signers.items():
        if role != SignoffRole.BUSINESS_OWNER:  # signed once already, by approved()
            sign(report, signer, role=SignoffRole.BUSINESS_OWNER)
    assert _queries(bigger.release) == small


# ---------------------------------------------------------------------------- changes


@pytest.fixture
def hook(release):
    return WebhookFactory(product=release.product, topics=["gate.changed"])


def test_a_first_inconclusive_decision_is_recorded_quietly(plan, hook):
    assert not gate_record(beta_gate(plan.release))
    assert GateState.objects.get(release=plan.release, stage="beta").decision == "inconclusive"
    assert not WebhookDelivery.objects.exists()


def test_a_change_is_announced_once(plan, hook):
    gate_check(release=plan.release, stage="beta")
    approved(plan)
    first = gate_check(release=plan.release, stage="beta")
    gate_check(release=plan.release, stage="beta")
    delivery = WebhookDelivery.objects.get()
    assert delivery.topic == "gate.changed"
    assert delivery.payload["decision"] == "go"
    assert delivery.payload["previous_decision"] == "inconclusive"
    assert delivery.payload["release"]["id"] == plan.release.pk
    assert delivery.payload["stage"] == "beta"
    assert first.decision == "go"
    state = GateState.objects.get(release=plan.release, stage="beta")
    assert (state.decision, state.report) == ("go", first.report)


def test_a_first_definite_decision_is_announced(plan, hook):
    approved(plan)
    assert gate_record(beta_gate(plan.release))
    assert WebhookDelivery.objects.get().payload["previous_decision"] is None


def test_refresh_evaluates_both_gates_of_a_normal_release_and_one_of_a_hotfix(plan):
    decisions = gate_refresh(release=plan.release)
    assert [d.stage for d in decisions] == ["beta", "production"]
    hotfix = release_in("alpha", hotfix=True)
    assert [d.stage for d in gate_refresh(release=hotfix)] == ["production"]
    assert GateState.objects.count() == 3


def test_a_webhook_of_another_product_or_topic_hears_nothing(plan):
    WebhookFactory(topics=["gate.changed"])
    WebhookFactory(product=plan.release.product, topics=["report.ready"])
    everything = WebhookFactory(product=None, topics=[])
    approved(plan)
    gate_check(release=plan.release, stage="beta")
    assert [d.webhook for d in WebhookDelivery.objects.all()] == [everything]
