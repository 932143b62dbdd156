"""Read-only records: sign-offs and the audit trail; and the caller's API tokens."""

from rest_framework import serializers

from accounts.models import ApiToken

from ...models import Event, SignOff


class SignOffSerializer(serializers.ModelSerializer):
    plan = serializers.IntegerField(source="report.plan_id", read_only=True)

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
        ]
        read_only_fields = fields


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
