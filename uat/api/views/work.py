"""Executions and defects over the API, with their workflow actions."""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ...models import Defect, Execution
from ...policy import (
    can_comment,
    can_manage_plan,
    can_record,
    can_report_escaped_defect,
    can_triage,
)
from ...services import (
    ConcurrentEditError,
    defect_comment_add,
    defect_report,
    defect_report_escaped,
    defect_transition,
    execution_reassign,
    execution_record,
    execution_step_record,
    execution_unassign,
)
from ...tables import DEFECTS, EXECUTIONS, table_file
from ..errors import conflict_response
from ..files import (
    FILE_RENDERERS,
    FILE_RESPONSES,
    FORMAT_PARAMETER,
    file_response,
    requested_format,
)
from ..serializers.work import (
    DefectCommentInputSerializer,
    DefectCommentSerializer,
    DefectReportSerializer,
    DefectSerializer,
    DefectTransitionSerializer,
    EscapedDefectSerializer,
    ExecutionFinishSerializer,
    ExecutionReassignResultSerializer,
    ExecutionReassignSerializer,
    ExecutionSerializer,
    ExecutionUnassignResultSerializer,
    ExecutionUnassignSerializer,
    StepRecordSerializer,
)
from .base import AuditedWrites, ReadViewSet

CONFLICT = OpenApiResponse(
    description="Someone saved the execution after you read it; ``error.current`` holds "
    "the execution as it is now."
)


