"""Writing the audit trail. Every service that changes state calls ``event_record``
inside its own transaction, so the event exists exactly when the change does."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import Event, Release


def _release_of(obj: models.Model) -> Release | None:
    if isinstance(obj, Release):
        return obj
    if isinstance(getattr(obj, "release", None), Release):
        return obj.release
    plan = getattr(obj, "plan", None)
    return getattr(plan, "release", None)


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None


def event_record(
    *,
    actor,
    verb: str,
    obj: models.Model,
    before: dict | None = None,
    after: dict | None = None,
    release: Release | None = None,
) -> Event:
    """Append one audit event about ``obj``; ``release`` defaults to the object's own."""
    return Event.objects.create(
        actor=_actor(actor),
        verb=verb,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        release=release or _release_of(obj),
        before=before,
        after=after,
    )


def events_record_many(
    *, actor, verb: str, entries: list[tuple[models.Model, str, dict]], release: Release
) -> list[Event]:
    """Append one event per (object, repr, after) in a single insert: a fixed number of
    queries however many objects a bulk change touched."""
    if not entries:
        return []
    content_type = ContentType.objects.get_for_model(entries[0][0])
    return Event.objects.bulk_create(
        Event(
            actor=_actor(actor),
            verb=verb,
            content_type=content_type,
            object_id=str(obj.pk),
            object_repr=text[:300],
            release=release,
            after=after,
        )
        for obj, text, after in entries
    )
