"""Electronic signatures on acceptance reports.

Modelled on what 21 CFR Part 11 asks of an electronic signature: it names the signer as
printed, carries the date and time with the time zone and the meaning of the signature,
is bound to the record it signs (the report's fingerprint), needs the signer to re-enter
their password, and can never be edited or moved afterwards.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from uat.audit import event_record
from uat.models import Event, PlanSignoffRole
from uat.policy import named_roles, sign_refusal, signable_roles

from .currency import (
    CURRENT,
    newest_ready_reports,
    report_stale_reason,
    report_states,
    signers_changed_reason,
)
from .gate import gate_refresh
from .models import AcceptanceReport, SignOff
from .webhooks import signoff_recorded_payload, webhook_emit

WRONG_PASSWORD_VERB = "signoff.password_refused"  # noqa: S105 - an audit verb


class SigningLocked(PermissionDenied):
    """Too many wrong passwords: signing is locked for a while."""


class AlreadySigned(ValidationError):
    """The signer already signed this report for this role (a double click, or two
    requests at once): ``signoff`` is the signature that stands."""

    def __init__(self, signoff: SignOff):
        self.signoff = signoff
        super().__init__(
            f"You already signed this report as {signoff.get_role_display()}: "
            f"{signoff.meaning}, {timezone.localtime(signoff.signed_at):%d %B %Y, %H:%M %Z}."
        )


def signing_locked_until(user) -> dt.datetime | None:
    """When the user may sign again, if repeated wrong passwords locked signing now."""
    window = dt.timedelta(minutes=settings.SIGNING_LOCKOUT_MINUTES)
    since = timezone.now() - window
    last_success = (
        Event.objects.filter(actor=user, verb="signoff.recorded", created_at__gte=since)
        .values_list("created_at", flat=True)
        .first()
    )
    failures = list(
        Event.objects.filter(
            actor=user, verb=WRONG_PASSWORD_VERB, created_at__gte=last_success or since
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: settings.SIGNING_MAX_FAILURES]
    )
    if len(failures) < settings.SIGNING_MAX_FAILURES:
        return None
    return failures[0] + window


def _check_authority(*, report, signer, role: str) -> PlanSignoffRole:
    required = (
        PlanSignoffRole.objects.select_related("configured_by")
        .filter(plan_id=report.plan_id, role=role)
        .first()
    )
    if required is None:
        raise ValidationError({"role": "This plan does not require that sign-off."})
    if not named_roles(signer, report.plan).filter(role=role).exists():
        raise PermissionDenied(
            f"You do not hold the {required.get_role_display()} sign-off for this plan."
        )
    # Named, but no longer someone who may sign, or the one who named the signers.
    if refusal := sign_refusal(signer, required):
        raise PermissionDenied(refusal)
    if reason := signers_changed_reason(report, required):
        raise ValidationError(reason)
    return required


def _existing(*, report, signer, role: str) -> SignOff | None:
    return SignOff.objects.filter(report=report, signer=signer, role=role).first()


def _check_report(report) -> None:
    if report.status != AcceptanceReport.Status.READY:
        raise ValidationError("Only a ready report can be signed.")
    if reason := report_stale_reason(report):
        raise ValidationError(reason)


def signoff_sign(
    *,
    report,
    signer,
    role: str,
    decision: str,
    password: str,
    reason: str = "",
    comment: str = "",
    confirm_no_go: bool = False,
) -> SignOff:
    """Sign ``report`` for ``role``. Approving a report whose decision is No-go takes
    ``confirm_no_go``: the signer says explicitly that they approve despite it. The
    signer re-enters their password; a wrong one is refused and audited, and repeated
    failures lock signing for a while. Refused to whoever configured the role, and for
    a role whose signers changed after the report was built; signing again what one
    signed already raises ``AlreadySigned`` with the signature that stands (never a
    second row)."""
    locked_until = signing_locked_until(signer)
    if locked_until is not None:
        raise SigningLocked(
            "Signing is locked after repeated wrong passwords. Try again after "
            f"{timezone.localtime(locked_until):%H:%M %Z}."
        )
    if not signer.check_password(password):
        # Recorded in its own transaction: the refusal must stay in the audit trail.
        with transaction.atomic():
            event_record(
                actor=signer,
                verb=WRONG_PASSWORD_VERB,
                obj=report,
                after={"role": role},
                release=report.plan.release,
            )
        raise ValidationError({"password": "That password is not correct."})
    return _signoff_record(
        report=report,
        signer=signer,
        role=role,
        decision=decision,
        reason=reason,
        comment=comment,
        confirm_no_go=confirm_no_go,
    )


NO_GO_UNCONFIRMED = (
    "This report's decision is No-go: it fails acceptance criteria. To approve it all the "
    "same, confirm that you accept the release despite them."
)


@transaction.atomic
def _signoff_record(*, report, signer, role, decision, reason, comment, confirm_no_go):
    if decision not in SignOff.Decision.values:
        raise ValidationError({"decision": "Choose approve or reject."})
    if (
        decision == SignOff.Decision.APPROVE
        and report.decision == AcceptanceReport.Decision.NO_GO
        and not confirm_no_go
    ):
        raise ValidationError({"confirm_no_go": NO_GO_UNCONFIRMED})
    if decision == SignOff.Decision.REJECT and not reason.strip():
        raise ValidationError({"reason": "Say why you reject the release."})
    if not signer.full_name.strip():
        raise ValidationError("Your account has no full name to print on the signature.")
    required = _check_authority(report=report, signer=signer, role=role)
    _check_report(report)
    if existing := _existing(report=report, signer=signer, role=role):
        raise AlreadySigned(existing)
    try:
        # A savepoint: a second request at once hits the constraint, not a 500.
        with transaction.atomic():
            signoff = SignOff.objects.create(
                report=report,
                signer=signer,
                role=role,
                printed_name=signer.full_name.strip(),
                meaning=required.meaning_of(decision),
                decision=decision,
                reason=reason.strip(),
                comment=comment.strip(),
                fingerprint=report.fingerprint,
                signed_at=timezone.now(),
            )
    except IntegrityError:
        if existing := _existing(report=report, signer=signer, role=role):
            raise AlreadySigned(existing) from None
        raise
    event_record(
        actor=signer,
        verb="signoff.recorded",
        obj=signoff,
        after={
            "report": str(report.uuid),
            "role": role,
            "decision": decision,
            "meaning": signoff.meaning,
            "fingerprint": signoff.fingerprint,
        },
        release=report.plan.release,
    )
    webhook_emit(
        topic="signoff.recorded",
        payload=signoff_recorded_payload(signoff),
        product=report.plan.release.product,
    )
    # A sign-off can open (or close) the gate: announce the change.
    gate_refresh(release=report.plan.release)
    return signoff


# ------------------------------------------------------------------ still to sign


def _left_to_sign(reports, *, roles, states, signed) -> dict[int, list[PlanSignoffRole]]:
    """Of ``reports``, the current ones (``states``, from ``reports.currency``), each
    with the ``roles`` of its plan not yet ``signed`` ((report id, role) pairs) and not
    renamed since it was built; reports with nothing left are left out."""
    left = {}
    for report in reports:
        if states.get(report.pk) != CURRENT:
            continue
        owed = [
            role
            for role in roles
            if role.plan_id == report.plan_id
            and (report.pk, role.role) not in signed
            and not signers_changed_reason(report, role)
        ]
        if owed:
            left[report.pk] = owed
    return left


def roles_left_to_sign(user, report, *, states: dict, signoffs) -> list[PlanSignoffRole]:
    """The required roles ``user`` may still sign on ``report``: those ``uat.policy``
    lets them sign, on a report that is current (``states``, from ``reports.currency``),
    not signed by them yet among its ``signoffs``, and whose signers were not named
    after it was built. Empty once they signed every role they may. 1 query."""
    roles = list(signable_roles(user, report.plan).select_related("configured_by"))
    signed = {(s.report_id, s.role) for s in signoffs if s.signer_id == user.pk}
    return _left_to_sign([report], roles=roles, states=states, signed=signed).get(report.pk, [])


def reports_awaiting(user) -> list[tuple[AcceptanceReport, list[PlanSignoffRole]]]:
    """What waits for ``user``'s signature: the newest ready report of each plan naming
    them a signer, when it is current, with the roles they may still sign on it (as
    ``roles_left_to_sign``), newest first. 7 queries whatever the number of plans."""
    roles = list(signable_roles(user).select_related("configured_by").order_by("plan_id", "role"))
    if not roles:
        return []
    newest = newest_ready_reports({role.plan_id for role in roles})
    reports = list(
        AcceptanceReport.objects.filter(pk__in=[pk for pk in newest.values() if pk])
        .defer("html", "metrics", "criteria")
        .select_related("plan__release__product")
        .order_by("-created_at", "-pk")
    )
    states = report_states(reports, newest=newest)
    signed = set(
        SignOff.objects.filter(report__in=reports, signer=user).values_list("report_id", "role")
    )
    left = _left_to_sign(reports, roles=roles, states=states, signed=signed)
    return [(report, left[report.pk]) for report in reports if report.pk in left]
