"""Plans: cloning them to another release (assigning their cases: ``assignments``)."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from ..audit import event_record
from ..models import Plan, Release
from ..policy import can_configure_signoffs, can_manage_plan, policy_require
from .signers import signoff_role_configure

PLAN_CLONE_FIELDS = ["name", "objectives", "scope_notes", "owner", *Plan.CRITERIA_FIELDS]


@transaction.atomic
def plan_clone(*, plan: Plan, release: Release, actor) -> Plan:
    """Copy a plan — scope, cohorts, criteria, stakeholders and sign-off roles — to
    another release of the same product, as a draft without any executions.

    The required sign-off roles keep their signers only when ``actor`` may name the
    signers of the new release (an administrator or its owner), through the one service
    that names them; otherwise they are copied without signers, for them to name."""
    policy_require(can_manage_plan(actor, plan), "manage_plan")
    if release.product_id != plan.release.product_id:
        raise ValidationError("A plan can only be cloned to a release of the same product.")
    if Plan.objects.filter(release=release, stage=plan.stage).exists():
        raise ValidationError(f"{release} already has a {plan.get_stage_display()} plan.")
    clone = Plan(release=release, stage=plan.stage, status=Plan.Status.DRAFT)
    for field in PLAN_CLONE_FIELDS:
        setattr(clone, field, getattr(plan, field))
    clone.environment = plan.environment
    # "Acme CRM 2.4 beta" becomes "Acme CRM 2.5 beta", but "1.1" never matches in "1.10".
    old_version = re.escape(plan.release.version)
    clone.name = re.sub(rf"(?<![\w.]){old_version}(?![\w.])", release.version, plan.name)
    clone.save()
    clone.cases.set(plan.cases.all())
    clone.cohorts.set(plan.cohorts.all())
    clone.stakeholders.set(plan.stakeholders.all())
    names_signers = can_configure_signoffs(actor, clone)
    for role in plan.signoff_roles.prefetch_related("signers"):
        if names_signers:
            signoff_role_configure(
                plan=clone, role=role.role, signers=role.signers.all(), actor=actor
            )
        else:
            clone.signoff_roles.create(role=role.role)
    event_record(
        actor=actor,
        verb="plan.cloned",
        obj=clone,
        after={"from_plan": plan.pk, "signers_copied": names_signers},
    )
    return clone
