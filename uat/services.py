"""The state changes of UAT. One function per change; views, API actions, admin actions,
commands and tasks all call these. Each runs in one transaction, writes its audit event in
it, and refuses invalid input with a ``ValidationError`` whose message a user can act on.
"""

import hashlib
import json
import os
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from reports.gate import gate_evaluate, gate_refresh

from .audit import event_record, events_record_many
from .evidence import ACCEPTED, sniff_content_type
from .models import (
    RESOLVED_STATUSES,
    Case,
    CaseVersion,
    Cohort,
    Defect,
    DefectStatus,
    Evidence,
    Execution,
    ExecutionStatus,
    Plan,
    Promotion,
    Release,
    Severity,
    StepResult,
    StepStatus,
)
from .models.catalog import content_digest
from .models.defects import is_web_address


class ConcurrentEditError(ValidationError):
    """Someone else saved the execution after this editor loaded it."""

    def __init__(self, execution: Execution):
        self.current = execution
        super().__init__(
            "Someone else saved this execution after you opened it. Your change was not "
            "saved; the page now shows the current state.",
            code="conflict",
        )


class GateClosedError(ValidationError):
    """The gate did not say go: the promotion was refused, for ``decision.reasons``."""

    def __init__(self, decision):
        self.decision = decision
        super().__init__(
            [f"The gate says {decision.decision}.", *decision.reasons], code="gate_closed"
        )


# ---------------------------------------------------------------------------- cases


@transaction.atomic
def case_version_record(*, case: Case, actor) -> CaseVersion:
    """Freeze the case's current text and steps as a new version, unless nothing changed
    since the latest one. Executions already pinned to older versions are untouched."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    steps = list(case.steps.order_by("position"))
    content = case.content(steps)
    digest = content_digest(content)
    if case.status == Case.Status.READY and not steps:
        raise ValidationError("A ready case needs at least one step.")
    latest = case.versions.order_by("-number").first()
    if latest is not None and latest.digest == digest:
        return latest
    version = CaseVersion.objects.create(
        case=case,
        number=case.version + 1,
        title=content["title"],
        objective=content["objective"],
        preconditions=content["preconditions"],
        priority=content["priority"],
        steps=content["steps"],
        digest=digest,
        created_by=actor,
    )
    Case.objects.filter(pk=case.pk).update(version=version.number)
    case.version = version.number
    before = None
    if latest is not None:
        before = {"version": latest.number, **_version_content(latest)}
    event_record(
        actor=actor,
        verb="case.versioned",
        obj=case,
        before=before,
        after={"version": version.number, **content},
    )
    return version


def _version_content(version: CaseVersion) -> dict:
    return {
        "title": version.title,
        "objective": version.objective,
        "preconditions": version.preconditions,
        "priority": version.priority,
        "steps": version.steps,
    }


# ---------------------------------------------------------------------------- plans


def _current_versions(case_ids: Iterable[int]) -> dict[int, CaseVersion]:
    versions = CaseVersion.objects.filter(case_id__in=case_ids, number=F("case__version"))
    return {version.case_id: version for version in versions}


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
    versions = _current_versions(case.pk for case in chosen)
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


PLAN_CLONE_FIELDS = [
    "name",
    "objectives",
    "scope_notes",
    "owner",
    "min_execution_coverage",
    "min_critical_pass_rate",
    "min_pass_rate",
    "max_open_critical_defects",
    "max_open_major_defects",
    "max_open_minor_defects",
    "max_open_trivial_defects",
    "require_requirement_coverage",
    "min_beta_testers_per_critical_case",
]


@transaction.atomic
def plan_clone(*, plan: Plan, release: Release, actor) -> Plan:
    """Copy a plan — scope, cohorts, criteria, stakeholders and sign-off roles — to
    another release of the same product, as a draft without any executions."""
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
    for role in plan.signoff_roles.prefetch_related("signers"):
        clone.signoff_roles.create(role=role.role).signers.set(role.signers.all())
    event_record(actor=actor, verb="plan.cloned", obj=clone, after={"from_plan": plan.pk})
    return clone


# ---------------------------------------------------------------------------- executions


def _claim(execution: Execution, lock_version: int | None, **changes) -> Execution:
    """Apply ``changes`` only if nobody saved since ``lock_version`` was read."""
    expected = execution.lock_version if lock_version is None else lock_version
    now = timezone.now()
    claimed = Execution.objects.filter(pk=execution.pk, lock_version=expected).update(
        lock_version=F("lock_version") + 1, updated_at=now, **changes
    )
    if not claimed:
        execution.refresh_from_db()
        raise ConcurrentEditError(execution)
    for field, value in changes.items():
        setattr(execution, field, value)
    execution.lock_version, execution.updated_at = expected + 1, now
    return execution


def _step_count(execution: Execution) -> int:
    return len(execution.case_version.steps)


@transaction.atomic
def execution_step_record(
    *,
    execution: Execution,
    position: int,
    status: str,
    actor,
    actual_result: str = "",
    lock_version: int | None = None,
) -> StepResult:
    """Record one step's result (and what actually happened) on an unfinished execution."""
    if execution.is_finished:
        raise ValidationError("This execution is finished; a retest is a new execution.")
    if status not in StepStatus.values:
        raise ValidationError(f"Unknown step result {status!r}.")
    if not 1 <= position <= _step_count(execution):
        raise ValidationError(f"This case has no step {position}.")
    actual_result = actual_result.strip()
    if status in (StepStatus.FAILED, StepStatus.BLOCKED) and not actual_result:
        raise ValidationError(
            {"actual_result": "Describe what actually happened when a step fails or is blocked."}
        )
    changes = {"status": ExecutionStatus.IN_PROGRESS}
    if execution.started_at is None:
        changes["started_at"] = timezone.now()
    _claim(execution, lock_version, **changes)
    previous = StepResult.objects.filter(execution=execution, position=position).first()
    before = None
    if previous is None:
        result = StepResult.objects.create(
            execution=execution, position=position, status=status, actual_result=actual_result
        )
    else:
        before = {"status": previous.status, "actual_result": previous.actual_result}
        previous.status, previous.actual_result = status, actual_result
        previous.save(update_fields=["status", "actual_result", "recorded_at"])
        result = previous
    event_record(
        actor=actor,
        verb="execution.step_recorded",
        obj=execution,
        before=before and {"position": position, **before},
        after={"position": position, "status": status, "actual_result": actual_result},
        release=execution.plan.release,
    )
    return result


