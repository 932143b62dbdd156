"""Executions with their step results, and defects; the inputs of their transitions."""

from rest_framework import serializers

from accounts.models import User

from ...models import (
    CaseVersion,
    Defect,
    DefectComment,
    DefectStatus,
    Execution,
    Release,
    Severity,
    StepResult,
    StepStatus,
)
from ..fields import ApiModelSerializer, VisiblePrimaryKeyRelatedField


class CaseVersionSerializer(serializers.ModelSerializer):
    steps = serializers.JSONField(help_text="[{action, expected}] in order.")

    class Meta:
        model = CaseVersion
        fields = ["number", "title", "objective", "preconditions", "priority", "steps"]


class StepResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = StepResult
        fields = ["position", "status", "actual_result", "recorded_at"]


class ExecutionSerializer(serializers.ModelSerializer):
    """An execution, pinned to the case version it runs, with its step results."""

    case_key = serializers.CharField(source="case.key", read_only=True)
    case_version = CaseVersionSerializer(read_only=True)
    step_results = StepResultSerializer(many=True, read_only=True)
    defects = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Execution
        fields = [
            "id",
            "uuid",
            "plan",
            "case",
            "case_key",
            "case_version",
            "tester",
            "cohort",
            "environment",
            "build",
            "status",
            "is_latest",
            "retest_of",
            "notes",
            "started_at",
            "finished_at",
            "time_spent_seconds",
            "lock_version",
            "step_results",
            "defects",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StepRecordSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, max_value=32767)
    status = serializers.ChoiceField(choices=StepStatus.choices)
    actual_result = serializers.CharField(allow_blank=True, required=False, default="")
    lock_version = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="The lock_version you read; a newer save answers 409 with the current state.",
    )


class ExecutionUnassignSerializer(serializers.Serializer):
    executions = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Execution.objects.all(),
        allow_empty=False,
        help_text="Executions nobody has started yet (pending, no step, evidence or defect).",
    )


class ExecutionReassignSerializer(ExecutionUnassignSerializer):
    tester = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text="An active tester of the executions' cohort; leave out to spread them over "
        "the cohort, least-loaded first.",
    )


class ExecutionMovedSerializer(serializers.Serializer):
    execution = serializers.IntegerField()
    case_key = serializers.CharField()
    tester = serializers.IntegerField()


class ExecutionReassignResultSerializer(serializers.Serializer):
    reassigned = ExecutionMovedSerializer(many=True)


class ExecutionUnassignResultSerializer(serializers.Serializer):
    unassigned = serializers.ListField(child=serializers.IntegerField())


class ExecutionFinishSerializer(serializers.Serializer):
    notes = serializers.CharField(allow_blank=True, required=False)
    time_spent_seconds = serializers.IntegerField(min_value=0, max_value=10**7, default=0)
    lock_version = serializers.IntegerField(min_value=0, required=False)


class DefectReportSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    severity = serializers.ChoiceField(choices=Severity.choices)
    steps_to_reproduce = serializers.CharField(allow_blank=True, required=False, default="")
    step_position = serializers.IntegerField(
        min_value=1, max_value=32767, required=False, allow_null=True
    )
    external_key = serializers.CharField(max_length=50, allow_blank=True, default="")
    external_url = serializers.URLField(max_length=200, allow_blank=True, default="")


class EscapedDefectSerializer(serializers.Serializer):
    """A defect found in production, counted against the release that let it through."""

    release = VisiblePrimaryKeyRelatedField(queryset=Release.objects.all())
    title = serializers.CharField(max_length=300)
    severity = serializers.ChoiceField(choices=Severity.choices)
    build = serializers.CharField(max_length=100)
    steps_to_reproduce = serializers.CharField(allow_blank=True, required=False, default="")
    external_key = serializers.CharField(max_length=50, allow_blank=True, default="")
    external_url = serializers.URLField(max_length=200, allow_blank=True, default="")


class DefectSerializer(ApiModelSerializer):
    reference = serializers.CharField(read_only=True)
    allowed_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=DefectStatus.choices), read_only=True
    )
    executions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Defect
        fields = [
            "id",
            "reference",
            "release",
            "title",
            "steps_to_reproduce",
            "severity",
            "status",
            "allowed_statuses",
            "found_in",
            "executions",
            "step_position",
            "environment",
            "build",
            "reported_by",
            "external_key",
            "external_url",
            "created_at",
            "updated_at",
            "fixed_at",
            "fixed_in_build",
            "resolved_at",
        ]
        # Status moves only through the transition action; the rest of the record is
        # what the reporter saw and stays as reported, except what triage may correct.
        read_only_fields = [
            "release",
            "status",
            "found_in",
            "step_position",
            "environment",
            "build",
            "reported_by",
            "fixed_at",
            "fixed_in_build",
            "resolved_at",
        ]


class DefectTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DefectStatus.choices)
    note = serializers.CharField(allow_blank=True, required=False, default="")
    fixed_in_build = serializers.CharField(
        max_length=100,
        allow_blank=True,
        required=False,
        default="",
        help_text="With status fixed: the build with the fix, which the retests run on. "
        "Required while the UAT environment still runs the build that failed.",
    )


class DefectCommentSerializer(serializers.ModelSerializer):
    """A comment of a defect's conversation."""

    author_name = serializers.SerializerMethodField()

    class Meta:
        model = DefectComment
        fields = ["id", "defect", "author", "author_name", "body", "created_at"]
        read_only_fields = fields

    def get_author_name(self, comment: DefectComment) -> str:
        return comment.author.full_name or comment.author.email


class DefectCommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)
