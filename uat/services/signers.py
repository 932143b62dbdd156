"""Naming the signers of a plan's required sign-offs: the one way a required role is
created, changed or removed, whichever interface asks (the plan admin's inline, the
sign-off role admin, the API, a plan clone, the demo data).

Whoever picks the signers decides whose signature opens the gate, so it is an
administrator's or the release owner's act (``uat.policy.can_configure_signoffs``), every
signer must be a stakeholder (``signer_refusal``), and every change is audited with the
signers before and after and emailed to everyone it concerns — the signers before and
the signers after — so a swapped signer never goes unnoticed.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.mail import email_send

from ..audit import event_record
from ..models import Plan, PlanSignoffRole, SignoffRole
from ..policy import can_configure_signoffs, policy_require, signer_refusal

CHANGED_VERB = "plan.signers_changed"


def signers_problems(*, signers: Iterable, actor) -> list[str]:
    """Why each of ``signers`` cannot be named by ``actor`` (empty when all can): what
    the forms show next to the field before anything is saved."""
    return [problem for user in signers if (problem := signer_refusal(user, actor=actor))]


def _names(users) -> list[str]:
    return sorted(user.email for user in users)


def _notify(*, role_label: str, plan: Plan, actor, before: list, after: list) -> None:
    """Email the signers before and after, once the change is committed."""
    recipients = sorted({user.email for user in [*before, *after] if user.email})
    context = {
        "role": role_label,
        "plan": plan.name,
        "release": str(plan.release),
        "actor": actor.full_name or actor.email,
        "before": [user.full_name or user.email for user in before],
        "after": [user.full_name or user.email for user in after],
    }
    for email in recipients:
        # A notice after the change is kept: a failing mail server is logged, and the
        # others are still told (as the token notice and the defect emails).
        transaction.on_commit(
            lambda email=email: email_send(name="signers_changed", context=context, to=[email]),
            robust=True,
        )


@transaction.atomic
def signoff_role_configure(*, plan: Plan, role: str, signers: Iterable, actor) -> PlanSignoffRole:
    """Require ``role`` of ``plan`` with exactly ``signers`` (creating the requirement if
    absent). Refused unless ``actor`` may name signers of the plan and every signer may be
    named; a change records who made it and when (a report built before cannot be signed
    for the role, and the configurer never signs it), is audited and emailed. Naming the
    same signers again changes nothing."""
    policy_require(can_configure_signoffs(actor, plan), "configure_signoffs")
    if role not in SignoffRole.values:
        raise ValidationError({"role": "Choose one of the sign-off roles."})
    signers = list({user.pk: user for user in signers}.values())
    if problems := signers_problems(signers=signers, actor=actor):
        raise ValidationError({"signers": problems})
    required, created = PlanSignoffRole.objects.select_for_update().get_or_create(
        plan=plan, role=role
    )
    before = list(required.signers.all())
    if not created and {u.pk for u in before} == {u.pk for u in signers}:
        return required
    required.signers.set(signers)
    required.configured_by = actor
    required.configured_at = timezone.now()
    required.save(update_fields=["configured_by", "configured_at"])
    event_record(
        actor=actor,
        verb=CHANGED_VERB,
        obj=required,
        before=None if created else {"role": role, "signers": _names(before)},
        after={"role": role, "signers": _names(signers), "configured_by": actor.email},
        release=plan.release,
    )
    _notify(
        role_label=required.get_role_display(),
        plan=plan,
        actor=actor,
        before=before,
        after=signers,
    )
    return required


@transaction.atomic
def signoff_role_remove(*, required: PlanSignoffRole, actor) -> None:
    """Stop requiring a sign-off role of a plan: the same act as changing its signers,
    audited and emailed to the signers it had."""
    plan = required.plan
    policy_require(can_configure_signoffs(actor, plan), "configure_signoffs")
    before = list(required.signers.all())
    event_record(
        actor=actor,
        verb=CHANGED_VERB,
        obj=required,
        before={"role": required.role, "signers": _names(before)},
        after={"role": required.role, "signers": [], "removed": True, "configured_by": actor.email},
        release=plan.release,
    )
    _notify(role_label=required.get_role_display(), plan=plan, actor=actor, before=before, after=[])
    required.delete()
