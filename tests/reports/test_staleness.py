"""Staleness: every kind of change makes a sign-off stale — in the UI, the API and the
gate — and its signers are told once that a new report is needed."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from reports import tasks
from reports.currency import CURRENT, STALE, signoff_states
from reports.fingerprint import plan_fingerprint, plans_fingerprints
from reports.gate import gate_evaluate
from reports.models import EmailDelivery
from reports.signoffs import signoff_sign
from tests.factories import (
    AcceptanceReportFactory,
    CaseFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    WaiverFactory,
)
from uat.models import Release
from uat.services import waiver_grant, waiver_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def signed(stakeholder, password):
    """A go report of a beta plan of a release in beta, approved by its one signer."""
    plan = PlanFactory(beta=True, release__stage=Release.Stage.BETA)
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    report = AcceptanceReportFactory(
        plan=plan, ready=True, decision="go", criteria=[], fingerprint=plan_fingerprint(plan)
    )
    return signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
    )


def state(signoff) -> str:
    return signoff_states([signoff])[signoff.pk]


def change_result(plan, **_):
    ExecutionFactory(plan=plan, passed=True)


def change_defect(plan, **_):
    DefectFactory(release=plan.release)


def change_criteria(plan, **_):
    plan.min_pass_rate = 99
    plan.save()


def change_scope(plan, **_):
    plan.cases.add(CaseFactory(product=plan.release.product))


def change_waiver(plan, stakeholder):
    waiver_grant(
        defect=DefectFactory(release=plan.release),
        actor=stakeholder,
        reason="Known",
        expires_at=timezone.now() + dt.timedelta(days=3),
    )


def newer_report(plan, **_):
    AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))


@pytest.mark.parametrize(
    "change",
    [change_result, change_defect, change_criteria, change_scope, change_waiver, newer_report],
)
def test_each_kind_of_change_makes_the_signoff_stale_everywhere(
    signed, stakeholder, change, client, api_client
):
    plan = signed.report.plan
    assert state(signed) == CURRENT
    assert gate_evaluate(release=plan.release, stage="production").decision == "go"
    change(plan, stakeholder=stakeholder)
    assert state(signed) == STALE
    gate = gate_evaluate(release=plan.release, stage="production")
    assert gate.decision != "go"
    api_client.force_authenticate(stakeholder)
    [row] = api_client.get("/api/v1/signoffs/").json()["results"]
    assert row["state"] == "stale"
    client.force_login(stakeholder)
    page = client.get(f"/reports/{signed.report.uuid}/").content.decode()
    assert "Stale" in page


def test_a_waiver_expiring_makes_the_signoff_stale(stakeholder, password):
    plan = PlanFactory()
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    waiver = WaiverFactory(
        defect__release=plan.release,
        release=plan.release,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    signoff = signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
    )
    assert state(signoff) == CURRENT
    later = timezone.now() + dt.timedelta(hours=2)
    assert plan_fingerprint(plan, at=later) != report.fingerprint
    waiver_revoke(waiver=waiver, actor=stakeholder)
    assert state(signoff) == STALE


def test_the_batched_fingerprint_matches_the_single_one():
    plans = [PlanFactory() for _ in range(3)]
    ExecutionFactory(plan=plans[0], passed=True)
    DefectFactory(release=plans[1].release).executions.add(ExecutionFactory(plan=plans[1]))
    WaiverFactory(defect__release=plans[2].release, release=plans[2].release)
    PlanSignoffRoleFactory(plan=plans[2], signers=[])
    plans[0].cases.add(CaseFactory(product=plans[0].release.product))
    assert plans_fingerprints([p.pk for p in plans]) == {p.pk: plan_fingerprint(p) for p in plans}


def test_the_batched_fingerprint_costs_three_queries(django_assert_num_queries):
    plans = [PlanFactory() for _ in range(4)]
    with django_assert_num_queries(3):
        plans_fingerprints([p.pk for p in plans])


class TestNotices:
    def test_signers_are_told_once_per_report(self, signed, stakeholder):
        assert tasks.stale_signoffs_task.apply().get() == 0
        change_criteria(signed.report.plan)
        assert tasks.stale_signoffs_task.apply().get() == 1
        [message] = mail.outbox
        assert message.to == [stakeholder.email]
        assert "stale" in message.subject and "A new report is needed" in message.body
        assert "Approved as Business Owner" in message.body and "[stale]" in message.body
        assert "Stale" in message.alternatives[0][0]
        delivery = EmailDelivery.objects.get(kind=EmailDelivery.Kind.STALE)
        assert delivery.report == signed.report and delivery.status == "sent"
        # Run again, or after more changes: nothing more for this report.
        change_defect(signed.report.plan)
        assert tasks.stale_signoffs_task.apply().get() == 0
        assert len(mail.outbox) == 1

    def test_a_signer_who_signed_the_newer_report_is_not_told(self, signed, stakeholder, password):
        plan = signed.report.plan
        newer = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
        signoff_sign(
            report=newer,
            signer=stakeholder,
            role="business_owner",
            decision="approve",
            password=password,
        )
        assert tasks.stale_signoffs_task.apply().get() == 0
        assert mail.outbox == []

    def test_the_beat_runs_it(self, settings):
        entry = settings.CELERY_BEAT_SCHEDULE["stale-signoff-notices"]
        assert entry["task"] == "reports.tasks.stale_signoffs_task"
