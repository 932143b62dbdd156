"""Plans: assigning their cases to cohort testers, cloning them to another release."""

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from ..audit import event_record
from ..models import (
    Case,
    CaseVersion,
    Cohort,
    Execution,
    Plan,
    Release,
)
from ..policy import can_configure_signoffs, can_manage_plan, policy_require
from .signers import signoff_role_configure


def _assignment_cases(plan: Plan, cases: Iterable[Case] | None) -> list[Case]:
    in_scope = {case.pk: case for case in plan.cases.all()}
    if cases is None:
        # The whole scope: drafts still being written and retired cases wait.
        chosen = [case for case in in_scope.values() if case.status == Case.Status.READY]
    else:
        chosen = list(cases)
        outside = [case.key for case in chosen if case.pk not in in_scope]
        if outside:
            raise ValidationError(f"Not in the plan's scope: {', '.join(sorted(outside))}.")
    not_ready = [case.key for case in chosen if case.status != Case.Status.READY]
    if not_ready:
        raise ValidationError(
            f"Only ready cases can be assigned; not ready: {', '.join(sorted(not_ready))}."
        )
    if not chosen:
        raise ValidationError("The plan has no ready cases in scope to assign.")
    return sorted(chosen, key=lambda case: case.key)


@transaction.atomic
def plan_assign(
    *,
    plan: Plan,
    cohort: Cohort,
    actor,
    cases: Iterable[Case] | None = None,
    testers_per_case: int = 1,
) -> list[Execution]:
    """Assign the plan's cases (or the given ones) to the cohort's testers, round robin,
    ``testers_per_case`` testers each. A tester already holding a case is skipped, so
    running it twice assigns nothing new. Runs a fixed number of queries."""
    policy_require(can_manage_plan(actor, plan), "manage_plan")
    if not plan.is_open:
        raise ValidationError("This plan is completed; reopen it before assigning work.")
    if cohort.kind != plan.stage:
        raise ValidationError(
            f"A {plan.get_stage_display().lower()} plan is run by "
            f"{plan.get_stage_display().lower()} cohorts; {cohort.name} is "
            f"{cohort.get_kind_display().lower()}."
        )
    if not plan.cohorts.filter(pk=cohort.pk).exists():
        raise ValidationError(f"{cohort.name} is not one of this plan's cohorts.")
    testers = list(cohort.members.filter(is_active=True).order_by("pk"))
    if not testers:
        raise ValidationError(f"{cohort.name} has no active testers.")
    if not 1 <= testers_per_case <= len(testers):
        raise ValidationError(
            f"Testers per case must be between 1 and {len(testers)} (the cohort's size)."
        )
    chosen = _assignment_cases(plan, cases)
    versions = CaseVersion.objects.current_by_case(case.pk for case in chosen)
    held, has_latest = set(), set()
    # Only the rows that decide anything: the cohort's testers' holdings and the latest
    # run of each chosen case, not the plan's whole history of retests.
    relevant = Execution.objects.filter(
        Q(tester__in=testers) | Q(is_latest=True),
        plan=plan,
        case__in=[case.pk for case in chosen],
    )
    for case_id, tester_id, is_latest in relevant.values_list("case_id", "tester_id", "is_latest"):
        held.add((case_id, tester_id))
        if is_latest:
            has_latest.add(case_id)

    environment = plan.environment
    created: list[Execution] = []
    turn = 0
    for case in chosen:
        picked = 0
        for offset in range(len(testers)):
            if picked == testers_per_case:
                break
            tester = testers[(turn + offset) % len(testers)]
            if (case.pk, tester.pk) in held:
                picked += 1
                continue
            created.append(
                Execution(
                    plan=plan,
                    case=case,
                    case_version=versions[case.pk],
                    tester=tester,
                    cohort=cohort,
                    environment=environment,
                    build=environment.build if environment else "",
                    is_latest=case.pk not in has_latest,
                    assigned_by=actor,
                )
            )
            has_latest.add(case.pk)
            picked += 1
        turn += testers_per_case
    Execution.objects.bulk_create(created)
    if created:
        event_record(
            actor=actor,
            verb="plan.assigned",
            obj=plan,
            after={
                "cohort": cohort.name,
                "cases": len({execution.case_id for execution in created}),
                "executions": len(created),
                "testers_per_case": testers_per_case,
            },
        )
    return created


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
