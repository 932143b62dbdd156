"""Assigning a plan's cases to cohort testers, and moving or withdrawing work nobody has
started yet.

One function, ``plan_assign_preview``, decides who gets what: the admin's confirmation
page, the API's dry run and ``plan_assign`` itself all ask it, so what a QA lead is shown
is what is written. A case needs ``testers_per_case`` of the cohort's testers; only the
missing (case, tester) slots are filled, each by the cohort's least-loaded active tester
(fewest executions in the plan, ties to the lower id). The same rule spreads work moved
away from a tester (``execution_reassign``).
"""

import hashlib
import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..audit import event_record, events_record_many
from ..models import Case, CaseVersion, Cohort, CohortMembership, Execution, Plan
from ..policy import can_manage_plan, policy_require


class AssignmentPreviewChanged(ValidationError):
    """What ``plan_assign`` would write is no longer what was previewed (someone assigned,
    reassigned or changed the scope meanwhile); ``preview`` is what it would write now."""

    def __init__(self, preview: "AssignmentPreview"):
        super().__init__(
            "The plan's assignments changed since the preview; check the new one and confirm "
            "again.",
            code="preview_changed",
        )
        self.preview = preview


@dataclass
class AssignmentPreview:
    """What assigning a plan's cases to a cohort would create: one (case, tester) pair per
    new execution, in case-key order."""

    plan: Plan
    cohort: Cohort
    testers_per_case: int
    assignments: list[tuple[Case, object]] = field(default_factory=list)
    held: int = 0  # cases already held by enough of the cohort's testers
    counted: set[int] = field(default_factory=set)  # cases with a run that counts already

    @property
    def count(self) -> int:
        return len(self.assignments)

    def by_tester(self) -> list[tuple[object, int]]:
        """Each tester getting work, with how many new executions, in a stable order."""
        counts: dict[int, list] = {}
        for _, tester in self.assignments:
            counts.setdefault(tester.pk, [tester, 0])[1] += 1
        return [(tester, n) for tester, n in sorted(counts.values(), key=lambda t: t[0].pk)]

    def by_case(self) -> list[tuple[Case, list]]:
        cases: dict[int, list] = {}
        for case, tester in self.assignments:
            cases.setdefault(case.pk, [case, []])[1].append(tester)
        return [(case, testers) for case, testers in cases.values()]

    @property
    def summary(self) -> str:
        if not self.assignments:
            return f"Creates no executions: {self.cohort.name}'s testers already hold every case."
        share = ", ".join(f"{tester} → {n}" for tester, n in self.by_tester())
        noun = "execution" if self.count == 1 else "executions"
        return f"Creates {self.count} {noun}: {share}."

    @property
    def digest(self) -> str:
        """A short fingerprint of the pairs, for confirming exactly what was previewed."""
        pairs = sorted((case.pk, tester.pk) for case, tester in self.assignments)
        text = f"{self.plan.pk}:{self.cohort.pk}:{self.testers_per_case}:{pairs}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        return {
            "summary": self.summary,
            "preview": self.digest,
            "already_held": self.held,
            "by_tester": [
                {"tester": tester.pk, "email": tester.email, "executions": n}
                for tester, n in self.by_tester()
            ],
            "cases": [
                {"case": case.pk, "key": case.key, "testers": [t.pk for t in testers]}
                for case, testers in self.by_case()
            ],
        }


def _least_loaded(candidates: list, loads: dict[int, int], count: int) -> list:
    """The ``count`` candidates holding the fewest executions of the plan (``loads``, by
    tester id), ties to the lower id; each one picked then holds one more."""
    picked = heapq.nsmallest(count, candidates, key=lambda tester: (loads[tester.pk], tester.pk))
    for tester in picked:
        loads[tester.pk] += 1
    return picked


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


