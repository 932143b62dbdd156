"""Read-only records: sign-offs and the audit trail; and the caller's API tokens."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ApiToken
from reports.currency import SIGNOFF_STATES
from reports.models import SignOff

from ...models import Defect, Event, Waiver
from ..fields import VisiblePrimaryKeyRelatedField


class SignOffListSerializer(serializers.ListSerializer):
    """Works out the state of a whole page of sign-offs at once (a fixed number of
    queries), instead of one fingerprint per sign-off."""

    def to_representation(self, data):
        from reports.currency import signoffs_with_state

        items = data.all() if hasattr(data, "all") else data
        return super().to_representation(signoffs_with_state(items))


class SignOffSerializer(serializers.ModelSerializer):
    plan = serializers.IntegerField(source="report.plan_id", read_only=True)
    report_uuid = serializers.UUIDField(source="report.uuid", read_only=True)
    state = serializers.SerializerMethodField(
        help_text="current while its report is the plan's newest ready report and the "
        "plan's data is unchanged since; stale otherwise (the gate ignores it)."
    )
    stale = serializers.SerializerMethodField()

    class Meta:
        model = SignOff
        fields = [
            "id",
            "report",
            "plan",
            "signer",
            "role",
            "printed_name",
            "meaning",
            "decision",
            "reason",
            "comment",
            "fingerprint",
            "signed_at",
            "report_uuid",
            "state",
            "stale",
        ]
        read_only_fields = fields
        list_serializer_class = SignOffListSerializer

    def _state(self, signoff) -> str:
        if not hasattr(signoff, "state"):
            from reports.currency import signoffs_with_state

            signoffs_with_state([signoff])
        return signoff.state

    @extend_schema_field(serializers.ChoiceField(choices=SIGNOFF_STATES))
    def get_state(self, signoff) -> str:
        return self._state(signoff)

    def get_stale(self, signoff) -> bool:
        return self._state(signoff) == "stale"


class EventSerializer(serializers.ModelSerializer):
    object_type = serializers.CharField(source="content_type.model", read_only=True)
    before = serializers.JSONField(read_only=True, allow_null=True)
    after = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "actor",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "release",
            "before",
            "after",
            "created_at",
        ]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "key_prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]


class NewApiTokenSerializer(ApiTokenSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Shown this once: only its hash is stored."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "secret"]


class WaiverSerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Waiver
        fields = [
            "id",
            "defect",
            "release",
            "reason",
            "expires_at",
            "granted_by",
            "created_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = fields


class WaiverInputSerializer(serializers.Serializer):
    defect = VisiblePrimaryKeyRelatedField(queryset=Defect.objects.none())
    reason = serializers.CharField(max_length=5000)
    expires_at = serializers.DateTimeField()

    def __init__(self, *args, defects=None, **kwargs):
        super().__init__(*args, **kwargs)
        if defects is not None:
            self.fields["defect"].queryset = defects
