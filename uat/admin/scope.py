"""A plan's case picker in the admin: the cases of its product, filtered by requirement,
priority, status and key or title, with "add selected", "add all shown" and "remove
selected". It works as a plain GET filter form and POST without JavaScript, and with htmx
(the results redraw in place). Every change goes through ``plan_scope_change``."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ..forms import PlanScopeFilterForm
from ..models import Plan
from ..policy import REFUSALS, can_manage_plan
from ..services import plan_scope_change

# The most cases one page shows (and "add all shown" adds): narrow the filters for more.
SHOWN_MAX = 200
SCOPE_CHOICES = ("add_selected", "add_shown", "remove_selected")


class PlanScopeAdminMixin:
    """For the Plan admin: the case picker page and the link to it on the plan's page."""

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/scope/",
                self.admin_site.admin_view(self.scope_view),
                name="uat_plan_scope",
            )
        ]
        return own + super().get_urls()

    @admin.display(description="case picker")
    def case_picker(self, plan: Plan) -> str:
        if plan.pk is None:
            return "Save the plan first; then choose its cases with filters here."
        return format_html(
            '<a href="{}">Choose cases with filters</a> (by requirement, priority, status, '
            "key or title)",
            reverse("admin:uat_plan_scope", args=[plan.pk]),
        )

    def scope_view(self, request, object_id):
        plan = self.get_object(request, object_id)
        if plan is None:
            raise Http404("No such plan.")
        if not (self.has_change_permission(request, plan) and can_manage_plan(request.user, plan)):
            raise PermissionDenied(REFUSALS["manage_plan"])
        product = plan.release.product
        filters = PlanScopeFilterForm(request.GET, product=product)
        matching = filters.cases()
        shown = (
            []
            if matching is None
            else list(matching.prefetch_related("requirements")[: SHOWN_MAX + 1])
        )
        more = len(shown) > SHOWN_MAX
        shown = shown[:SHOWN_MAX]
        htmx = request.headers.get("HX-Request") == "true"
        notice, status = None, 200 if matching is not None else 400
        if request.method == "POST":
            notice, level = self._scope_change(request, plan, shown)
            if not htmx:
                self.message_user(request, notice, level)
                return HttpResponseRedirect(request.get_full_path())
            status = 200 if level != messages.ERROR else 400
        in_scope = set(plan.cases.values_list("pk", flat=True))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Choose the cases of {plan}",
            "opts": self.opts,
            "object": plan,
            "filters": filters,
            "rows": [(case, case.pk in in_scope) for case in shown],
            "more": more,
            "shown_max": SHOWN_MAX,
            "in_scope_count": len(in_scope),
            "notice": notice,
            "action_url": request.get_full_path(),
        }
        request.current_app = self.admin_site.name
        template = "admin/uat/plan/scope.html"
        return TemplateResponse(
            request, f"{template}#results" if htmx else template, context, status=status
        )

    @staticmethod
    def _scope_change(request, plan: Plan, shown) -> tuple[str, int]:
        """Apply the button pressed to the cases chosen; the message to show and its
        level."""
        choice = request.POST.get("scope")
        if choice not in SCOPE_CHOICES:
            return "Choose what to do: add the selected cases, add all shown, or remove.", (
                messages.ERROR
            )
        if choice == "add_shown":
            chosen = shown
        else:
            wanted = {value for value in request.POST.getlist("case") if value.isdigit()}
            chosen = list(plan.release.product.cases.filter(pk__in=wanted))
            if not chosen:
                return "Select at least one case first.", messages.WARNING
        add, remove = (chosen, []) if choice != "remove_selected" else ([], chosen)
        try:
            added, removed = plan_scope_change(
                plan=plan, actor=request.user, add=add, remove=remove
            )
        except ValidationError as error:
            return " ".join(error.messages), messages.ERROR
        if not (added or removed):
            return "Nothing changed: the scope already was so.", messages.INFO
        parts = [_told(verb, cases) for verb, cases in (("added", added), ("removed", removed))]
        return f"Scope of {plan}: {'; '.join(p for p in parts if p)}.", messages.SUCCESS


def _told(verb: str, cases) -> str:
    if not cases:
        return ""
    keys = sorted(case.key for case in cases)
    named = f" ({', '.join(keys)})" if len(keys) <= 10 else ""
    return f"{verb} {len(keys)} case{'s' if len(keys) != 1 else ''}{named}"
