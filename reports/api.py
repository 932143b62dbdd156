"""The report endpoints of the REST API: ask for a plan's acceptance report, and read
reports — status, decision, metrics, criteria and the PDF.

Reports are for QA leads and the stakeholders of their release
(``Release.objects.with_results_for``; never release pipelines),
as on the dashboard; testers, whose plans ``Plan.visible_to`` would also show, do not see
acceptance reports, which name every tester's results. Anyone else gets 404.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import two_factor
from accounts.forms import client_ip
from accounts.models import ApiToken
from accounts.services import two_factor_verify
from reports.signoffs import AlreadySigned, SigningLocked, signoff_sign
from uat.api.serializers.records import SignOffSerializer
from uat.downloads import download_filename
from uat.models import Release, SignoffRole
from uat.policy import can_request_report, policy_require

from .currency import STALE, report_state
from .models import AcceptanceReport, ReportDecision, SignOff
from .services import report_request
from .views import plans_for


class ReportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    plan = serializers.IntegerField(source="plan_id", read_only=True)
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    decision = serializers.SerializerMethodField(
        help_text="go or no-go once the report is ready; null before."
    )

    class Meta:
        model = AcceptanceReport
        fields = (
            "id",
            "url",
            "plan",
            "plan_name",
            "status",
            "decision",
            "fingerprint",
            "error",
            "html_url",
            "pdf_url",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(serializers.ChoiceField(choices=ReportDecision.choices, allow_null=True))
    def get_decision(self, report) -> str | None:
        return report.decision or None

    def get_url(self, report) -> str:
        return self._absolute(reverse("report-detail", args=[report.uuid]))

    def get_html_url(self, report) -> str:
        return self._absolute(reverse("reports:report", args=[report.uuid]))

    def get_pdf_url(self, report) -> str | None:
        if not report.is_ready:
            return None
        return self._absolute(reverse("report-pdf", args=[report.uuid]))


class ReportDetailSerializer(ReportSerializer):
    stale = serializers.SerializerMethodField()

    class Meta(ReportSerializer.Meta):
        fields = (*ReportSerializer.Meta.fields, "stale", "metrics", "criteria")
        read_only_fields = fields

    def get_stale(self, report) -> bool | None:
        """Whether the report no longer speaks for the plan's data (it changed since, or
        a newer report exists); null while it is not ready."""
        state = report_state(report)
        return None if state is None else state == STALE


class SignInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=SignoffRole.choices)
    decision = serializers.ChoiceField(choices=SignOff.Decision.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text="Why you reject. When empty on a rejection, the comment is the reason.",
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    confirm_no_go = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Approving a report whose decision is No-go needs true: you approve the "
        "release despite the criteria it fails.",
    )
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=4096, style={"input_type": "password"}
    )
    code = serializers.CharField(
        write_only=True,
        required=False,
        max_length=32,
        help_text="A current code of your authenticator app (or a backup code): needed when "
        "you sign with an API token and use two-factor authentication, as the page's "
        "code step is.",
    )


class SigningLockedError(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Signing is locked after repeated wrong passwords."
    default_code = "signing_locked"


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Acceptance reports of the releases the caller may see, newest first."""

    lookup_field = "uuid"
    serializer_class = ReportSerializer

    def get_queryset(self):
        return (
            AcceptanceReport.objects.filter(
                plan__release__in=Release.objects.with_results_for(self.request.user)
            )
            .select_related("plan__release__product")
            .order_by("-created_at", "-id")
        )

    def get_serializer_class(self):
        return ReportDetailSerializer if self.action == "retrieve" else ReportSerializer

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True)
    def pdf(self, request, uuid=None):
        report = self.get_object()
        if not report.is_ready or not report.pdf:
            raise Http404("This report has no PDF yet.")
        return FileResponse(
            report.pdf.open("rb"),
            as_attachment=True,
            filename=download_filename("acceptance-report", report.uuid, ext="pdf"),
            content_type="application/pdf",
        )

    @extend_schema(
        request=SignInputSerializer, responses={201: SignOffSerializer, 200: SignOffSerializer}
    )
    @action(detail=True, methods=["post"])
    def signoffs(self, request, uuid=None):
        """Sign this report for a required role you hold, re-entering your password.
        400 for invalid input, a wrong password or a report that can no longer be
        signed (or a role whose signers changed after it was built); 403 without the
        role, for the role's own configurer, or while signing is locked; 200 with the
        signature that stands when you already signed it for that role."""
        report = self.get_object()
        data = SignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        reason, comment = fields.get("reason", ""), fields.get("comment", "")
        if fields["decision"] == SignOff.Decision.REJECT and not reason.strip():
            reason, comment = comment, ""
        if isinstance(request.auth, ApiToken) and two_factor.code_owed_with_token(request.user):
            # A browser signs only after its code step; a token shows a code here instead.
            if not fields.get("code"):
                raise ValidationError(
                    {"code": "You use two-factor authentication: send a current code."}
                )
            try:
                two_factor_verify(
                    user=request.user, code=fields["code"], ip=client_ip(request), purpose="sign"
                )
            except DjangoValidationError as error:
                raise ValidationError({"code": error.messages}) from error
        try:
            signoff = signoff_sign(
                report=report,
                signer=request.user,
                role=fields["role"],
                decision=fields["decision"],
                password=fields["password"],
                reason=reason,
                comment=comment,
                confirm_no_go=fields["confirm_no_go"],
            )
        except SigningLocked as locked:
            raise SigningLockedError(str(locked)) from locked
        except DjangoPermissionDenied as refused:
            raise PermissionDenied(str(refused) or None) from refused
        except AlreadySigned as signed:
            # Sent twice (a retry, two requests at once): the signature that stands, 200.
            body = SignOffSerializer(signed.signoff, context=self.get_serializer_context()).data
            return Response(body, status=status.HTTP_200_OK)
        body = SignOffSerializer(signoff, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class PlanReportsView(APIView):
    """POST: ask for the acceptance report of a plan's current data. A new report is
    built in the background (202); while nothing changed, the existing one comes back
    (202 while it is being built, 200 once ready). ``error`` is empty unless the job
    queue cannot be reached: the report is saved and will be built once it is back."""

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "ReportRequested",
                {
                    "id": serializers.UUIDField(),
                    "url": serializers.URLField(),
                    "status": serializers.CharField(),
                    "error": serializers.CharField(
                        help_text="Empty, or why the build is delayed (the job queue is down)."
                    ),
                },
            ),
        },
    )
    def post(self, request, plan_id: int):
        plan = get_object_or_404(plans_for(request.user), pk=plan_id)
        policy_require(can_request_report(request.user, plan), "request_report")
        report, _ = report_request(plan=plan, actor=request.user)
        url = request.build_absolute_uri(reverse("report-detail", args=[report.uuid]))
        code = status.HTTP_200_OK if report.is_ready else status.HTTP_202_ACCEPTED
        return Response(
            {"id": str(report.uuid), "url": url, "status": report.status, "error": report.error},
            status=code,
            headers={"Location": url},
        )
