"""Executions: recording step results and the overall result, attaching evidence."""

import hashlib
import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..audit import event_record
from ..evidence_files import ACCEPTED, sniff_content_type
from ..models import (
    Defect,
    Evidence,
    Execution,
    ExecutionDraft,
    ExecutionStatus,
    StepResult,
    StepStatus,
)
from ..policy import can_record, policy_require
from .drafts import drafts_clear
from .errors import ConcurrentEditError


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
    policy_require(can_record(actor, execution), "record")
    if execution.is_finished:
        raise ValidationError("This execution is finished; a retest is a new execution.")
    if status not in StepStatus.values:
        raise ValidationError(f"Unknown step result {status!r}.")
    if not 1 <= position <= execution.case_version.step_count:
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
    drafts_clear(execution, [ExecutionDraft.step_field(position)])
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
def execution_steps_pass_remaining(
    *,
    execution: Execution,
    actor,
    actual_results: dict[int, str] | None = None,
    lock_version: int | None = None,
) -> list[StepResult]:
    """Mark every step not marked yet as passed, each through ``execution_step_record``
    (so each is checked and audited as a mark is), all in one transaction: one refusal
    saves none. ``actual_results`` (step → text typed) goes with its step."""
    policy_require(can_record(actor, execution), "record")
    if execution.is_finished:
        raise ValidationError("This execution is finished; a retest is a new execution.")
    marked = set(execution.step_results.values_list("position", flat=True))
    remaining = [n for n in range(1, execution.case_version.step_count + 1) if n not in marked]
    if not remaining:
        raise ValidationError("Every step is marked already.")
    results = []
    for position in remaining:
        results.append(
            execution_step_record(
                execution=execution,
                position=position,
                status=StepStatus.PASSED,
                actor=actor,
                actual_result=(actual_results or {}).get(position, ""),
                lock_version=lock_version,
            )
        )
        lock_version = None  # the first claim checked it; the rest follow in-process
    return results


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
    policy_require(can_record(actor, execution), "record")
    if execution.is_finished:
        raise ValidationError("This execution is already finished.")
    if time_spent_seconds < 0:
        raise ValidationError("Time spent cannot be negative.")
    marked = dict(execution.step_results.values_list("position", "status"))
    result = Execution.result_from_steps(list(marked.values()))
    steps = range(1, execution.case_version.step_count + 1)
    missing = [n for n in steps if n not in marked]
    if missing and (result == ExecutionStatus.PASSED or result is None):
        raise ValidationError(f"Record a result for step {', '.join(map(str, missing))} first.")
    # After a failure or a block the steps not marked were not run: said in the event
    # (and shown as "Not run" on the page), never left to be guessed.
    if result is None:
        raise ValidationError("Every step was skipped; at least one step must be run.")
    before = {"status": execution.status}
    # The partial unique index allows one latest execution per (plan, case): step the
    # previous one down before this one takes its place. Both rows are locked, in id
    # order, before either is written: the first write also locks the plan's
    # ExecutionTally row, which a tester saving one of them meanwhile would otherwise
    # wait for while holding the row this needs — a deadlock.
    locked = list(
        Execution.objects.filter(plan_id=execution.plan_id, case_id=execution.case_id)
        .filter(Q(is_latest=True) | Q(pk=execution.pk))
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if previous := [pk for pk in locked if pk != execution.pk]:
        Execution.objects.filter(pk__in=previous).update(is_latest=False)
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
    drafts_clear(execution)
    event_record(
        actor=actor,
        verb="execution.recorded",
        obj=execution,
        before=before,
        after={"status": result, "notes": execution.notes, "not_run": missing},
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
    policy_require(can_record(actor, execution), "record")
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {"file": f"The file is too large: at most {limit // (1024 * 1024) or 1} MB."}
        )
    if step_position is not None and not 1 <= step_position <= execution.case_version.step_count:
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
    # The run changed: the write moves its plan's tally, so evidence added to a finished
    # (or signed) run makes the plan's report stale. Not ``lock_version``: a screenshot
    # does not make the tester's open form a conflict.
    Execution.objects.filter(pk=execution.pk).update(updated_at=timezone.now())
    event_record(
        actor=actor,
        verb="evidence.attached",
        obj=execution,
        after={"evidence": name, "sha256": evidence.sha256, "step": step_position},
        release=execution.plan.release,
    )
    return evidence
