"""The product library: products, releases, environments, requirements and versioned cases."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Max
from django.http import HttpResponseRedirect

from ..forms import CaseAdminForm, CaseStepForm, CaseStepFormSet
from ..models import Case, CaseStep, CaseVersion, Environment, Product, Release, Requirement
from ..policy import REFUSALS, administrator, can_build_evidence_package
from ..services import case_version_record
from .base import GreenlightAdmin, ReadOnlyAdminMixin, ReadOnlyInline
from .library import LibraryAdminMixin
from .versions import CaseCompareAdminMixin, compare_link


@admin.register(Product)
class ProductAdmin(GreenlightAdmin):
    list_display = ("name", "slug", "created_at")
    list_filter = ("created_at",)
    search_fields = ("name", "slug")
    list_select_related = ()
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Release)
class ReleaseAdmin(GreenlightAdmin):
    list_display = ("version", "product", "name", "kind", "stage", "target_date", "released_at")
    list_filter = ("stage", "kind", "product")
    search_fields = ("version", "name", "product__name")
    list_select_related = ("product",)
    autocomplete_fields = ("product", "owner")
    # A release moves between stages only through the gate, which records the promotion
    # and the decision it relied on; a new release starts in planning.
    readonly_fields = ("stage", "released_at", "created_at")
    actions = ("build_evidence_package",)

    def get_readonly_fields(self, request, obj=None):
        # The owner names the signers of the release's sign-offs: an administrator's
        # choice, or a QA lead could make themself owner and pick their own signers.
        if administrator(request.user):
            return self.readonly_fields
        return (*self.readonly_fields, "owner")

    def has_build_evidence_package_permission(self, request) -> bool:
        return can_build_evidence_package(request.user)

    @admin.action(
        permissions=["build_evidence_package"],
        description="Build evidence package (zip for auditors)",
    )
    def build_evidence_package(self, request, queryset):
        from reports.evidence_packages import evidence_package_request

        refused = [r for r in queryset if not can_build_evidence_package(request.user, r)]
        if refused:
            self.message_user(request, REFUSALS["build_evidence_package"], messages.ERROR)
            return
        for release in queryset:
            evidence_package_request(release=release, actor=request.user)
        # A release whose package is being built already gets that one, not another.
        self.message_user(
            request,
            "Building the evidence packages; they appear under Evidence packages when ready.",
            messages.SUCCESS,
        )


@admin.register(Environment)
class EnvironmentAdmin(GreenlightAdmin):
    list_display = ("name", "product", "build", "url", "is_active")
    list_filter = ("is_active", "product")
    search_fields = ("name", "build", "product__name")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)


@admin.register(Requirement)
class RequirementAdmin(GreenlightAdmin):
    list_display = ("key", "title", "product", "criticality", "case_count")
    list_filter = ("criticality", "product")
    search_fields = ("key", "title")
    list_select_related = ("product",)
    ordering = ("product__name", "key")
    autocomplete_fields = ("product",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(case_count=Count("cases"))

    @admin.display(description="cases", ordering="case_count")
    def case_count(self, requirement: Requirement) -> int:
        return requirement.case_count


class CaseStepInline(admin.TabularInline):
    model = CaseStep
    form = CaseStepForm
    formset = CaseStepFormSet
    fields = ("position", "action", "expected")
    ordering = ("position",)
    extra = 1

    class Media:
        css = {"all": ("css/admin-case-editor.css",)}
        js = ("js/case-steps.js",)


class CaseVersionInline(ReadOnlyInline):
    model = CaseVersion
    fields = ("number", "title", "priority", "step_count", "created_by", "created_at", "changes")
    readonly_fields = fields
    ordering = ("-number",)
    verbose_name_plural = "versions (newest first; executions keep the one they ran)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case", "created_by")

    @admin.display(description="changes")
    def changes(self, version: CaseVersion) -> str:
        return compare_link(version)


@admin.register(Case)
class CaseAdmin(CaseCompareAdminMixin, LibraryAdminMixin, GreenlightAdmin):
    form = CaseAdminForm
    list_display = ("key", "title", "product", "priority", "status", "version", "updated_at")
    list_filter = ("status", "priority", "product")
    search_fields = ("key", "title")
    list_select_related = ("product",)
    autocomplete_fields = ("product", "requirements")
    readonly_fields = ("version", "created_at", "updated_at")
    fields = (
        ("product", "key"),
        "title",
        "objective",
        "preconditions",
        ("priority", "status"),
        "requirements",
        "version",
        ("created_at", "updated_at"),
    )
    inlines = (CaseStepInline, CaseVersionInline)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form checks what it can; a refusal the versioning service still raises
        # (say, someone emptied the steps meanwhile) rolls the whole save back and shows
        # as a message instead of an error page.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(
                request, f"Nothing was saved: {' '.join(error.messages)}", messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())

    def save_formset(self, request, form, formset, change):
        if formset.model is not CaseStep:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for step in formset.deleted_objects:
            step.delete()
        # Every kept step is saved at the number the formset gave it (1..n in the order
        # shown). Renumbering would collide with the unique (case, position) constraint
        # mid-way: move the saved steps past the last position first.
        steps = formset.ordered_steps
        moved = [step.pk for step in steps if step.pk]
        if moved:
            top = CaseStep.objects.filter(case=form.instance).aggregate(top=Max("position"))
            CaseStep.objects.filter(pk__in=moved).update(position=F("position") + top["top"])
        for step in steps:
            step.case = form.instance
            step.save()
        formset.save_m2m()
        return None

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # After the steps are saved: freeze the edited case as a new version.
        case_version_record(case=form.instance, actor=request.user)
        form.instance.refresh_from_db(fields=["version"])


@admin.register(CaseStep)
class CaseStepAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    """Steps are edited on their case, which freezes each change into a new version."""

    list_display = ("case", "position", "action", "expected")
    list_filter = ("case__product",)
    search_fields = ("case__key", "case__title", "action", "expected")
    list_select_related = ("case",)


@admin.register(CaseVersion)
class CaseVersionAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    """Versions are frozen by editing the case; executions pin the one they ran."""

    list_display = ("case", "number", "title", "priority", "step_count", "created_by", "created_at")
    list_filter = ("priority", "case__product")
    search_fields = ("case__key", "title")
    list_select_related = ("case", "created_by")
    fields = (
        "case",
        "number",
        "title",
        "objective",
        "preconditions",
        "priority",
        "steps",
        "digest",
        "created_by",
        "created_at",
    )