@transaction.atomic
def execution_record(
    *,
    execution: Execution,
    actor,
    notes: str | None = None,
    time_spent_seconds: int = 0,
    lock_version: int | None = None,
) -> Execution:
    """Finish an execution with the overall result its steps imply, and make it the one
    that counts for its case in the plan."""
    if execution.is_finished:
        raise ValidationError("This execution is already finished.")
    if time_spent_seconds < 0:
        raise ValidationError("Time spent cannot be negative.")
    marked = dict(execution.step_results.values_list("position", "status"))
    result = Execution.result_from_steps(list(marked.values()))
    if result == ExecutionStatus.PASSED or result is None:
        missing = [str(n) for n in range(1, _step_count(execution) + 1) if n not in marked]
        if missing:
            raise ValidationError(f"Record a result for step {', '.join(missing)} first.")
    if result is None:
        raise ValidationError("Every step was skipped; at least one step must be run.")
    before = {"status": execution.status}
    # The partial unique index allows one latest execution per (plan, case): step the
    # previous one down before this one takes its place.
    Execution.objects.filter(plan_id=execution.plan_id, case_id=execution.case_id).exclude(
        pk=execution.pk
    ).filter(is_latest=True).update(is_latest=False)
    changes = {
        "status": result,
        "finished_at": timezone.now(),
        "is_latest": True,
        "time_spent_seconds": execution.time_spent_seconds + time_spent_seconds,
    }
    if notes is not None:
        changes["notes"] = notes
    if execution.started_at is None:
        changes["started_at"] = changes["finished_at"]
    _claim(execution, lock_version, **changes)
    if execution.retest_of_id and result == ExecutionStatus.FAILED:
        # A failed retest still shows the defect: link it, so the next fix retests it.
        for defect in Defect.objects.filter(executions=execution.retest_of_id):
            defect.executions.add(execution)
    event_record(
        actor=actor,
        verb="execution.recorded",
        obj=execution,
        before=before,
        after={"status": result, "notes": execution.notes},
        release=execution.plan.release,
    )
    return execution


