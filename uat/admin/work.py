"""The work of UAT: executions with their step results and evidence, and defects."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.core.exceptions import ValidationError
from django.db import transaction

from ..audit import edit_record
from ..forms import DefectAdminForm, DefectFixForm, ExecutionReassignForm
from ..models import Defect, DefectComment, DefectStatus, Evidence, Execution, StepResult
from ..policy import can_manage_plan
from ..services import defect_transition, execution_reassign, execution_unassign
from .base import (
    APPLY,
    GreenlightAdmin,
    PlanFilter,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ReleaseFilter,
    action_page,
)
from .library import export_defects_xlsx, export_executions_xlsx


class StepResultInline(ReadOnlyInline):
    model = StepResult
    fields = ("position", "status", "actual_result", "recorded_at")
    readonly_fields = fields
    show_change_link = False


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    # No file link: evidence is handed out only by views that check who may see it.
    fields = ("original_name", "step_position", "content_type", "size", "uploaded_at")
    readonly_fields = fields


def _count(executions) -> str:
    return f"{len(executions)} execution{'' if len(executions) == 1 else 's'}"


def _named(execution: Execution) -> str:
    return (
        f"{execution.case.key} by {execution.tester} in {execution.plan} "
        f"({execution.get_status_display()})"
    )


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    """Executions are assigned by the plan action, recorded by testers and queued as
    retests by a fixed defect, each through its service; here they are for reading, and
    those nobody has started yet can be reassigned or unassigned (actions)."""

    list_display = (
        "case",
        "tester",
        "plan",
        "cohort",
        "status",
        "is_latest",
        "retest_of_number",
        "created_at",
    )
    list_filter = ("status", "is_latest", ("plan", PlanFilter), "cohort")
    search_fields = ("case__key", "case__title", "tester__email", "tester__full_name")
    list_select_related = ("plan__release__product", "case", "tester", "cohort")
    date_hierarchy = "created_at"
    inlines = (StepResultInline, EvidenceInline)
    actions = ("reassign_executions", "unassign_executions", export_executions_xlsx)
    fields = (
        ("plan", "cohort"),
        ("case", "case_version"),
        "tester",
        ("environment", "build"),
        ("status", "is_latest"),
        "retest_of",
        "notes",
        "assigned_by",
        ("started_at", "finished_at", "time_spent_seconds"),
        ("uuid", "lock_version"),
        ("created_at", "updated_at"),
    )

    @admin.display(description="retest of", ordering="retest_of")
    def retest_of_number(self, execution: Execution) -> str:
        return f"#{execution.retest_of_id}" if execution.retest_of_id else ""

    def has_manage_plan_permission(self, request) -> bool:
        return can_manage_plan(request.user)

    def _selection(self, queryset) -> list[Execution]:
        return list(
            queryset.select_related("plan__release__product", "case", "tester", "cohort").order_by(
                "plan_id", "case__key", "pk"
            )
        )

    @admin.action(
        permissions=["manage_plan"],
        description="Reassign to another tester (not started yet)",
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def reassign_executions(self, request, queryset):
        """Give the selected executions, none started yet, to another tester of their
        cohort, or spread them over it: when a tester leaves, say."""
        executions = self._selection(queryset)
        submitted = request.POST if APPLY in request.POST else None
        form = ExecutionReassignForm(submitted, executions=executions)
        if form.is_valid():
            try:
                moved = execution_reassign(
                    executions=executions, actor=request.user, tester=form.cleaned_data["tester"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                moves = ", ".join(f"{e.case.key} → {e.tester}" for e in moved)
                self.message_user(
                    request, f"Reassigned {_count(moved)}: {moves}.", messages.SUCCESS
                )
                return None
        return action_page(
            self,
            request,
            obj=None,
            selected=[execution.pk for execution in executions],
            items=[_named(execution) for execution in executions],
            action="reassign_executions",
            form=form,
            title="Reassign executions",
            intro="Only executions nobody has started (not run, no step, evidence or defect "
            "recorded) can move; a tester never gets a case they already hold in the plan.",
            submit_label="Reassign",
        )

    @admin.action(
        permissions=["manage_plan"],
        description="Unassign (not started yet)",
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def unassign_executions(self, request, queryset):
        """Withdraw the selected executions, none started yet, after a confirmation."""
        executions = self._selection(queryset)
        form = forms.Form(request.POST if APPLY in request.POST else None)
        if form.is_valid():
            try:
                withdrawn = execution_unassign(executions=executions, actor=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, f"Unassigned {_count(withdrawn)}.", messages.SUCCESS)
                return None
        return action_page(
            self,
            request,
            obj=None,
            selected=[execution.pk for execution in executions],
            items=[_named(execution) for execution in executions],
            action="unassign_executions",
            form=form,
            title="Unassign executions",
            intro="These executions are removed: nobody has started them, so no result is "
            "lost, and the audit trail keeps what was assigned to whom. A retest is "
            "reassigned, not unassigned. Assigning the plan again fills the cases anew.",
            submit_label="Unassign",
        )


@admin.register(StepResult)
class StepResultAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    """Step results are recorded by testers through the execution services."""

    list_display = ("execution", "position", "status", "recorded_at")
    list_filter = ("status",)
    search_fields = ("execution__case__key", "execution__tester__email", "actual_result")
    list_select_related = ("execution__case", "execution__tester")


@admin.register(Evidence)
class EvidenceAdmin(GreenlightAdmin):
    """Evidence is uploaded by testers. A QA lead may remove a file uploaded by mistake
    (a screenshot with personal data, say); the removal is audited and the file goes
    from storage too. The file itself is not linked: evidence is handed out only by
    views that check who may see the execution."""

    list_display = (
        "original_name",
        "execution",
        "step_position",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
    )
    list_filter = ("content_type",)
    search_fields = ("original_name", "execution__case__key", "uploaded_by__email")
    list_select_related = (
        "execution__plan__release__product",
        "execution__case",
        "execution__tester",
        "uploaded_by",
    )
    readonly_fields = (
        "execution",
        "step_position",
        "original_name",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj: Evidence) -> None:
        name, storage = obj.file.name, obj.file.storage
        # Audited on the execution, whose evidence it was (and whose release it is).
        edit_record(
            actor=request.user,
            obj=obj.execution,
            verb="evidence.deleted",
            before={"evidence": obj.original_name, "sha256": obj.sha256},
            after=None,
        )
        obj.delete()
        transaction.on_commit(lambda: storage.delete(name))

    def delete_queryset(self, request, queryset) -> None:
        for evidence in queryset:
            self.delete_model(request, evidence)


class DefectCommentInline(ReadOnlyInline):
    """The defect's conversation, read-only: comments are added on the defect's page or
    over the API, through ``defect_comment_add``."""

    model = DefectComment
    fields = ("created_at", "author", "body")
    readonly_fields = fields
    show_change_link = False
    verbose_name_plural = "comments"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


BOTH_PAGES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


def _status_action(status: DefectStatus):
    def action(modeladmin, request, queryset):
        modeladmin.transition(request, queryset, status)

    action.__name__ = f"mark_{status.value}"
    return admin.action(
        action,
        permissions=["change"],
        description=f"Mark as {status.label.lower()}",
        location=BOTH_PAGES,
    )


@admin.register(Defect)
class DefectAdmin(GreenlightAdmin):
    list_display = (
        "reference",
        "title",
        "severity",
        "status",
        "release",
        "found_in",
        "reported_by",
        "created_at",
    )
    list_filter = ("status", "severity", "found_in", ("release", ReleaseFilter))
    search_fields = ("title", "external_key", "steps_to_reproduce")
    list_select_related = ("release__product", "reported_by")
    form = DefectAdminForm
    autocomplete_fields = ("release", "executions", "environment")
    # The status moves only through the workflow (the actions below), which checks each
    # transition, audits it and queues the retests a fix needs.
    readonly_fields = (
        "status",
        "fixed_in_build",
        "reported_by",
        "created_at",
        "updated_at",
        "resolved_at",
    )
    inlines = (DefectCommentInline,)

    def get_inlines(self, request, obj=None):
        # A new defect is recorded by its service and has no comments yet.
        return self.inlines if obj is not None else ()

    actions = [
        *(
            _status_action(status)
            for status in DefectStatus
            if status not in (DefectStatus.NEW, DefectStatus.FIXED)
        ),
        "mark_fixed",
        export_defects_xlsx,
    ]
    fieldsets = (
        (None, {"fields": ("release", "title", "steps_to_reproduce", ("severity", "found_in"))}),
        (
            "Where it was found",
            {"fields": ("executions", "step_position", ("environment", "build"))},
        ),
        ("Tracker", {"fields": (("external_key", "external_url"),)}),
        (
            "Workflow",
            {
                "fields": (
                    ("status", "fixed_in_build"),
                    "reported_by",
                    ("created_at", "updated_at", "resolved_at"),
                )
            },
        ),
    )

    @admin.display(description="reference", ordering="pk")
    def reference(self, defect: Defect) -> str:
        return defect.reference

    def get_search_results(self, request, queryset, search_term):
        # "DEF-12" (how people quote a defect) finds defect 12.
        reference = search_term.strip().upper().removeprefix("DEF-")
        if reference.isdigit():
            return queryset.filter(pk=int(reference)), False
        return super().get_search_results(request, queryset, search_term)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user  # a class made for this request
        return form

    def save_model(self, request, obj: Defect, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The form's validation recorded the defect through its service, audit event
        # included; the admin goes on with that defect.
        obj.pk = form.defect.pk

    def save_related(self, request, form, formsets, change: bool) -> None:
        if change:  # a new defect's executions were linked by its service
            super().save_related(request, form, formsets, change)

    @admin.action(permissions=["change"], description="Mark as fixed", location=BOTH_PAGES)
    def mark_fixed(self, request, queryset):
        """Say which build has the fix (and why), then mark each selected defect fixed:
        its retests are queued on that build."""
        defects = list(queryset.order_by("pk"))
        form = DefectFixForm(request.POST if APPLY in request.POST else None)
        if form.is_valid():
            refusals = self.transition(request, defects, DefectStatus.FIXED, **form.cleaned_data)
            if len(refusals) < len(defects):
                return None
            for refusal in refusals:  # nothing moved: say why on the form, keep the build
                form.add_error(None, refusal)
        names = ", ".join(defect.reference for defect in defects)
        return action_page(
            self,
            request,
            obj=defects[0],
            selected=[defect.pk for defect in defects],
            items=[str(defect) for defect in defects],
            action="mark_fixed",
            form=form,
            title=f"Mark {names} fixed",
            intro="Retests of the failed runs are queued for their testers on the build with "
            "the fix: the one named here, or the UAT environment's build when it moved on "
            "since the failure.",
            submit_label="Mark fixed",
        )

    def transition(self, request, queryset, status: DefectStatus, **details) -> list[str]:
        """Move each selected defect to ``status`` through the workflow; report which
        moved and why the others could not (the refusals are returned too)."""
        moved, refusals = [], []
        for defect in queryset:
            try:
                defect_transition(defect=defect, status=status, actor=request.user, **details)
            except ValidationError as error:
                refusals.append(f"{defect.reference}: {' '.join(error.messages)}")
            else:
                moved.append(defect.reference)
        if moved:
            for refusal in refusals:
                self.message_user(request, refusal, messages.ERROR)
            self.message_user(
                request,
                f"Marked as {status.label.lower()}: {', '.join(moved)}.",
                messages.SUCCESS,
            )
        elif status != DefectStatus.FIXED:
            for refusal in refusals:
                self.message_user(request, refusal, messages.ERROR)
        return refusals
