"""Drafts: what a tester typed on an execution page and has not saved as a result yet.

Drafts are not records: keeping or clearing one writes no audit event (the result it
becomes is audited when the step is marked or the run finished), and nothing a report
reads — the tallies, the fingerprint, the execution's lock — moves with them."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Execution, ExecutionDraft
from ..policy import can_record, policy_require


def draft_fields(execution: Execution) -> list[str]:
    """The names of the texts of an execution page a draft may keep."""
    steps = range(1, execution.case_version.step_count + 1)
    return [*(ExecutionDraft.step_field(n) for n in steps), ExecutionDraft.NOTES]


def _saved_texts(execution: Execution) -> dict[str, str]:
    saved = {
        ExecutionDraft.step_field(position): actual
        for position, actual in execution.step_results.values_list("position", "actual_result")
    }
    return {**saved, ExecutionDraft.NOTES: execution.notes}


@transaction.atomic
def execution_drafts_save(*, execution: Execution, actor, texts: dict[str, str]) -> None:
    """Keep ``texts`` (form field name → what is typed in it: ``notes``, ``actual_<step>``)
    as the actor's drafts of an unfinished execution. A text that is what is saved
    already (the step's recorded actual result, the run's note, nothing for a step not
    marked) needs no draft and drops the one there was. No audit event: see the module."""
    policy_require(can_record(actor, execution), "record")
    if execution.is_finished:
        raise ValidationError("This execution is finished; there is nothing to keep a draft of.")
    unknown = set(texts) - set(draft_fields(execution))
    if unknown:
        raise ValidationError(f"This case has no field {sorted(unknown)[0]}.")
    saved = _saved_texts(execution)
    mine = ExecutionDraft.objects.filter(execution=execution, author=actor)
    current = ExecutionDraft.objects.texts_of(execution, actor)
    keep = {field: text for field, text in texts.items() if text.strip() != saved.get(field, "")}
    dropped = (set(texts) - set(keep)) & set(current)
    if dropped:
        mine.filter(field__in=dropped).delete()
    now = timezone.now()
    changed = [
        ExecutionDraft(execution=execution, author=actor, field=field, text=text, updated_at=now)
        for field, text in keep.items()
        if current.get(field) != text
    ]
    if changed:
        ExecutionDraft.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["execution", "author", "field"],
            update_fields=["text", "updated_at"],
        )


def drafts_clear(execution: Execution, fields: list[str] | None = None) -> None:
    """Drop the drafts of ``fields`` (all of them when None) once what they held is saved:
    called by the services that mark a step and finish a run, in their transaction."""
    drafts = ExecutionDraft.objects.filter(execution=execution)
    if fields is not None:
        drafts = drafts.filter(field__in=fields)
    drafts.delete()