class ExecutionViewSet(ReadViewSet):
    # The serializer names the plan, tester, cohort and environment by id alone, and
    # each join costs PostgreSQL planning time on every page; the export and the
    # writes, which read them, join them (``get_queryset``).
    queryset = Execution.objects.select_related("case", "case_version").prefetch_related(
        "step_results", Prefetch("defects", queryset=Defect.objects.only("pk"))
    )
    serializer_class = ExecutionSerializer
    filterset_fields = [
        "plan",
        "plan__release",
        "case",
        "tester",
        "cohort",
        "status",
        "is_latest",
    ]
    ordering_fields = ["created_at", "updated_at", "finished_at", "status"]
    action_permissions = {
        "steps": can_record,
        "finish": can_record,
        "defects": can_record,
        "reassign": can_manage_plan,
        "unassign": can_manage_plan,
    }

    def scope(self, queryset):
        return queryset.visible_to(self.request.user)

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if self.action in ("list", "retrieve") else queryset.with_details()

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=FILE_RESPONSES)
    @action(detail=False, renderer_classes=FILE_RENDERERS)
    def export(self, request):
        """The executions you see, filtered as the list is, as CSV or XLSX."""
        fmt = requested_format(request)
        executions = self.filter_queryset(self.get_queryset())
        return file_response(table_file(EXECUTIONS, executions, fmt), "executions", fmt)

    def _chosen(self, executions: list[Execution]) -> list[Execution]:
        """The chosen executions the caller sees; one they do not is no such execution."""
        ids = {execution.pk for execution in executions}
        seen = set(self.get_queryset().filter(pk__in=ids).values_list("pk", flat=True))
        if unseen := sorted(ids - seen):
            raise ValidationError(
                {"executions": [f"No such execution: {', '.join(map(str, unseen))}."]}
            )
        return executions

    @extend_schema(
        request=ExecutionReassignSerializer, responses={200: ExecutionReassignResultSerializer}
    )
    @action(detail=False, methods=["post"])
    def reassign(self, request):
        """Give executions nobody has started yet to another tester of their cohort, or
        spread them over it (least-loaded first): when a tester leaves, say. QA leads;
        refused as a whole (400) when one was started. Audited per execution."""
        data = ExecutionReassignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = execution_reassign(
            executions=self._chosen(data.validated_data["executions"]),
            actor=request.user,
            tester=data.validated_data.get("tester"),
        )
        rows = [{"execution": e.pk, "case_key": e.case.key, "tester": e.tester_id} for e in moved]
        return Response({"reassigned": rows})

    @extend_schema(
        request=ExecutionUnassignSerializer, responses={200: ExecutionUnassignResultSerializer}
    )
    @action(detail=False, methods=["post"])
    def unassign(self, request):
        """Withdraw executions nobody has started yet: they are deleted (no result is
        lost; the audit trail keeps what was assigned). A retest is refused: reassign it.
        QA leads; refused as a whole (400) when one was started."""
        data = ExecutionUnassignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        withdrawn = execution_unassign(
            executions=self._chosen(data.validated_data["executions"]), actor=request.user
        )
        return Response({"unassigned": sorted(withdrawn)})

    def _current(self, execution: Execution) -> dict:
        return ExecutionSerializer(self.get_queryset().get(pk=execution.pk)).data

    @extend_schema(
        request=StepRecordSerializer, responses={200: ExecutionSerializer, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Record one step's result and what actually happened."""
        execution = self.get_object()
        data = StepRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            execution_step_record(execution=execution, actor=request.user, **data.validated_data)
        except ConcurrentEditError as error:
            return conflict_response(error.messages[0], self._current(error.current))
        return Response(self._current(execution))

    @extend_schema(
        request=ExecutionFinishSerializer, responses={200: ExecutionSerializer, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        """Finish the execution with the overall result its steps imply."""
        execution = self.get_object()
        data = ExecutionFinishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            execution_record(execution=execution, actor=request.user, **data.validated_data)
        except ConcurrentEditError as error:
            return conflict_response(error.messages[0], self._current(error.current))
        return Response(self._current(execution))

    @extend_schema(request=DefectReportSerializer, responses={201: DefectSerializer})
    @action(detail=True, methods=["post"])
    def defects(self, request, pk=None):
        """Report a defect found while running this execution. Send an
        ``Idempotency-Key`` header (up to 64 characters of your choosing) to make a resent
        request safe: the same key again answers 200 with the defect the first made."""
        execution = self.get_object()
        data = DefectReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 64:
            raise ValidationError({"Idempotency-Key": "At most 64 characters."})
        defect = defect_report(
            execution=execution, actor=request.user, submission_key=key, **data.validated_data
        )
        again = getattr(defect, "resubmitted", False)
        defect = Defect.objects.with_details().prefetch_related("executions").get(pk=defect.pk)
        answer = status.HTTP_200_OK if again else status.HTTP_201_CREATED
        return Response(DefectSerializer(defect).data, status=answer)


class DefectViewSet(AuditedWrites, mixins.UpdateModelMixin, ReadViewSet):
    """Defects. Creating one here records a defect that escaped to production; defects
    found in UAT are reported on their execution (``POST /executions/{id}/defects/``)."""

    queryset = Defect.objects.with_details().prefetch_related("executions")
    serializer_class = DefectSerializer
    filterset_fields = ["release", "release__product", "status", "severity", "found_in"]
    ordering_fields = ["created_at", "updated_at", "severity", "status"]
    action_permissions = {
        "create": can_report_escaped_defect,
        "transition": can_triage,
        "comment_add": can_comment,
    }

    def scope(self, queryset):
        return queryset.visible_to(self.request.user)

    @extend_schema(request=EscapedDefectSerializer, responses={201: DefectSerializer})
    def create(self, request, *args, **kwargs):
        """Record a defect found in production against the release that let it through."""
        data = EscapedDefectSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        release = fields.pop("release")
        defect = defect_report_escaped(release=release, actor=request.user, **fields)
        defect = self.get_queryset().get(pk=defect.pk)
        return Response(DefectSerializer(defect).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=FILE_RESPONSES)
    @action(detail=False, renderer_classes=FILE_RENDERERS)
    def export(self, request):
        """The defects you see, filtered as the list is, as CSV or XLSX."""
        fmt = requested_format(request)
        defects = self.filter_queryset(self.get_queryset())
        return file_response(table_file(DEFECTS, defects, fmt), "defects", fmt)

    @extend_schema(request=DefectTransitionSerializer, responses={200: DefectSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the defect along its workflow. Fixing it queues retests on the build
        with the fix: ``fixed_in_build``, required while the UAT environment still runs
        the build that failed, else the environment's build. The reporter is emailed."""
        defect = self.get_object()
        data = DefectTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        defect_transition(defect=defect, actor=request.user, **data.validated_data)
        return Response(DefectSerializer(self.get_queryset().get(pk=defect.pk)).data)

    @extend_schema(responses={200: DefectCommentSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def comments(self, request, pk=None):
        """The defect's comments, oldest first."""
        defect = self.get_object()
        comments = defect.comments.with_author()
        return Response(DefectCommentSerializer(comments, many=True).data)

    @extend_schema(request=DefectCommentInputSerializer, responses={201: DefectCommentSerializer})
    @comments.mapping.post
    def comment_add(self, request, pk=None):
        """Comment on the defect (its reporter, QA leads, and the internal staff who see
        it; an external tester on a defect they reported). The reporter is emailed."""
        defect = self.get_object()
        data = DefectCommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = defect_comment_add(defect=defect, actor=request.user, **data.validated_data)
        return Response(DefectCommentSerializer(comment).data, status=status.HTTP_201_CREATED)
