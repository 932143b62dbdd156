"""Waivers: a stakeholder accepts an open defect for its release with known risk, until
a date; the acceptance report lists every waiver."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..audit import event_record
from ..models import OPEN_STATUSES, Defect, Waiver
from ..policy import can_waive, policy_require

# A waiver accepts a known risk for a while, not for ever: it is granted again if the
# defect is still open in a year. (This also keeps every expiry a date the database and
# Python can hold: 9999-12-31 is refused with this message, not a server error.)
WAIVER_LONGEST = dt.timedelta(days=366)


def waiver_expiry_problem(expires_at: dt.datetime) -> str | None:
    """Why a waiver may not expire at ``expires_at``, or None: the one home of the rule
    the waivers page, the API and the service share."""
    now = timezone.now()
    if expires_at <= now:
        return "The waiver must expire in the future."
    latest = now + WAIVER_LONGEST
    if expires_at > latest:
        day = timezone.localtime(latest).date()
        return f"A waiver lasts at most a year: choose {day:%d %B %Y} or earlier."
    return None


@transaction.atomic
def waiver_grant(*, defect: Defect, actor, reason: str, expires_at: dt.datetime) -> Waiver:
    """Accept an open defect for its release with known risk, until ``expires_at``."""
    policy_require(can_waive(actor, defect.release), "waive")
    errors = {}
    if defect.status not in OPEN_STATUSES:
        errors["defect"] = f"{defect.reference} is not open; there is nothing to waive."
    if not reason.strip():
        errors["reason"] = "Say why the release may ship with this defect."
    expiry_problem = waiver_expiry_problem(expires_at)
    if expiry_problem:
        errors["expires_at"] = expiry_problem
    if errors:
        raise ValidationError(errors)
    # One active waiver per defect: the defect's row lock queues a second grant (a double
    # click) behind the first, which it then sees; the database's constraint
    # (waiver_one_active_per_defect, PostgreSQL) refuses whatever gets past.
    Defect.objects.select_for_update(no_key=True).filter(pk=defect.pk).first()
    already = {"defect": f"{defect.reference} already has an active waiver."}
    if Waiver.objects.filter(defect=defect).active().exists():
        raise ValidationError(already)
    try:
        with transaction.atomic():
            waiver = Waiver.objects.create(
                defect=defect,
                release=defect.release,
                reason=reason.strip(),
                expires_at=expires_at,
                granted_by=actor,
            )
    except IntegrityError as error:
        if "waiver_one_active_per_defect" not in str(error):
            raise
        raise ValidationError(already) from error
    event_record(
        actor=actor,
        verb="waiver.granted",
        obj=waiver,
        after={"defect": defect.pk, "reason": waiver.reason, "expires_at": expires_at},
    )
    return waiver


@transaction.atomic
def waiver_revoke(*, waiver: Waiver, actor) -> Waiver:
    """End a waiver early: the defect counts against the criteria again."""
    policy_require(can_waive(actor, waiver.release), "waive")
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    if not waiver.is_active:
        raise ValidationError("This waiver is no longer active.")
    waiver.revoked_at = timezone.now()
    waiver.save(update_fields=["revoked_at"])
    event_record(actor=actor, verb="waiver.revoked", obj=waiver, before={"active": True})
    return waiver
