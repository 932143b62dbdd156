"""Electronic signatures: re-authentication, authority, meaning, binding to the report's
fingerprint, immutability and lockout; and waivers."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from reports.fingerprint import plan_fingerprint
from reports.models import SignOff
from reports.signoffs import SigningLocked, signoff_sign
from tests.factories import (
    AcceptanceReportFactory,
    DefectFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    WaiverFactory,
)
from uat.models import Event
from uat.services import waiver_grant, waiver_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(stakeholder):
    plan = PlanFactory()
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    return AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))


def sign(report, signer, password, **kwargs):
    kwargs = {"role": "business_owner", "decision": "approve", **kwargs}
    return signoff_sign(report=report, signer=signer, password=password, **kwargs)


def test_a_signature_records_name_time_meaning_and_fingerprint(report, stakeholder, password):
    signoff = sign(report, stakeholder, password, comment="Looks good")
    assert signoff.printed_name == "Olive Owner"
    assert signoff.meaning == "Approved as Business Owner"
    assert signoff.fingerprint == report.fingerprint
    assert signoff.signed_at.tzinfo is not None
    event = Event.objects.get(verb="signoff.recorded")
    assert event.after["meaning"] == "Approved as Business Owner"
    assert event.release == report.plan.release


def test_a_rejection_needs_a_reason_and_says_so(report, stakeholder, password):
    with pytest.raises(ValidationError, match="Say why"):
        sign(report, stakeholder, password, decision="reject")
    signoff = sign(report, stakeholder, password, decision="reject", reason="Exports lose data")
    assert signoff.meaning == "Rejected as Business Owner"


def test_a_wrong_password_is_refused_and_audited(report, stakeholder):
    with pytest.raises(ValidationError, match="password is not correct"):
        sign(report, stakeholder, "guess")
    assert not SignOff.objects.exists()
    assert Event.objects.filter(verb="signoff.password_refused", actor=stakeholder).count() == 1


def test_repeated_failures_lock_signing(report, stakeholder, password, settings):
    settings.SIGNING_MAX_FAILURES = 3
    for _ in range(3):
        with pytest.raises(ValidationError):
            sign(report, stakeholder, "guess")
    with pytest.raises(SigningLocked, match="locked"):
        sign(report, stakeholder, password)
    assert not SignOff.objects.exists()


def test_only_a_holder_of_the_role_signs_for_it(report, lead, password):
    with pytest.raises(PermissionDenied, match="do not hold"):
        sign(report, lead, password)
    with pytest.raises(ValidationError, match="does not require"):
        sign(report, lead, password, role="compliance")


def test_a_stale_report_cannot_be_signed(report, stakeholder, password):
    plan = report.plan
    plan.min_pass_rate = 50
    plan.save()
    with pytest.raises(ValidationError, match="Request a new report"):
        sign(report, stakeholder, password)


def test_only_the_newest_ready_report_is_signed(report, stakeholder, password):
    AcceptanceReportFactory(plan=report.plan, ready=True, fingerprint=report.fingerprint)
    with pytest.raises(ValidationError, match="newer report"):
        sign(report, stakeholder, password)


def test_a_report_still_building_cannot_be_signed(stakeholder, password, report):
    report.status = "running"
    report.save()
    with pytest.raises(ValidationError, match="ready report"):
        sign(report, stakeholder, password)


def test_a_signature_cannot_move_to_another_report(report, stakeholder, password):
    signoff = sign(report, stakeholder, password)
    signoff.report = AcceptanceReportFactory(ready=True)
    with pytest.raises(ValidationError):
        signoff.save()


def staked(defect, stakeholder):
    """``defect``, its release one ``stakeholder`` holds a stake in (who may waive)."""
    PlanFactory(release=defect.release).stakeholders.add(stakeholder)
    return defect


class TestWaivers:
    def test_a_waiver_is_granted_with_reason_and_expiry_and_audited(self, stakeholder):
        defect = staked(DefectFactory(critical=True), stakeholder)
        waiver = waiver_grant(
            defect=defect,
            actor=stakeholder,
            reason="Workaround documented",
            expires_at=timezone.now() + dt.timedelta(days=7),
        )
        assert waiver.release == defect.release
        assert waiver.is_active
        assert Event.objects.get(verb="waiver.granted").actor == stakeholder

    def test_refuses_closed_defects_past_expiry_and_no_reason(self, stakeholder):
        with pytest.raises(ValidationError) as refused:
            waiver_grant(
                defect=staked(DefectFactory(closed=True), stakeholder),
                actor=stakeholder,
                reason=" ",
                expires_at=timezone.now() - dt.timedelta(days=1),
            )
        assert set(refused.value.message_dict) == {"defect", "reason", "expires_at"}

    def test_one_active_waiver_per_defect(self, stakeholder):
        waiver = WaiverFactory()
        staked(waiver.defect, stakeholder)
        with pytest.raises(ValidationError, match="already has"):
            waiver_grant(
                defect=waiver.defect,
                actor=stakeholder,
                reason="again",
                expires_at=timezone.now() + dt.timedelta(days=1),
            )

    def test_revoking_ends_it_and_is_audited(self, stakeholder):
        waiver = WaiverFactory()
        staked(waiver.defect, stakeholder)
        waiver = waiver_revoke(waiver=waiver, actor=stakeholder)
        assert not waiver.is_active
        assert Event.objects.filter(verb="waiver.revoked").exists()
        with pytest.raises(ValidationError):
            waiver_revoke(waiver=waiver, actor=stakeholder)

    def test_only_a_stakeholder_of_the_release_waives(self, stakeholder, lead, tester):
        defect = DefectFactory(critical=True)
        for actor in (stakeholder, lead, tester):  # stakeholder of another release only
            with pytest.raises(PermissionDenied):
                waiver_grant(
                    defect=defect,
                    actor=actor,
                    reason="Known",
                    expires_at=timezone.now() + dt.timedelta(days=1),
                )


def test_a_signature_announces_itself_and_refreshes_the_gate(report, stakeholder, password):
    from reports.models import GateState, WebhookDelivery
    from tests.factories import WebhookFactory

    WebhookFactory(product=report.plan.release.product, topics=["signoff.recorded"])
    sign(report, stakeholder, password)
    delivery = WebhookDelivery.objects.get()
    assert delivery.topic == "signoff.recorded"
    assert GateState.objects.filter(release=report.plan.release).exists()
