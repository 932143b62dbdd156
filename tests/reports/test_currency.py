"""One currency rule: a report is current while it is the newest ready report of its plan
and the plan's data still has its fingerprint. Every interface gives the same answer —
the signing page, the report page, the dashboard, the API, the evidence package and the
gate — including when the data comes back to an older report's fingerprint; and asking
for a report always gives one that can be signed."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from reports.currency import CURRENT, STALE, report_stale_reason, report_state
from reports.evidence_packages import evidence_package_build_now
from reports.fingerprint import plan_fingerprint
from reports.gate import gate_evaluate
from reports.models import EvidencePackage, SignOff
from reports.services import report_build, report_request
from reports.signoffs import signoff_sign
from tests.conftest import triggers_off
from tests.factories import DefectFactory, PlanFactory, PlanSignoffRoleFactory
from uat.models import Release, Waiver
from uat.services import waiver_grant, waiver_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(stakeholder):
    """A beta plan of a release in beta with one open defect and one required signer."""
    plan = PlanFactory(beta=True, release__stage=Release.Stage.BETA)
    plan.stakeholders.add(stakeholder)
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    DefectFactory(release=plan.release, severity="minor")
    return plan


def built(plan, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        report, created = report_request(plan=plan, actor=lead)
    if created:
        report = report_build(report_id=report.pk)
    return report


def waive(plan, stakeholder, days: int = 3):
    return waiver_grant(
        defect=plan.release.defects.get(),
        actor=stakeholder,
        reason="Known, accepted",
        expires_at=timezone.now() + dt.timedelta(days=days),
    )


def sign(report, stakeholder, password):
    # The plan's report says No-go (criteria fail): approving it is confirmed explicitly
    # (issue 15: approving a No-go report asks for a confirmation).
    return signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
        confirm_no_go=report.decision == "no-go",
    )


@pytest.fixture
def back_to_old(plan, lead, stakeholder, password, django_capture_on_commit_callbacks):
    """R1 built and signed; a waiver granted and R2 built; the waiver revoked, so the
    plan's fingerprint is R1's again, while R2 is the newest report."""
    r1 = built(plan, lead, django_capture_on_commit_callbacks)
    signoff = sign(r1, stakeholder, password)
    waiver = waive(plan, stakeholder)
    r2 = built(plan, lead, django_capture_on_commit_callbacks)
    assert r2.pk != r1.pk
    waiver_revoke(waiver=waiver, actor=stakeholder)
    assert plan_fingerprint(plan) == r1.fingerprint != r2.fingerprint
    return r1, r2, signoff


def test_an_older_report_whose_fingerprint_comes_back_is_stale_everywhere(
    back_to_old, client, lead, stakeholder
):
    r1, _r2, signoff = back_to_old
    assert report_state(r1) == STALE
    assert report_stale_reason(r1).startswith("A newer report")
    # The signing page.
    client.force_login(stakeholder)
    page = client.get(reverse("reports:report_sign", args=[r1.uuid])).content.decode()
    assert "Stale" in page or "stale" in page
    # The API's report detail.
    api = APIClient()
    api.force_authenticate(lead)
    body = api.get(reverse("report-detail", args=[r1.uuid])).json()
    assert body["stale"] is True
    # The API's sign-off list.
    body = api.get(reverse("signoff-detail", args=[signoff.pk])).json()
    assert body["state"] == STALE


def test_the_evidence_package_calls_an_older_report_and_its_signatures_stale(back_to_old, lead):
    r1, r2, _ = back_to_old
    package = EvidencePackage.objects.create(release=r1.plan.release, requested_by=lead)
    package = evidence_package_build_now(package_id=package.pk)
    with package.file.open("rb") as stream, zipfile.ZipFile(io.BytesIO(stream.read())) as zipped:
        r1_data = json.loads(zipped.read(f"reports/{r1.uuid}.json"))
        r2_data = json.loads(zipped.read(f"reports/{r2.uuid}.json"))
        signoffs = zipped.read("signoffs.csv").decode()
    assert r1_data["fresh"] is False
    # R2 is the newest, but the data moved on since it (the waiver was revoked).
    assert r2_data["fresh"] is False
    assert signoffs.strip().splitlines()[1].endswith(STALE)


def test_signing_an_older_report_is_refused_even_when_its_fingerprint_came_back(
    back_to_old, stakeholder, password
):
    r1, _, _ = back_to_old
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="newer report"):
        sign(r1, stakeholder, password)


def test_asking_again_after_a_waiver_expired_gives_a_report_that_can_be_signed(
    plan, lead, stakeholder, password, django_capture_on_commit_callbacks
):
    before = built(plan, lead, django_capture_on_commit_callbacks)
    waiver = waive(plan, stakeholder)
    during = built(plan, lead, django_capture_on_commit_callbacks)
    sign(during, stakeholder, password)
    # The waiver expires: the plan's data is the pre-waiver data again. (Time would
    # do it; the database refuses anyone else changing a waiver's expiry.)
    with triggers_off():
        Waiver.objects.filter(pk=waiver.pk).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    assert plan_fingerprint(plan) == before.fingerprint
    assert gate_evaluate(release=plan.release, stage="production").decision == "inconclusive"
    after = built(plan, lead, django_capture_on_commit_callbacks)
    assert after.pk not in (before.pk, during.pk)
    assert report_state(after) == CURRENT
    sign(after, stakeholder, password)
    assert SignOff.objects.filter(report=after).count() == 1


def test_asking_while_the_newest_report_is_current_gives_it_back(
    plan, lead, django_capture_on_commit_callbacks
):
    first = built(plan, lead, django_capture_on_commit_callbacks)
    again, created = report_request(plan=plan, actor=lead)
    assert (again.pk, created) == (first.pk, False)


def test_a_build_queued_before_the_newest_report_is_not_handed_out(
    plan, lead, stakeholder, django_capture_on_commit_callbacks
):
    """A pending report left behind (its task lost) on data the plan came back to must
    not be handed out: once built it would be older than the newest ready report."""
    with django_capture_on_commit_callbacks(execute=False):
        lost, _ = report_request(plan=plan, actor=lead)
    waiver = waive(plan, stakeholder)
    built(plan, lead, django_capture_on_commit_callbacks)
    waiver_revoke(waiver=waiver, actor=stakeholder)
    assert plan_fingerprint(plan) == lost.fingerprint
    with django_capture_on_commit_callbacks(execute=False):
        fresh, created = report_request(plan=plan, actor=lead)
    assert created and fresh.pk != lost.pk


@pytest.mark.parametrize("where", ["dashboard", "report", "sign", "api", "gate"])
def test_every_interface_agrees_on_the_newest_report_after_a_change(
    where, plan, lead, stakeholder, client, django_capture_on_commit_callbacks
):
    report = built(plan, lead, django_capture_on_commit_callbacks)
    waive(plan, stakeholder)  # the data changes after the report
    assert report_state(report) == STALE
    client.force_login(stakeholder)
    if where == "dashboard":
        page = client.get(reverse("reports:dashboard", args=[plan.pk])).content.decode()
        assert "stale" in page.lower()
    elif where == "report":
        page = client.get(reverse("reports:report", args=[report.uuid])).content.decode()
        assert "stale" in page.lower()
    elif where == "sign":
        page = client.get(reverse("reports:report_sign", args=[report.uuid])).content.decode()
        assert "stale" in page.lower()
    elif where == "api":
        api = APIClient()
        api.force_authenticate(lead)
        assert api.get(reverse("report-detail", args=[report.uuid])).json()["stale"] is True
    else:
        decision = gate_evaluate(release=plan.release, stage="production")
        assert decision.decision == "inconclusive" and "stale" in decision.reasons[0]