def _plan_check(plan: Plan, cohort: Cohort, *, lock: bool) -> None:
    """Refuse a completed plan or a cohort not running it, reading (and, to write, locking)
    the plan row: assigning, reassigning and unassigning in one plan take turns, so two
    of them never both fill the same slot."""
    runs_it = Plan.cohorts.through.objects.filter(plan_id=OuterRef("pk"), cohort_id=cohort.pk)
    rows = Plan.objects.filter(pk=plan.pk).annotate(runs_it=Exists(runs_it))
    if lock:
        rows = rows.select_for_update()
    status, in_plan = rows.values_list("status", "runs_it").get()
    # Completed as the caller read it, or since (the locked row says so).
    if not plan.is_open or status == Plan.Status.COMPLETED:
        raise ValidationError("This plan is completed; reopen it before assigning work.")
    if cohort.kind != plan.stage:
        raise ValidationError(
            f"A {plan.get_stage_display().lower()} plan is run by "
            f"{plan.get_stage_display().lower()} cohorts; {cohort.name} is "
            f"{cohort.get_kind_display().lower()}."
        )
    if not in_plan:
        raise ValidationError(f"{cohort.name} is not one of this plan's cohorts.")


def _preview(
    plan: Plan, cohort: Cohort, cases: Iterable[Case] | None, testers_per_case: int
) -> AssignmentPreview:
    runs = (
        Execution.objects.filter(plan=plan, tester=OuterRef("pk"))
        .order_by()
        .values("tester")
        .annotate(n=Count("pk"))
        .values("n")
    )
    members = list(cohort.members.annotate(plan_runs=Coalesce(Subquery(runs), 0)).order_by("pk"))
    testers = [member for member in members if member.is_active]
    if not testers:
        raise ValidationError(f"{cohort.name} has no active testers.")
    if not 1 <= testers_per_case <= len(testers):
        raise ValidationError(
            f"Testers per case must be between 1 and {len(testers)} (the cohort's size)."
        )
    chosen = _assignment_cases(plan, cases)
    # Only the rows that decide anything: the cohort's members' holdings (a member who
    # left the company still holds a case until it is reassigned) and the run that counts
    # of each chosen case, not the plan's whole history of retests.
    member_ids = {member.pk for member in members}
    rows = Execution.objects.filter(
        Q(tester__in=member_ids) | Q(is_latest=True),
        plan=plan,
        case__in=[case.pk for case in chosen],
    ).values_list("case_id", "tester_id", "is_latest")
    preview = AssignmentPreview(plan=plan, cohort=cohort, testers_per_case=testers_per_case)
    holders: dict[int, set[int]] = defaultdict(set)
    for case_id, tester_id, is_latest in rows:
        if tester_id in member_ids:
            holders[case_id].add(tester_id)
        if is_latest:
            preview.counted.add(case_id)
    loads = {tester.pk: tester.plan_runs for tester in testers}
    for case in chosen:
        held = holders[case.pk]
        missing = testers_per_case - len(held)
        if missing <= 0:
            preview.held += 1
            continue
        free = [tester for tester in testers if tester.pk not in held]
        preview.assignments += [(case, t) for t in _least_loaded(free, loads, missing)]
    return preview


def plan_assign_preview(
    *,
    plan: Plan,
    cohort: Cohort,
    actor,
    cases: Iterable[Case] | None = None,
    testers_per_case: int = 1,
) -> AssignmentPreview:
    """What ``plan_assign`` with the same arguments would create now, writing nothing."""
    policy_require(can_manage_plan(actor, plan), "manage_plan")
    _plan_check(plan, cohort, lock=False)
    return _preview(plan, cohort, cases, testers_per_case)


