"""Case versions: editing a case freezes a new version; history is never rewritten."""

from django.core.exceptions import ValidationError
from django.db import transaction

from ..audit import event_record
from ..models import Case, CaseVersion
from ..models.catalog import content_digest


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
