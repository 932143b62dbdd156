"""The product library: products, releases, environments, requirements, cases."""

from rest_framework import serializers

from ...imports import case_steps_set
from ...models import Case, CaseStep, Environment, Product, Release, Requirement
from ..fields import ApiModelSerializer, VisiblePrimaryKeyRelatedField


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "slug", "description", "created_at"]


class ReleaseSerializer(ApiModelSerializer):
    class Meta:
        model = Release
        fields = [
            "id",
            "product",
            "version",
            "name",
            "kind",
            "stage",
            "target_date",
            "released_at",
            "owner",
            "created_at",
        ]
        # A release moves between stages only through the gate, which records it; its
        # owner (who names the signers) is set by an administrator in the admin.
        read_only_fields = ["stage", "released_at", "owner"]


class EnvironmentSerializer(ApiModelSerializer):
    class Meta:
        model = Environment
        fields = ["id", "product", "name", "url", "build", "notes", "is_active"]


class RequirementSerializer(ApiModelSerializer):
    class Meta:
        model = Requirement
        fields = ["id", "product", "key", "title", "acceptance_text", "criticality", "created_at"]


class CaseStepSerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(read_only=True, help_text="1, 2, … in list order.")

    class Meta:
        model = CaseStep
        fields = ["position", "action", "expected"]


class CaseSerializer(ApiModelSerializer):
    """A case with its ordered steps. Writing ``steps`` replaces them all; every saved
    change of the text or steps becomes a new version."""

    steps = CaseStepSerializer(many=True, required=False)
    requirements = VisiblePrimaryKeyRelatedField(
        many=True, required=False, queryset=Requirement.objects.all()
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "product",
            "key",
            "title",
            "objective",
            "preconditions",
            "priority",
            "status",
            "requirements",
            "steps",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version"]

    def validate(self, attrs):
        product = attrs.get("product") or getattr(self.instance, "product", None)
        if self.instance is not None and "product" in attrs and product != self.instance.product:
            raise serializers.ValidationError({"product": "A case stays in its product."})
        stray = sorted(r.key for r in attrs.get("requirements", []) if r.product_id != product.pk)
        if stray:
            raise serializers.ValidationError(
                {"requirements": f"Not requirements of {product}: {', '.join(stray)}."}
            )
        return attrs

    def create(self, validated_data):
        steps = validated_data.pop("steps", [])
        case = super().create(validated_data)
        case_steps_set(case=case, steps=[(s["action"], s["expected"]) for s in steps])
        return case

    def update(self, instance, validated_data):
        steps = validated_data.pop("steps", None)
        case = super().update(instance, validated_data)
        if steps is not None:
            case_steps_set(case=case, steps=[(s["action"], s["expected"]) for s in steps])
        return case
