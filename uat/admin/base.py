"""What every Greenlight admin shares: related rows loaded up front, read-only records,
list filters that name related rows without a query each, and intermediate action pages."""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from ..audit import edit_record


class GreenlightAdmin(admin.ModelAdmin):
    """A ModelAdmin whose every query loads the rows named in ``list_select_related``.

    The changelist does that by itself; change pages, autocomplete answers and exports go
    through ``get_queryset`` instead, and a name such as a plan's reads its release and
    product, so without this they would run a query per row.
    """

    # The models' absolute URLs are these admin pages themselves.
    view_on_site = False
    # Fields whose change a service saves and audits itself, left out of the edit event.
    audited_elsewhere: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        related = self.get_list_select_related(request)
        if isinstance(related, list | tuple) and related:
            queryset = queryset.select_related(*related)
        return queryset

    # Every edit a QA lead makes here leaves an audit event, in the same transaction as
    # the change (the admin wraps each save in one), through the helper the API's plain
    # writes use too: "<model>.created", ".changed" with the fields from what to what,
    # ".deleted" with what was there.
    def save_model(self, request, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = [field for field in form.changed_data if field not in self.audited_elsewhere]
        after = {field: form.cleaned_data.get(field) for field in changed}
        before = {field: form.initial.get(field) for field in changed}
        edit_record(actor=request.user, obj=obj, before=before if change else None, after=after)

    def save_formset(self, request, form, formset, change: bool) -> None:
        """Save an inline and audit each row it added, changed or removed, as events
        on the parent object ("cohort.membership_added")."""
        super().save_formset(request, form, formset, change)
        parent, verb = (
            form.instance,
            f"{form.instance._meta.model_name}.{formset.model._meta.model_name}",
        )
        for obj in formset.new_objects:
            edit_record(
                actor=request.user,
                obj=parent,
                verb=f"{verb}_added",
                before=None,
                after={"item": str(obj)},
            )
        for obj, fields in formset.changed_objects:
            edit_record(
                actor=request.user,
                obj=parent,
                verb=f"{verb}_changed",
                before=None,
                after={"item": str(obj), "fields": fields},
            )
        for obj in formset.deleted_objects:
            edit_record(
                actor=request.user,
                obj=parent,
                verb=f"{verb}_removed",
                before={"item": str(obj)},
                after=None,
            )

    def delete_model(self, request, obj) -> None:
        edit_record(actor=request.user, obj=obj, before={"repr": str(obj)}, after=None)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyAdminMixin:
    """Signed and audit records: viewable, never added, changed or deleted in the admin,
    whatever permissions the user holds (superusers included)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    show_change_link = True


def related_filter(*related: str) -> type[admin.RelatedFieldListFilter]:
    """A related-field list filter whose choices come from one query with ``related``
    joined, for models whose names read through foreign keys (a release is named after
    its product, a plan after its release)."""

    class Filter(admin.RelatedFieldListFilter):
        def field_choices(self, field, request, model_admin):
            rows = field.related_model._default_manager.select_related(*related)
            ordering = self.field_admin_ordering(field, request, model_admin)
            if ordering:
                rows = rows.order_by(*ordering)
            return [(row.pk, str(row)) for row in rows]

    return Filter


ReleaseFilter = related_filter("product")
PlanFilter = related_filter("release__product")

APPLY = "apply"
# The second step of an action that shows what it would do first (``apply`` previews).
CONFIRM = "confirm"


def action_page(
    modeladmin: admin.ModelAdmin,
    request,
    *,
    obj,
    action: str,
    form: forms.Form,
    title: str,
    intro: str,
    submit_label: str,
    selected: list | None = None,
    items: list[str] | None = None,
    preview=None,
) -> TemplateResponse:
    """The intermediate page of an action that needs input about one selected object
    (``obj``), or about several (``selected``, with ``items`` naming each).

    Its form posts back to the changelist with the same action and selection plus
    ``apply``, which tells the action to validate the form and run — or, with a
    ``preview`` (an ``AssignmentPreview``), to show what it would do, which ``confirm``
    then does."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit_label": submit_label,
        "opts": modeladmin.opts,
        "object": obj,
        "selected": selected if selected is not None else [obj.pk],
        "items": items or [],
        "preview": preview,
        "confirm": CONFIRM,
        "form": form,
        "action": action,
        "apply": APPLY,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/uat/action_form.html", context)
