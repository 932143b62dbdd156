"""Plans and cohorts over the API, with the plan workflow actions."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ...junit import plan_junit_record
from ...models import Cohort, Plan
from ...policy import can_configure_signoffs, can_manage_plan
from ...services import (
    AssignmentPreview,
    plan_assign,
    plan_assign_preview,
    plan_clone,
    plan_scope_change,
    signoff_role_configure,
    signoff_role_remove,
)
from ..scopes import cohorts_of
from ..serializers.planning import (
    CohortSerializer,
    PlanAssignResultSerializer,
    PlanAssignSerializer,
    PlanCloneSerializer,
    PlanJUnitResultSerializer,
    PlanJUnitSerializer,
    PlanSerializer,
    PlanSignersSerializer,
    PlanSignoffRoleSerializer,
)
from .base import WriteViewSet


class PlanViewSet(WriteViewSet):
    queryset = Plan.objects.select_related("release__product").prefetch_related(
        "cases", "cohorts", "stakeholders"
    )
    serializer_class = PlanSerializer
    filterset_fields = ["release", "release__product", "stage", "status", "owner"]
    ordering_fields = ["name", "starts_on", "ends_on", "created_at"]
    action_permissions = {
        "assign": can_manage_plan,
        "clone": can_manage_plan,
        "junit": can_manage_plan,
        "signers": can_configure_signoffs,
    }

    def scope(self, queryset):
        return queryset.visible_to(self.request.user)

    @transaction.atomic
    def perform_create(self, serializer):
        if "owner" not in serializer.validated_data:
            serializer.validated_data["owner"] = self.request.user
        cases = serializer.validated_data.pop("cases", None)
        super().perform_create(serializer)
        self._scope_save(serializer.instance, cases)

    @transaction.atomic
    def perform_update(self, serializer):
        cases = serializer.validated_data.pop("cases", None)
        super().perform_update(serializer)
        self._scope_save(serializer.instance, cases)

    def _scope_save(self, plan: Plan, cases) -> None:
        """The scope as given, through the service that audits it (``plan.scope_changed``)
        like the admin's."""
        if cases is None:
            return
        kept = {case.pk for case in cases}
        plan_scope_change(
            plan=plan,
            actor=self.request.user,
            add=cases,
            remove=[case for case in plan.cases.all() if case.pk not in kept],
        )

    @extend_schema(
        request=PlanAssignSerializer,
        responses={200: PlanAssignResultSerializer, 201: PlanAssignResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign the plan's ready cases (or the given ones) to a cohort's testers: each
        case needs ``testers_per_case`` of them, only the missing ones are assigned, each
        to the tester with the fewest executions in the plan. ``dry_run`` answers what
        would be created (200) and writes nothing; send its ``preview`` back to create
        exactly that (a 400 if the plan changed meanwhile)."""
        plan = self.get_object()
        data = PlanAssignSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        choice = {
            "plan": plan,
            "cohort": data.validated_data["cohort"],
            "cases": data.validated_data.get("cases"),
            "testers_per_case": data.validated_data["testers_per_case"],
            "actor": request.user,
        }
        if data.validated_data["dry_run"]:
            preview = plan_assign_preview(**choice)
            body = {"executions": [], "created": preview.count, "dry_run": True}
            return Response({**body, **preview.as_dict()})
        created = plan_assign(**choice, expected=data.validated_data.get("preview", ""))
        done = AssignmentPreview(
            plan=plan,
            cohort=choice["cohort"],
            testers_per_case=choice["testers_per_case"],
            assignments=[(execution.case, execution.tester) for execution in created],
        ).as_dict()
        done.pop("already_held")
        body = {
            "executions": [execution.pk for execution in created],
            "created": len(created),
            "dry_run": False,
        }
        return Response({**body, **done}, status=status.HTTP_201_CREATED)

    @extend_schema(request=PlanCloneSerializer, responses={201: PlanSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request, pk=None):
        """Copy the plan — scope, cohorts, criteria, stakeholders, sign-off roles — to
        another release of its product, as a draft."""
        plan = self.get_object()
        data = PlanCloneSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        release = data.validated_data["release"]  # one the caller sees (the field's scope)
        clone = plan_clone(plan=plan, release=release, actor=request.user)
        clone = self.get_queryset().get(pk=clone.pk)
        return Response(PlanSerializer(clone).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PlanSignersSerializer,
        responses={200: PlanSignoffRoleSerializer, 204: None},
    )
    @action(detail=True, methods=["post"])
    def signers(self, request, pk=None):
        """Name the signers of one required sign-off role of the plan (creating the
        requirement if absent), or stop requiring it with ``remove``: administrators and
        the release's owner only. Signers must be active, internal stakeholders, never
        the caller. Audited and emailed to the signers before and after."""
        plan = self.get_object()
        data = PlanSignersSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = data.validated_data["role"]
        if data.validated_data["remove"]:
            required = plan.signoff_roles.filter(role=role).first()
            if required is None:
                raise ValidationError({"role": ["The plan does not require that sign-off."]})
            signoff_role_remove(required=required, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        required = signoff_role_configure(
            plan=plan,
            role=role,
            signers=data.validated_data.get("signers", []),
            actor=request.user,
        )
        return Response(PlanSignoffRoleSerializer(required).data)

    @extend_schema(request=PlanJUnitSerializer, responses={201: PlanJUnitResultSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def junit(self, request, pk=None):
        """Record an automated suite's JUnit XML results as executions of the plan's
        cases, matched by case key; testcases matching no case are listed."""
        plan = self.get_object()
        data = PlanJUnitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = plan_junit_record(
            plan=plan,
            xml=data.validated_data["file"].read(),
            build=data.validated_data["build"],
            actor=request.user,
        )
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)


class CohortViewSet(WriteViewSet):
    queryset = Cohort.objects.select_related("product").prefetch_related("members")
    serializer_class = CohortSerializer
    filterset_fields = ["product", "product__slug", "kind"]
    ordering_fields = ["name", "kind"]

    def scope(self, queryset):
        return cohorts_of(queryset, self.request.user).distinct()
