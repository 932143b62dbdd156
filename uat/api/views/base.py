"""What every viewset shares: the role permission, scoped querysets and audited writes."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from rest_framework import mixins, viewsets

from ...audit import event_record
from ..permissions import RolePermission


def _value(obj: models.Model, name: str):
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return sorted(getattr(obj, name).values_list("pk", flat=True))
    value = getattr(obj, field.attname)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, names) -> dict:
    return {name: _value(obj, name) for name in names if _field_exists(obj, name)}


def _field_exists(obj: models.Model, name: str) -> bool:
    # Nested writes such as a case's steps are audited by the service they go through.
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return field.concrete or field.many_to_many


class ApiViewSet(viewsets.GenericViewSet):
    """Scoped reads (``scope``) and role-checked writes."""

    permission_classes = [RolePermission]

    def scope(self, queryset):
        raise NotImplementedError

    def get_queryset(self):
        return self.scope(self.queryset.all())


class AuditedWrites:
    """An audit event per write, in the same transaction: ``<model>.created`` and
    ``<model>.changed`` with the fields from what to what, as the admin writes them.
    Listed before DRF's mixins so its ``perform_*`` win."""

    @transaction.atomic
    def perform_create(self, serializer):
        obj = serializer.save()
        name = obj._meta.model_name
        after = snapshot(obj, serializer.validated_data)
        event_record(actor=self.request.user, verb=f"{name}.created", obj=obj, after=after)
        self.after_save(obj)

    @transaction.atomic
    def perform_update(self, serializer):
        obj = serializer.instance
        names = list(serializer.validated_data)
        before = snapshot(obj, names)
        serializer.save()
        after = snapshot(obj, names)
        changed = [name for name in after if after[name] != before.get(name)]
        if changed:
            event_record(
                actor=self.request.user,
                verb=f"{obj._meta.model_name}.changed",
                obj=obj,
                before={name: before[name] for name in changed},
                after={name: after[name] for name in changed},
            )
        self.after_save(obj)

    def after_save(self, obj) -> None:
        """Hook for what a save sets off, such as freezing a case version."""


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    pass


class WriteViewSet(
    AuditedWrites,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ReadViewSet,
):
    """List, retrieve, create and update; records are retired, not deleted, over the API."""
