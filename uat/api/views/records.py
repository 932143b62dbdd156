"""Records over the API: sign-offs and the audit trail (read-only), and waivers (listed,
granted and revoked through their services; never edited or deleted)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from reports.models import SignOff

from ...models import Defect, Event, Waiver
from ...policy import can_waive
from ...services import waiver_grant, waiver_revoke
from ..scopes import records_of_stake
from ..serializers.records import (
    EventSerializer,
    SignOffSerializer,
    WaiverInputSerializer,
    WaiverSerializer,
)
from .base import ReadViewSet


class SignOffViewSet(ReadViewSet):
    """Sign-offs are append-only: given with POST /api/v1/reports/{id}/signoffs/, never
    changed or deleted. ``state`` says whether each still counts (current) or not (stale)."""

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


class WaiverViewSet(ReadViewSet):
    """Waivers of the releases the caller holds a stake in (QA leads: all). Stakeholders
    grant one (POST) and revoke it (POST …/revoke/); each is audited."""

    queryset = Waiver.objects.all()
    serializer_class = WaiverSerializer
    filterset_fields = ["release", "defect"]
    ordering_fields = ["created_at", "expires_at"]
    action_permissions = {
        "create": can_waive,
        "revoke": lambda user, waiver: can_waive(user, waiver.release),
    }

    def scope(self, queryset):
        return records_of_stake(queryset, self.request.user, "release")

    @extend_schema(request=WaiverInputSerializer, responses={201: WaiverSerializer})
    def create(self, request):
        defects = records_of_stake(Defect.objects.all(), request.user, "release")
        data = WaiverInputSerializer(
            data=request.data, defects=defects, context={"request": request}
        )
        data.is_valid(raise_exception=True)
        waiver = waiver_grant(actor=request.user, **data.validated_data)
        return Response(WaiverSerializer(waiver).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: WaiverSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """End the waiver now: its defect counts against the criteria again."""
        waiver = waiver_revoke(waiver=self.get_object(), actor=request.user)
        return Response(WaiverSerializer(waiver).data)
