"""Plans and cohorts."""

from rest_framework import serializers

from accounts.models import User

from ...models import Case, Cohort, CohortMembership, Plan, PlanSignoffRole, Release, SignoffRole
from ..fields import ApiModelSerializer, VisiblePrimaryKeyRelatedField


class PlanSerializer(ApiModelSerializer):
    owner = VisiblePrimaryKeyRelatedField(
        queryset=User.objects.filter(is_external=False),
        required=False,
        help_text="Defaults to the caller.",
    )
    stakeholders = VisiblePrimaryKeyRelatedField(
        many=True, required=False, queryset=User.objects.filter(is_external=False)
    )

    class Meta:
        model = Plan
        fields = [
            "id",
            "release",
            "stage",
            "name",
            "status",
            "objectives",
            "scope_notes",
            "owner",
            "environment",
            "starts_on",
            "ends_on",
            "cases",
            "cohorts",
            "stakeholders",
            *Plan.CRITERIA_FIELDS,
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs):
        def current(name):
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name, None) if self.instance else None

        release = current("release")
        errors = {}
        environment = current("environment")
        if environment is not None and environment.product_id != release.product_id:
            errors["environment"] = "Choose an environment of this product."
        for name, label in (("cases", lambda c: c.key), ("cohorts", lambda c: c.name)):
            stray = sorted(
                label(r) for r in attrs.get(name, []) if r.product_id != release.product_id
            )
            if stray:
                errors[name] = f"Not {name} of {release.product}: {', '.join(stray)}."
        starts, ends = current("starts_on"), current("ends_on")
        if starts and ends and ends < starts:
            errors["ends_on"] = "The plan cannot end before it starts."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PlanAssignSerializer(serializers.Serializer):
    cohort = VisiblePrimaryKeyRelatedField(queryset=Cohort.objects.all())
    cases = VisiblePrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Case.objects.all(),
        help_text="Leave out to assign every ready case in scope.",
    )
    testers_per_case = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    dry_run = serializers.BooleanField(
        default=False,
        help_text="Only say what would be created (200), writing nothing.",
    )
    preview = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The ``preview`` of a dry run: refuses (400) when what would be created "
        "now differs from it.",
    )


class PlanAssignTesterSerializer(serializers.Serializer):
    tester = serializers.IntegerField()
    email = serializers.EmailField()
    executions = serializers.IntegerField()


class PlanAssignCaseSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    key = serializers.CharField()
    testers = serializers.ListField(child=serializers.IntegerField())


class PlanAssignResultSerializer(serializers.Serializer):
    executions = serializers.ListField(
        child=serializers.IntegerField(), help_text="The executions created (none on a dry run)."
    )
    created = serializers.IntegerField(help_text="How many are (or would be) created.")
    dry_run = serializers.BooleanField()
    summary = serializers.CharField()
    preview = serializers.CharField(help_text="Send it back to create exactly this.")
    already_held = serializers.IntegerField(
        required=False, help_text="Dry run: cases already held by enough of the cohort's testers."
    )
    by_tester = PlanAssignTesterSerializer(many=True)
    cases = PlanAssignCaseSerializer(many=True)


class PlanCloneSerializer(serializers.Serializer):
    release = VisiblePrimaryKeyRelatedField(queryset=Release.objects.all())


class PlanSignersSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=SignoffRole.choices)
    signers = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=User.objects.all(),
        help_text="Stakeholders (active, internal); an empty list with remove stops "
        "requiring the role.",
        required=False,
    )
    remove = serializers.BooleanField(
        default=False, help_text="Stop requiring this sign-off role of the plan."
    )


class PlanSignoffRoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanSignoffRole
        fields = ["id", "plan", "role", "signers", "configured_by", "configured_at"]
        read_only_fields = fields


class CohortSerializer(ApiModelSerializer):
    members = VisiblePrimaryKeyRelatedField(many=True, required=False, queryset=User.objects.all())

    class Meta:
        model = Cohort
        fields = ["id", "product", "name", "kind", "description", "members"]

    def validate(self, attrs):
        # The members as they will be (those sent, or else those held) against the cohort
        # as it will be: a kind changed without a member list is checked too.
        cohort = Cohort(kind=attrs.get("kind") or getattr(self.instance, "kind", None))
        if "members" in attrs:
            members = attrs["members"]
        else:
            members = list(self.instance.members.all()) if self.instance else []
        wrong = sorted(
            f"{user.email}: {error}" for user in members if (error := cohort.member_error(user))
        )
        if wrong:
            raise serializers.ValidationError({"members": wrong})
        return attrs

    def create(self, validated_data):
        members = validated_data.pop("members", [])
        cohort = super().create(validated_data)
        _set_members(cohort, members)
        return cohort

    def update(self, instance, validated_data):
        members = validated_data.pop("members", None)
        cohort = super().update(instance, validated_data)
        if members is not None:
            _set_members(cohort, members)
        return cohort


def _set_members(cohort: Cohort, members) -> None:
    wanted = {user.pk for user in members}
    cohort.memberships.exclude(user_id__in=wanted).delete()
    held = set(cohort.memberships.values_list("user_id", flat=True))
    CohortMembership.objects.bulk_create(
        CohortMembership(cohort=cohort, user_id=pk) for pk in sorted(wanted - held)
    )


class PlanJUnitSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A JUnit XML report.")
    build = serializers.CharField(
        max_length=100, allow_blank=True, default="", help_text="Defaults to the plan's build."
    )


class JUnitRecordedSerializer(serializers.Serializer):
    case_key = serializers.CharField()
    execution = serializers.IntegerField()
    status = serializers.CharField()


class PlanJUnitResultSerializer(serializers.Serializer):
    recorded = JUnitRecordedSerializer(many=True)
    unknown = serializers.ListField(
        child=serializers.CharField(), help_text="Testcases that match no case of the plan."
    )
    skipped = serializers.ListField(child=serializers.CharField())
