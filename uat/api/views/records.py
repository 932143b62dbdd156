"""Read-only records over the API: sign-offs and the audit trail."""

from ...models import Event, SignOff
from ..scopes import records_of_stake
from ..serializers.records import EventSerializer, SignOffSerializer
from .base import ReadViewSet


class SignOffViewSet(ReadViewSet):
    """Sign-offs are append-only; they are given on the report pages, not here."""

    queryset = SignOff.objects.select_related("report")
    serializer_class = SignOffSerializer
    filterset_fields = ["report", "report__plan", "signer", "decision", "role"]
    ordering_fields = ["signed_at"]

    def scope(self, queryset):
        return records_of_stake(queryset, self.request.user, "report__plan__release")


class EventViewSet(ReadViewSet):
    """The audit trail: who did what to which record, from what to what, and when."""

    queryset = Event.objects.select_related("content_type")
    serializer_class = EventSerializer
    filterset_fields = ["release", "actor", "verb", "object_id", "content_type__model"]
    ordering_fields = ["created_at"]

    def scope(self, queryset):
        if not self.request.user.has_perm("uat.view_event"):
            return queryset.none()
        return records_of_stake(queryset, self.request.user, "release")
