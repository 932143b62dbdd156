"""The release gate over the API, for release pipelines:

- ``GET /api/v1/releases/{id}/gate/?stage=beta|production`` answers go, no-go or
  inconclusive with every reason;
- ``POST /api/v1/releases/{id}/promote/`` with ``{stage, build}`` records a promotion when
  the gate says go (201), and answers 409 with the decision and its reasons otherwise.

Releases are those the caller may see (404 for others); promoting needs the
``policy.can_promote`` rule (QA leads and the Release pipeline role).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.gate import GATE_STAGE_CHOICES, SIGNOFF_STATUSES, gate_check
from reports.models import GateVerdict, Promotion
from reports.promotions import GateClosedError, release_promote

from ..models import Release
from ..policy import can_promote, policy_require
from .errors import error_body


class GateQuerySerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=GATE_STAGE_CHOICES, help_text="The stage to go to.")


class GateReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.CharField(help_text="The product's slug.")
    version = serializers.CharField()
    kind = serializers.ChoiceField(choices=Release.Kind.choices)
    stage = serializers.ChoiceField(choices=Release.Stage.choices, help_text="Where it is now.")


class GateReportSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    plan = serializers.IntegerField()
    plan_stage = serializers.CharField()
    status = serializers.CharField()
    decision = serializers.CharField(help_text="go or no-go once ready; empty before.")
    fingerprint = serializers.CharField()
    fresh = serializers.BooleanField(help_text="False when the plan's data changed since.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class GateSignoffSerializer(serializers.Serializer):
    role = serializers.CharField()
    label = serializers.CharField()
    status = serializers.ChoiceField(choices=SIGNOFF_STATUSES)
    signer = serializers.EmailField(allow_null=True)
    printed_name = serializers.CharField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class GateSerializer(serializers.Serializer):
    release = GateReleaseSerializer()
    stage = serializers.ChoiceField(choices=GATE_STAGE_CHOICES)
    decision = serializers.ChoiceField(choices=GateVerdict.choices)
    reasons = serializers.ListField(child=serializers.CharField())
    report = GateReportSerializer(allow_null=True)
    signoffs = GateSignoffSerializer(many=True, help_text="One per required sign-off role.")
    evaluated_at = serializers.DateTimeField()


class PromoteSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=GATE_STAGE_CHOICES)
    build = serializers.CharField(max_length=100, help_text="The build being promoted.")


class PromotionSerializer(serializers.ModelSerializer):
    promoted_by = serializers.EmailField(source="promoted_by.email")
    report = serializers.UUIDField(source="report.uuid", allow_null=True)
    decision = GateSerializer()

    class Meta:
        model = Promotion
        fields = (
            "id",
            "release",
            "from_stage",
            "to_stage",
            "build",
            "promoted_by",
            "report",
            "decision",
            "created_at",
        )


class GateClosedErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    decision = GateSerializer()


class GateClosedSerializer(serializers.Serializer):
    """The API's error format, with the gate decision that refused the promotion."""

    error = GateClosedErrorSerializer()


def _release(request, pk: int) -> Release:
    queryset = Release.objects.visible_to(request.user).select_related("product")
    return get_object_or_404(queryset, pk=pk)


def _invalid(error: DjangoValidationError) -> ApiValidationError:
    if hasattr(error, "error_dict"):
        return ApiValidationError(error.message_dict)
    return ApiValidationError({"detail": error.messages})


class ReleaseGateView(APIView):
    pipeline_actions = True

    @extend_schema(
        operation_id="releases_gate",
        summary="May this release go to that stage?",
        description=(
            "go, no-go or inconclusive, with every reason. Inconclusive when there is no "
            "report, it is still being built, it failed or it is stale; no-go when a "
            "criterion fails, a required signer rejected or a sign-off is missing."
        ),
        parameters=[GateQuerySerializer],
        responses={
            200: GateSerializer,
            400: OpenApiResponse(description="Not a stage this release has a gate for."),
            404: OpenApiResponse(description="No such release, or not yours to see."),
        },
        tags=["gate"],
    )
    def get(self, request, pk: int):
        release = _release(request, pk)
        query = GateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            decision = gate_check(release=release, stage=query.validated_data["stage"])
        except DjangoValidationError as error:
            raise _invalid(error) from None
        return Response(GateSerializer(decision.as_dict()).data)


class ReleasePromoteView(APIView):
    pipeline_actions = True

    @extend_schema(
        operation_id="releases_promote",
        summary="Promote the release to its next stage when the gate says go",
        request=PromoteSerializer,
        responses={
            201: PromotionSerializer,
            400: OpenApiResponse(description="Not the release's next stage, or no build."),
            403: OpenApiResponse(description="The caller may not promote releases."),
            404: OpenApiResponse(description="No such release, or not yours to see."),
            409: GateClosedSerializer,
        },
        tags=["gate"],
    )
    def post(self, request, pk: int):
        release = _release(request, pk)
        policy_require(can_promote(request.user, release), "promote")
        data = PromoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            promotion = release_promote(release=release, actor=request.user, **data.validated_data)
        except GateClosedError as closed:
            body = error_body(
                "gate_closed",
                f"The gate says {closed.decision.decision}; nothing was promoted.",
                decision=GateSerializer(closed.decision.as_dict()).data,
            )
            return Response(body, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as error:
            raise _invalid(error) from None
        return Response(PromotionSerializer(promotion).data, status=status.HTTP_201_CREATED)
