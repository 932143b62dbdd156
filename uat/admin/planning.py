"""Plans with their scope, cohorts and criteria; cohorts with their members."""

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from ..forms import (
    CohortMembershipFormSet,
    PlanAdminForm,
    PlanAssignForm,
    PlanCloneForm,
    PlanSignoffRoleForm,
    PlanSignoffRoleFormSet,
)
from ..models import Cohort, CohortMembership, Plan, PlanSignoffRole
from ..policy import (
    REFUSALS,
    can_configure_signoffs,
    can_invite,
    can_manage_plan,
    can_request_report,
)
from ..services import (
    AssignmentPreviewChanged,
    plan_assign,
    plan_assign_preview,
    plan_clone,
    plan_scope_change,
    signoff_role_configure,
    signoff_role_remove,
)
from .base import APPLY, CONFIRM, GreenlightAdmin, PlanFilter, ReleaseFilter, action_page
from .scope import PlanScopeAdminMixin

BOTH_PAGES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


def _with_actor(form_class, request):
    """``form_class`` knowing who submits it, so its checks ask the policy about them."""
    return type(form_class.__name__, (form_class,), {"actor": request.user})


class PlanSignoffRoleInline(admin.TabularInline):
    """The plan's required sign-offs. Only administrators and the release's owner change
    them (others see them read-only); saving goes through ``signoff_role_configure``."""

    model = PlanSignoffRole
    form = PlanSignoffRoleForm
    formset = PlanSignoffRoleFormSet
    fields = ("role", "signers", "configured_by", "configured_at")
    readonly_fields = ("configured_by", "configured_at")
    autocomplete_fields = ("signers",)
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _with_actor(formset.form, request)
        return _with_actor(formset, request)

    def _may_configure(self, request, obj) -> bool:
        return can_configure_signoffs(request.user, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and self._may_configure(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._may_configure(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_configure(request, obj)


def signoff_roles_save(*, plan: Plan, formset, actor) -> None:
    """Save the rows of a plan's required sign-offs inline through the service: each
    removed row is removed, each added or changed one configured (a row whose role
    changed stops requiring the old role)."""
    # What the admin's change message reads; the audit events are the service's.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        instance = form.instance
        if form in formset.deleted_forms:
            if instance.pk:
                signoff_role_remove(required=instance, actor=actor)
            continue
        if not form.has_changed():
            continue
        if instance.pk and "role" in form.changed_data:
            signoff_role_remove(required=PlanSignoffRole.objects.get(pk=instance.pk), actor=actor)
        signoff_role_configure(
            plan=plan,
            role=form.cleaned_data["role"],
            signers=form.cleaned_data.get("signers") or [],
            actor=actor,
        )


def _one_plan(modeladmin, request, queryset) -> Plan | None:
    plans = list(queryset[:2])
    if len(plans) != 1:
        modeladmin.message_user(request, "Choose exactly one plan for this action.", messages.ERROR)
        return None
    return plans[0]


@admin.register(Plan)
class PlanAdmin(PlanScopeAdminMixin, GreenlightAdmin):
    form = PlanAdminForm
    list_display = ("name", "release", "stage", "status", "owner", "case_count", "starts_on")
    list_filter = ("stage", "status", ("release", ReleaseFilter))
    search_fields = ("name", "release__version", "release__product__name")
    list_select_related = ("release__product", "owner")
    ordering = ("release", "stage")  # kept explicitly: the annotation below drops Meta's
    autocomplete_fields = ("release", "owner", "environment", "cases", "cohorts", "stakeholders")
    readonly_fields = ("case_picker", "created_at", "updated_at")
    # The scope is saved through ``plan_scope_change``, which writes its own event.
    audited_elsewhere = ("cases",)
    date_hierarchy = "starts_on"
    inlines = (PlanSignoffRoleInline,)
    actions = ("assign_cases", "clone_plan", "request_report")
    fieldsets = (
        (None, {"fields": (("release", "stage"), "name", "status", "owner", "environment")}),
        ("Schedule", {"fields": (("starts_on", "ends_on"),)}),
        (
            "Scope",
            {
                "fields": (
                    "objectives",
                    "scope_notes",
                    "cases",
                    "case_picker",
                    "cohorts",
                    "stakeholders",
                )
            },
        ),
        (
            "Acceptance criteria",
            {
                "description": "Every criterion must pass for the report to say go. "
                "Leave a defect limit empty for no limit.",
                "fields": (
                    "min_execution_coverage",
                    "min_critical_pass_rate",
                    "min_pass_rate",
                    ("max_open_critical_defects", "max_open_major_defects"),
                    ("max_open_minor_defects", "max_open_trivial_defects"),
                    "require_requirement_coverage",
                    "min_beta_testers_per_critical_case",
                ),
            },
        ),
        ("Record", {"fields": (("created_at", "updated_at"),)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(case_count=Count("cases"))

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if "cases" in form.changed_data:
            plan, chosen = form.instance, list(form.cleaned_data["cases"])
            kept = {case.pk for case in chosen}
            plan_scope_change(
                plan=plan,
                actor=request.user,
                add=chosen,
                remove=[case for case in plan.cases.all() if case.pk not in kept],
            )

    def save_formset(self, request, form, formset, change: bool) -> None:
        if formset.model is PlanSignoffRole:
            # Audited and emailed by the service, not as a plain inline edit.
            signoff_roles_save(plan=form.instance, formset=formset, actor=request.user)
            return
        super().save_formset(request, form, formset, change)

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, plan: Plan) -> int:
        return plan.case_count

    @admin.action(
        permissions=["manage_plan"],
        description="Assign cases to cohort testers",
        location=BOTH_PAGES,
    )
    def assign_cases(self, request, queryset):
        """Assign the plan's ready cases to the testers of one of its cohorts: first a
        preview of who gets what, then, on confirm, exactly that."""
        plan = _one_plan(self, request, queryset)
        if plan is None:
            return None
        confirmed = CONFIRM in request.POST
        submitted = confirmed or APPLY in request.POST
        form = PlanAssignForm(request.POST if submitted else None, plan=plan)
        preview = None
        if form.is_valid():
            cohort = form.cleaned_data["cohort"]
            choice = {
                "plan": plan,
                "cohort": cohort,
                "actor": request.user,
                "testers_per_case": form.cleaned_data["testers_per_case"],
            }
            try:
                if confirmed:
                    created = plan_assign(**choice, expected=request.POST.get("preview", ""))
                else:
                    preview = plan_assign_preview(**choice)
            except AssignmentPreviewChanged as changed:
                form.add_error(None, changed)
                preview = changed.preview
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if confirmed:
                    cases = len({execution.case_id for execution in created})
                    self.message_user(
                        request,
                        f"Assigned {cases} cases of {plan} to {cohort.name}: "
                        f"{len(created)} executions."
                        if created
                        else f"Nothing new to assign: {cohort.name}'s testers already "
                        "hold these cases.",
                        messages.SUCCESS if created else messages.INFO,
                    )
                    return HttpResponseRedirect(reverse("admin:uat_plan_change", args=[plan.pk]))
        return action_page(
            self,
            request,
            obj=plan,
            action="assign_cases",
            form=form,
            title=f"Assign cases of {plan}",
            intro="Each ready case in the plan's scope needs as many of the cohort's testers "
            "as you choose. Only what is missing is assigned, each time to the tester with "
            "the fewest executions in the plan, so assigning again after adding a case or a "
            "tester creates only the new work. Preview first: nothing is written until you "
            "confirm.",
            submit_label="Preview",
            preview=preview,
        )

    @admin.action(
        permissions=["manage_plan"],
        description="Clone plan for a new release",
        location=BOTH_PAGES,
    )
    def clone_plan(self, request, queryset):
        """Copy one plan to another release of its product, as a draft."""
        plan = _one_plan(self, request, queryset)
        if plan is None:
            return None
        form = PlanCloneForm(request.POST if APPLY in request.POST else None, plan=plan)
        if form.is_valid():
            try:
                clone = plan_clone(
                    plan=plan, release=form.cleaned_data["release"], actor=request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                url = reverse("admin:uat_plan_change", args=[clone.pk])
                self.message_user(
                    request,
                    format_html('Cloned {} as <a href="{}">{}</a>, a draft.', plan, url, clone),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(url)
        return action_page(
            self,
            request,
            obj=plan,
            action="clone_plan",
            form=form,
            title=f"Clone {plan}",
            intro="The clone keeps this plan's scope, cohorts, acceptance criteria, "
            "stakeholders and required sign-offs, starts as a draft, and has no executions. "
            "The sign-offs keep their signers only when you may name the signers of the new "
            "release (an administrator or its owner); otherwise they name them afterwards.",
            submit_label="Clone",
        )

    def has_manage_plan_permission(self, request) -> bool:
        return can_manage_plan(request.user)

    def has_request_report_permission(self, request) -> bool:
        return can_request_report(request.user)

    @admin.action(
        permissions=["request_report"],
        description="Request acceptance report",
        location=BOTH_PAGES,
    )
    def request_report(self, request, queryset):
        """Ask for an acceptance report of each selected plan (the existing one when
        nothing changed since it was asked for)."""
        from reports.services import report_request

        for plan in queryset:
            report, created = report_request(plan=plan, actor=request.user)
            url = reverse("reports:dashboard", args=[plan.pk])
            text = (
                "is being built"
                if created
                else f"is unchanged since the last one ({report.get_status_display().lower()})"
            )
            self.message_user(
                request,
                format_html(
                    'The acceptance report of {} {}: <a href="{}">dashboard</a>.', plan, text, url
                ),
                messages.SUCCESS,
            )


@admin.register(PlanSignoffRole)
class PlanSignoffRoleAdmin(GreenlightAdmin):
    """Required sign-offs on their own page: the same rules and service as the plan's
    inline. A refusal shows on the form."""

    form = PlanSignoffRoleForm
    list_display = ("plan", "role", "signer_names", "configured_by", "configured_at")
    list_filter = ("role", ("plan", PlanFilter))
    search_fields = ("plan__name", "signers__full_name", "signers__email")
    list_select_related = ("plan__release__product", "configured_by")
    autocomplete_fields = ("plan", "signers")
    readonly_fields = ("configured_by", "configured_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("signers")

    def get_form(self, request, obj=None, change=False, **kwargs):
        return _with_actor(super().get_form(request, obj, change, **kwargs), request)

    def get_readonly_fields(self, request, obj=None):
        # A role belongs to its plan: moving it to another plan is removing and adding.
        return ("plan", "role", *self.readonly_fields) if obj else self.readonly_fields

    def add_view(self, request, form_url="", extra_context=None):
        # Asked here, not in has_add_permission: that runs on every admin page (the
        # navigation), and this question costs queries.
        if not can_configure_signoffs(request.user):
            raise PermissionDenied(REFUSALS["configure_signoffs"])
        return super().add_view(request, form_url, extra_context)

    def has_change_permission(self, request, obj=None) -> bool:
        plan = obj.plan if obj else None
        allowed = obj is None or can_configure_signoffs(request.user, plan)
        return super().has_change_permission(request, obj) and allowed

    def has_delete_permission(self, request, obj=None) -> bool:
        plan = obj.plan if obj else None
        allowed = obj is None or can_configure_signoffs(request.user, plan)
        return super().has_delete_permission(request, obj) and allowed

    def save_model(self, request, obj, form, change: bool) -> None:
        saved = signoff_role_configure(
            plan=form.cleaned_data.get("plan") or obj.plan,
            role=form.cleaned_data.get("role") or obj.role,
            signers=form.cleaned_data.get("signers") or [],
            actor=request.user,
        )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # the service set the signers

    def delete_model(self, request, obj) -> None:
        signoff_role_remove(required=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.display(description="signers")
    def signer_names(self, role: PlanSignoffRole) -> str:
        return ", ".join(signer.full_name or signer.email for signer in role.signers.all())


class CohortMembershipInline(admin.TabularInline):
    model = CohortMembership
    formset = CohortMembershipFormSet
    fields = ("user", "added_at")
    readonly_fields = ("added_at",)
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Cohort)
class CohortAdmin(GreenlightAdmin):
    list_display = ("name", "product", "kind", "member_count")
    list_filter = ("kind", "product")
    search_fields = ("name", "product__name")
    list_select_related = ("product",)
    ordering = ("product__name", "name")
    autocomplete_fields = ("product",)
    inlines = (CohortMembershipInline,)
    actions = ("invite_testers",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    def has_invite_permission(self, request) -> bool:
        return can_invite(request.user)

    @admin.action(
        permissions=["invite"], description="Invite beta testers by email", location=BOTH_PAGES
    )
    def invite_testers(self, request, queryset):
        """Email single-use invitation links into one beta cohort; all or none are sent."""
        from accounts.forms import InviteTestersForm
        from uat.services import invitation_send

        cohorts = list(queryset[:2])
        if len(cohorts) != 1:
            self.message_user(request, "Choose exactly one cohort to invite into.", messages.ERROR)
            return None
        cohort = cohorts[0]
        form = InviteTestersForm(request.POST if APPLY in request.POST else None)
        if form.is_valid():
            try:
                with transaction.atomic():
                    for email in form.cleaned_data["emails"]:
                        invitation_send(email=email, cohort=cohort, actor=request.user)
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                count = len(form.cleaned_data["emails"])
                self.message_user(
                    request, f"Sent {count} invitation(s) to {cohort.name}.", messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:uat_cohort_change", args=[cohort.pk]))
        return action_page(
            self,
            request,
            obj=cohort,
            action="invite_testers",
            form=form,
            title=f"Invite beta testers to {cohort.name}",
            intro="Each address gets an email with a link that works once and expires. The "
            "invitee chooses a name and password and joins this cohort as an external tester.",
            submit_label="Send invitations",
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, cohort: Cohort) -> int:
        return cohort.member_count


@admin.register(CohortMembership)
class CohortMembershipAdmin(GreenlightAdmin):
    list_display = ("user", "cohort", "cohort_kind", "added_at")
    list_filter = ("cohort__kind", "cohort")
    search_fields = ("user__email", "user__full_name", "cohort__name")
    list_select_related = ("user", "cohort")
    autocomplete_fields = ("cohort", "user")

    @admin.display(description="kind", ordering="cohort__kind")
    def cohort_kind(self, membership: CohortMembership) -> str:
        return membership.cohort.get_kind_display()
