"""The diff between two versions of a case, on a page of the Case admin."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ..case_diff import case_versions_diff


class CaseCompareForm(forms.Form):
    older = forms.TypedChoiceField(label="Compare version", coerce=int)
    newer = forms.TypedChoiceField(label="with version", coerce=int)

    def __init__(self, *args, numbers: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(n, f"version {n}") for n in numbers]
        self.fields["older"].choices = self.fields["newer"].choices = choices

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("older") is not None and cleaned.get("older") == cleaned.get("newer"):
            self.add_error("newer", "Choose two different versions.")
        return cleaned


class CaseCompareAdminMixin:
    """For the Case admin: ``<case>/versions/compare/?older=N&newer=M``, and a link to it
    from each version in the case's versions."""

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/versions/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="uat_case_compare",
            )
        ]
        return own + super().get_urls()

    def compare_view(self, request, object_id):
        case = self.get_object(request, object_id)
        if case is None:
            raise Http404("No such case.")
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        versions = {
            version.number: version for version in case.versions.select_related("created_by")
        }
        numbers = sorted(versions)
        data = request.GET
        if "older" not in data and "newer" not in data and len(numbers) > 1:
            data = {"older": numbers[-2], "newer": numbers[-1]}
        form = CaseCompareForm(data or None, numbers=numbers)
        diff = None
        if form.is_valid():
            older, newer = sorted((form.cleaned_data["older"], form.cleaned_data["newer"]))
            diff = case_versions_diff(versions[older], versions[newer])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare versions of {case.key}",
            "opts": self.opts,
            "object": case,
            "form": form,
            "diff": diff,
            "numbers": numbers,
        }
        request.current_app = self.admin_site.name
        status = 400 if form.is_bound and not form.is_valid() else 200
        return TemplateResponse(request, "admin/uat/case/compare.html", context, status=status)


def compare_link(version) -> str:
    """The link from a version to its diff with the one before."""
    if version.number < 2:
        return "—"
    url = reverse("admin:uat_case_compare", args=[version.case_id])
    return format_html(
        '<a href="{}?older={}&amp;newer={}">Compare with version {}</a>',
        url,
        version.number - 1,
        version.number,
        version.number - 1,
    )
