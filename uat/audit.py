"""Writing the audit trail. Every service that changes state calls ``event_record``
inside its own transaction, so the event exists exactly when the change does; a plain
edit of a record in the admin or over the API (no service: the model's own fields) is
audited by ``edit_record``, one shape whichever interface made it."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
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


def account_event_record(sender, *, actor, verb: str, obj, after: dict | None, **kwargs) -> Event:
    """Record an event accounts announced (``accounts.signals``). A sign-in try for an
    address without an account is recorded against no one: the trail shows the attempt
    without naming (or creating) anybody."""
    if obj is not None:
        return event_record(actor=actor, verb=verb, obj=obj, after=after)
    return Event.objects.create(
        actor=_actor(actor),
        verb=verb,
        content_type=ContentType.objects.get_for_model(sender),
        object_id="",
        object_repr="(no such account)",
        after=after,
    )


def events_record_many(*, actor, verb: str, entries: list[tuple], release: Release) -> list[Event]:
    """Append one event per (object, repr, after) — or (object, repr, after, before) — in
    a single insert: a fixed number of queries however many objects a bulk change
    touched."""
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
            before=before[0] if before else None,
            after=after,
        )
        for obj, text, after, *before in entries
    )


def plain(value):
    """A field's value as JSON the audit trail can hold: related rows by id, a set of
    related rows as their sorted ids (however the form or the query ordered them)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet) or (
        isinstance(value, list | tuple | set)
        and value
        and all(isinstance(item, models.Model) for item in value)
    ):
        return sorted(item.pk for item in value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _field_value(obj: models.Model, field):
    if field.many_to_many:
        return sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return getattr(obj, field.attname)


def snapshot(obj: models.Model, names) -> dict:
    """The values of ``obj``'s fields among ``names``, as ``edit_record`` compares them.
    Names that are not fields of the model (a case's nested steps) are left to the
    service they go through."""
    values = {}
    for name in names:
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.concrete or field.many_to_many:
            values[name] = plain(_field_value(obj, field))
    return values


def edit_record(
    *, actor, obj: models.Model, before: dict | None, after: dict | None, verb: str = ""
) -> Event | None:
    """The audit event of a plain edit of ``obj`` made in the admin or over the API.

    ``before`` None is a creation (``<model>.created`` with ``after``), ``after`` None a
    deletion (``<model>.deleted`` with ``before``); with both it is a change
    (``<model>.changed``) holding only the fields whose value differs, from what to
    what, and no event at all when none does. Values are compared and stored as
    ``plain`` gives them. ``verb`` names a different event, such as a row of an inline
    added to its parent."""
    name = obj._meta.model_name
    if before is None or after is None:
        kind = "created" if before is None else "deleted"
        return event_record(
            actor=actor,
            verb=verb or f"{name}.{kind}",
            obj=obj,
            before=None if before is None else {k: plain(v) for k, v in before.items()},
            after=None if after is None else {k: plain(v) for k, v in after.items()},
        )
    before = {k: plain(v) for k, v in before.items()}
    after = {k: plain(v) for k, v in after.items()}
    changed = [k for k in after if after[k] != before.get(k)]
    if not changed:
        return None
    return event_record(
        actor=actor,
        verb=verb or f"{name}.changed",
        obj=obj,
        before={k: before.get(k) for k in changed},
        after={k: after[k] for k in changed},
    )
