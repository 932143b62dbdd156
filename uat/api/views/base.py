"""What every viewset shares: the role permission, scoped querysets and audited writes."""

from django.db import transaction
from rest_framework import mixins, viewsets

from ...audit import edit_record, snapshot
from ..permissions import RolePermission


class ApiViewSet(viewsets.GenericViewSet):
    """Scoped reads (``scope``) and role-checked writes."""

    permission_classes = [RolePermission]

    def scope(self, queryset):
        raise NotImplementedError

    def get_queryset(self):
        return self.scope(self.queryset.all())


class AuditedWrites:
    """An audit event per write, in the same transaction, through the helper the admin
    uses too: ``<model>.created`` and ``<model>.changed`` with the fields from what to
    what. Listed before DRF's mixins so its ``perform_*`` win."""

    @transaction.atomic
    def perform_create(self, serializer):
        obj = serializer.save()
        after = snapshot(obj, serializer.validated_data)
        edit_record(actor=self.request.user, obj=obj, before=None, after=after)
        self.after_save(obj)

    @transaction.atomic
    def perform_update(self, serializer):
        obj = serializer.instance
        names = list(serializer.validated_data)
        before = snapshot(obj, names)
        serializer.save()
        edit_record(actor=self.request.user, obj=obj, before=before, after=snapshot(obj, names))
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