@transaction.atomic
def evidence_attach(
    *, execution: Execution, actor, upload, step_position: int | None = None
) -> Evidence:
    """Store a screenshot or file as evidence of ``execution``. The type is judged from
    the content (PNG, JPEG, PDF or plain text), the size is capped by
    ``EVIDENCE_MAX_BYTES``, and the file is stored under a random name."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {"file": f"The file is too large: at most {limit // (1024 * 1024) or 1} MB."}
        )
    if step_position is not None and not 1 <= step_position <= _step_count(execution):
        raise ValidationError({"step_position": f"This case has no step {step_position}."})
    data = b"".join(upload.chunks())
    content_type = sniff_content_type(data)
    if content_type is None:
        raise ValidationError({"file": f"This file is not a {ACCEPTED} file."})
    name = os.path.basename((upload.name or "evidence").replace("\\", "/"))[:255] or "evidence"
    evidence = Evidence(
        execution=execution,
        step_position=step_position,
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
    )
    evidence.file.save(name, ContentFile(data), save=False)
    evidence.save()
    event_record(
        actor=actor,
        verb="evidence.attached",
        obj=execution,
        after={"evidence": name, "sha256": evidence.sha256, "step": step_position},
        release=execution.plan.release,
    )
    return evidence


# ---------------------------------------------------------------------------- defects


def _defect_errors(title: str, severity: str, external_url: str = "") -> dict[str, str]:
    errors = {}
    if external_url and not is_web_address(external_url):
        errors["external_url"] = "Give the tracker link as an http:// or https:// address."
    if not title.strip():
        errors["title"] = "Give the defect a title."
    if severity not in Severity.values:
        errors["severity"] = "Choose a severity: critical, major, minor or trivial."
    return errors


@transaction.atomic
def defect_report(
    *,
    execution: Execution,
    actor,
    title: str,
    severity: str,
    steps_to_reproduce: str = "",
    step_position: int | None = None,
    external_key: str = "",
    external_url: str = "",
) -> Defect:
    """Report a defect found while running ``execution`` and link the two."""
    errors = _defect_errors(title, severity, external_url)
    if step_position is not None and not 1 <= step_position <= _step_count(execution):
        errors["step_position"] = f"This case has no step {step_position}."
    if errors:
        raise ValidationError(errors)
    defect = Defect.objects.create(
        release=execution.plan.release,
        title=title.strip(),
        severity=severity,
        steps_to_reproduce=steps_to_reproduce,
        step_position=step_position,
        environment=execution.environment,
        build=execution.build,
        reported_by=actor,
        external_key=external_key,
        external_url=external_url,
    )
    defect.executions.add(execution)
    event_record(
        actor=actor,
        verb="defect.reported",
        obj=defect,
        after={"severity": severity, "execution": execution.pk, "title": defect.title},
    )
    return defect


@transaction.atomic
def defect_report_escaped(
    *,
    release: Release,
    actor,
    title: str,
    severity: str,
    build: str,
    steps_to_reproduce: str = "",
    external_key: str = "",
    external_url: str = "",
) -> Defect:
    """Record a defect found in production: it escaped UAT and counts against the
    release that let it through."""
    errors = _defect_errors(title, severity, external_url)
    if release.stage != Release.Stage.PRODUCTION:
        errors["release"] = f"{release} has not reached production; report it from UAT."
    if not build.strip():
        errors["build"] = "Say which production build shows the defect."
    if errors:
        raise ValidationError(errors)
    defect = Defect.objects.create(
        release=release,
        title=title.strip(),
        severity=severity,
        steps_to_reproduce=steps_to_reproduce,
        found_in=Defect.FoundIn.PRODUCTION,
        build=build.strip(),
        reported_by=actor,
        external_key=external_key,
        external_url=external_url,
    )
    event_record(
        actor=actor,
        verb="defect.reported",
        obj=defect,
        after={"severity": severity, "found_in": "production", "title": defect.title},
    )
    return defect


@transaction.atomic
def defect_transition(*, defect: Defect, status: str, actor, note: str = "") -> Defect:
    """Move a defect along its workflow. Marking it fixed queues retests of the failed
    executions it blocks; verifying it needs a passing retest where UAT found it."""
    defect = Defect.objects.select_for_update().get(pk=defect.pk)
    if status not in DefectStatus.values:
        raise ValidationError(f"Unknown defect status {status!r}.")
    if not defect.can_move_to(status):
        allowed = ", ".join(DefectStatus(s).label.lower() for s in defect.allowed_statuses)
        raise ValidationError(
            f"A {defect.get_status_display().lower()} defect cannot become "
            f"{DefectStatus(status).label.lower()}; it can become: {allowed}."
        )
    if status == DefectStatus.VERIFIED and not defect.retest_passed:
        raise ValidationError("A defect found in UAT is verified by a passing retest first.")
    before = {"status": defect.status}
    now = timezone.now()
    defect.status = status
    defect.resolved_at = now if status in RESOLVED_STATUSES else None
    if status == DefectStatus.FIXED:
        defect.fixed_at = now
    defect.save(update_fields=["status", "resolved_at", "fixed_at", "updated_at"])
    event_record(
        actor=actor,
        verb="defect.status_changed",
        obj=defect,
        before=before,
        after={"status": status, "note": note},
    )
    if status == DefectStatus.FIXED:
        defect_retests_queue(defect=defect, actor=actor)
    return defect


def _retest(failed: Execution, versions: dict[int, CaseVersion], actor) -> Execution:
    # The retest runs where the plan runs now: the fix is in the currently deployed build.
    environment = failed.plan.environment or failed.environment
    return Execution(
        plan_id=failed.plan_id,
        case_id=failed.case_id,
        case_version=versions[failed.case_id],
        tester_id=failed.tester_id,
        cohort_id=failed.cohort_id,
        environment=environment,
        build=environment.build if environment else failed.build,
        is_latest=True,
        retest_of=failed,
        assigned_by=actor,
    )


@transaction.atomic
def defect_retests_queue(*, defect: Defect, actor) -> list[Execution]:
    """Give each failed execution the defect blocks a retest for its original tester,
    against the case's current version; the retest becomes the run that counts for its
    case until it is done. An execution already retested gets none, so calling this twice
    queues nothing new. A fixed number of queries."""
    failed = list(
        defect.executions.filter(status=ExecutionStatus.FAILED, retests__isnull=True)
        .select_related("plan__environment", "case")
        .order_by("pk")
    )
    if not failed:
        return []
    versions = _current_versions(execution.case_id for execution in failed)
    pairs = {(execution.plan_id, execution.case_id) for execution in failed}
    same_case = Q()
    for plan_id, case_id in pairs:
        same_case |= Q(plan_id=plan_id, case_id=case_id)
    Execution.objects.filter(same_case, is_latest=True).update(is_latest=False)
    retests, counted = [], set()
    for execution in failed:
        retest = _retest(execution, versions, actor)
        # Two testers who failed the same case both retest it; one run counts at a time.
        retest.is_latest = (execution.plan_id, execution.case_id) not in counted
        counted.add((execution.plan_id, execution.case_id))
        retests.append(retest)
    Execution.objects.bulk_create(retests)
    by_id = {execution.pk: execution for execution in failed}
    events_record_many(
        actor=actor,
        verb="execution.retest_queued",
        entries=[
            (
                retest,
                f"Retest of {by_id[retest.retest_of_id].case.key}",
                {"retest_of": retest.retest_of_id, "defect": defect.pk},
            )
            for retest in retests
        ],
        release=defect.release,
    )
    return retests


# ---------------------------------------------------------------------------- releases


@transaction.atomic
def release_promote(*, release: Release, stage: str, build: str, actor) -> Promotion:
    """Move a release to its next stage (beta or production) when the gate says go now.

    The release row is locked and the gate evaluated again inside the transaction, so
    the decision recorded on the ``Promotion`` is the one it relied on. Raises
    ``GateClosedError`` (a ``ValidationError`` carrying the decision and its reasons) when
    the gate says no-go or inconclusive, and a plain ``ValidationError`` for a stage that
    is not next for the release or a missing build. Announces the gates that moved."""
    release = Release.objects.select_for_update().select_related("product").get(pk=release.pk)
    build = build.strip()
    if not build:
        raise ValidationError({"build": "Say which build is being promoted."})
    if not release.can_move_to(stage):
        allowed = " or ".join(release.next_stages) or "no further stage"
        raise ValidationError(
            {"stage": f"{release} is in {release.stage}; it can move to {allowed}, not {stage}."}
        )
    decision = gate_evaluate(release=release, stage=stage)
    if not decision.is_go:
        raise GateClosedError(decision)
    from_stage = release.stage
    promotion = Promotion.objects.create(
        release=release,
        from_stage=from_stage,
        to_stage=stage,
        build=build,
        promoted_by=actor,
        report=decision.report,
        decision=json.loads(json.dumps(decision.as_dict(), cls=DjangoJSONEncoder)),
    )
    release.stage = stage
    if stage == Release.Stage.PRODUCTION:
        release.released_at = promotion.created_at
    release.save(update_fields=["stage", "released_at"])
    event_record(
        actor=actor,
        verb="release.promoted",
        obj=release,
        before={"stage": from_stage},
        after={
            "stage": stage,
            "build": build,
            "promotion": promotion.pk,
            "report": str(decision.report.uuid),
            "decision": decision.decision,
        },
    )
    gate_refresh(release=release)
    return promotion