@transaction.atomic
def plan_assign(
    *,
    plan: Plan,
    cohort: Cohort,
    actor,
    cases: Iterable[Case] | None = None,
    testers_per_case: int = 1,
    expected: str = "",
) -> list[Execution]:
    """Assign the plan's ready cases (or the given ones) to the cohort's testers so that
    each case is held by ``testers_per_case`` of them, as ``plan_assign_preview`` decides:
    only the missing slots are filled, each by the least-loaded tester, so running it
    again after adding a case or a tester creates only what is new. ``expected``, a
    preview's ``digest``, refuses (``AssignmentPreviewChanged``) when what would be
    written differs from what was previewed. A fixed number of queries."""
    policy_require(can_manage_plan(actor, plan), "manage_plan")
    _plan_check(plan, cohort, lock=True)
    preview = _preview(plan, cohort, cases, testers_per_case)
    if expected and expected != preview.digest:
        raise AssignmentPreviewChanged(preview)
    if not preview.assignments:
        return []
    versions = CaseVersion.objects.current_by_case({case.pk for case, _ in preview.assignments})
    environment = plan.environment
    counted = set(preview.counted)
    created = []
    for case, tester in preview.assignments:
        created.append(
            Execution(
                plan=plan,
                case=case,
                case_version=versions[case.pk],
                tester=tester,
                cohort=cohort,
                environment=environment,
                build=environment.build if environment else "",
                # The first run of a case counts until a result is recorded.
                is_latest=case.pk not in counted,
                assigned_by=actor,
            )
        )
        counted.add(case.pk)
    Execution.objects.bulk_create(created)
    event_record(
        actor=actor,
        verb="plan.assigned",
        obj=plan,
        after={
            "cohort": cohort.name,
            "cases": len({execution.case_id for execution in created}),
            "executions": len(created),
            "testers_per_case": testers_per_case,
            "by_tester": {tester.email: n for tester, n in preview.by_tester()},
        },
    )
    return created


# ------------------------------------------------------------------ moving work


def _locked_unstarted(executions: Iterable[Execution], actor, *, siblings: bool) -> list:
    """The executions, locked (their plans first, then the rows in id order, before any
    write: see ``uat/triggers.py``), once the actor may manage each plan, each plan is
    open and none was started. With ``siblings``, the other executions of the same
    (plan, case) are locked and returned too, as ``(rows, siblings)``."""
    ids = {execution.pk for execution in executions}
    if not ids:
        raise ValidationError("Choose at least one execution.")
    pairs = set(Execution.objects.filter(pk__in=ids).values_list("plan_id", "case_id"))
    plans = list(
        Plan.objects.filter(pk__in={plan_id for plan_id, _ in pairs})
        .select_related("release")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    for plan in plans:
        policy_require(can_manage_plan(actor, plan), "manage_plan")
        if not plan.is_open:
            raise ValidationError(f"{plan} is completed; reopen it before moving its work.")
    same_case = Q(pk__in=ids)
    if siblings:
        for plan_id, case_id in pairs:
            same_case |= Q(plan_id=plan_id, case_id=case_id)
    locked = list(
        Execution.objects.filter(same_case)
        .select_related("case", "tester", "cohort")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    unstarted = set(Execution.objects.filter(pk__in=ids).not_started().values_list("pk", flat=True))
    rows = [execution for execution in locked if execution.pk in ids]
    if len(rows) != len(ids):
        raise ValidationError("Some of these executions no longer exist.")
    started = [execution for execution in rows if execution.pk not in unstarted]
    if started:
        named = "; ".join(f"{e.case.key} by {e.tester} (#{e.pk})" for e in started)
        raise ValidationError(
            f"Already started (a step, evidence or a defect recorded), so it stays with its "
            f"tester: {named}."
        )
    by_id = {plan.pk: plan for plan in plans}
    for execution in locked:
        execution.plan = by_id[execution.plan_id]
    others = [execution for execution in locked if execution.pk not in ids]
    return (rows, others) if siblings else rows


def _events_by_release(*, actor, verb: str, entries: list) -> None:
    """One insert of events per release (a selection may span plans of several)."""
    releases: dict[int, list] = defaultdict(list)
    for entry in entries:
        releases[entry[0].plan.release_id].append(entry)
    for group in releases.values():
        events_record_many(actor=actor, verb=verb, entries=group, release=group[0][0].plan.release)


def _who(tester) -> dict:
    return {"tester": tester.pk, "email": tester.email}


@transaction.atomic
def execution_reassign(*, executions: Iterable[Execution], actor, tester=None) -> list[Execution]:
    """Give executions nobody has started yet (pending, no step, evidence or defect) to
    another tester of their cohort: ``tester``, or else, each, the cohort's least-loaded
    active tester who does not hold its case in the plan yet — when a tester leaves, say.
    Refuses the whole selection when one was started, its plan is completed, or nobody
    can take it. One audit event per execution, from whom to whom."""
    rows = _locked_unstarted(executions, actor, siblings=False)
    plan_ids = {row.plan_id for row in rows}
    members: dict[int, list] = defaultdict(list)
    for membership in (
        CohortMembership.objects.filter(
            cohort__in={row.cohort_id for row in rows}, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    ):
        members[membership.cohort_id].append(membership.user)
    held = set(
        Execution.objects.filter(plan__in=plan_ids, case__in={row.case_id for row in rows})
        .values_list("plan_id", "case_id", "tester_id")
        .distinct()
    )
    loads: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for plan_id, tester_id, n in (
        Execution.objects.filter(plan__in=plan_ids)
        .values_list("plan_id", "tester_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        loads[plan_id][tester_id] = n
    moved = []
    for row in sorted(rows, key=lambda e: (e.case.key, e.pk)):
        if tester is not None:
            if tester.pk not in {m.pk for m in members[row.cohort_id]}:
                raise ValidationError(f"{tester} is not an active tester of {row.cohort.name}.")
            if (row.plan_id, row.case_id, tester.pk) in held:
                raise ValidationError(
                    f"{tester} already holds {row.case.key} in {row.plan}; unassign "
                    f"{row.tester}'s execution instead."
                )
            target = tester
        else:
            free = [
                m
                for m in members[row.cohort_id]
                if (row.plan_id, row.case_id, m.pk) not in held and m.pk != row.tester_id
            ]
            if not free:
                raise ValidationError(
                    f"Nobody else in {row.cohort.name} can take {row.case.key}: every other "
                    "active tester holds it already."
                )
            [target] = _least_loaded(free, loads[row.plan_id], 1)
        held.add((row.plan_id, row.case_id, target.pk))
        moved.append((row, row.tester, target))
    now = timezone.now()
    for row, _, target in moved:
        row.tester, row.lock_version, row.updated_at = target, row.lock_version + 1, now
    # The lock version moves: a page the old tester still has open is refused, not saved.
    Execution.objects.bulk_update(rows, ["tester", "lock_version", "updated_at"])
    _events_by_release(
        actor=actor,
        verb="execution.reassigned",
        entries=[
            (row, f"{row.case.key} of {row.plan}", _who(target), _who(before))
            for row, before, target in moved
        ],
    )
    return [row for row, _, _ in moved]


@transaction.atomic
def execution_unassign(*, executions: Iterable[Execution], actor) -> list[int]:
    """Withdraw executions nobody has started yet (pending, no step, evidence or defect):
    they are deleted, which never loses a result, and the database's tallies follow. A
    retest is refused (a fixed defect waits for it: reassign it instead). When the
    withdrawn run was the one that counts for its case, the case's most recent finished
    run (else its earliest remaining one) counts instead. One audit event per
    execution, saying what was there; returns the ids withdrawn."""
    rows, others = _locked_unstarted(executions, actor, siblings=True)
    retests = [row for row in rows if row.retest_of_id]
    if retests:
        named = "; ".join(f"{e.case.key} by {e.tester} (#{e.pk})" for e in retests)
        raise ValidationError(
            f"A retest waits to check a fixed defect, so it cannot be unassigned; reassign "
            f"it instead: {named}."
        )
    _events_by_release(
        actor=actor,
        verb="execution.unassigned",
        entries=[
            (
                row,
                f"{row.case.key} of {row.plan}",
                None,
                {**_who(row.tester), "case": row.case.key, "cohort": row.cohort.name},
            )
            for row in rows
        ],
    )
    uncounted = {(row.plan_id, row.case_id) for row in rows if row.is_latest}
    ids = [row.pk for row in rows]
    Execution.objects.filter(pk__in=ids).delete()
    heirs = []
    for pair in sorted(uncounted):
        remaining = [e for e in others if (e.plan_id, e.case_id) == pair]
        if remaining:
            finished = [e for e in remaining if e.finished_at]
            heir = (
                max(finished, key=lambda e: (e.finished_at, e.pk))
                if finished
                else min(remaining, key=lambda e: e.pk)
            )
            heirs.append(heir.pk)
    if heirs:
        Execution.objects.filter(pk__in=heirs).update(is_latest=True)
    return ids
