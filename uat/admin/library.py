"""Importing and exporting the product library in the admin: the import page and the
template download on the Case changelist, the "Export library" actions, and the XLSX
export of executions and defects. Everything goes through the same services as the API
and the ``import_cases`` command, so the checks, the versions and the audit events are
the same whichever way a file comes in."""

from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from ..downloads import attachment_header
from ..imports import IMPORT_MAX_BYTES, LibraryImportError, library_check, library_import
from ..models import Defect, Execution, Product
from ..spreadsheets import FORMATS
from ..tables import DEFECTS, EXECUTIONS, library_file, table_file

# An upload larger than this is refused before it is read: a library of thousands of
# cases is well under a megabyte as CSV.
IMPORT_PERMISSIONS = ("uat.add_case", "uat.change_case")
SUFFIXES = tuple(f".{fmt}" for fmt in FORMATS)


def file_download(content: bytes, name: str, fmt: str) -> HttpResponse:
    """``content`` as an attachment named ``name.fmt``."""
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = attachment_header(name, ext=fmt)
    return response


def _stamp() -> str:
    return f"{timezone.localtime():%Y%m%d-%H%M}"


class LibraryImportForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.order_by("name"),
        help_text="The product whose library the rows go into.",
    )
    cases_file = forms.FileField(
        label="Cases file",
        help_text="CSV or XLSX. A workbook may hold a Requirements and a Cases sheet.",
    )
    requirements_file = forms.FileField(
        label="Requirements file",
        required=False,
        help_text="Optional: a second CSV or XLSX file, usually the requirements.",
    )
    validate_only = forms.BooleanField(
        label="Only check the files",
        required=False,
        help_text="List every problem, or none, and import nothing.",
    )

    def _checked(self, name: str):
        upload = self.cleaned_data.get(name)
        if not upload:
            return upload
        if not upload.name.lower().endswith(SUFFIXES):
            raise forms.ValidationError(
                "Choose a .csv or .xlsx file.", code="file_type", params={"name": upload.name}
            )
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB.", code="size"
            )
        return upload

    def clean_cases_file(self):
        return self._checked("cases_file")

    def clean_requirements_file(self):
        return self._checked("requirements_file")

    def contents(self) -> list[tuple[str, bytes]]:
        """The uploads as (name, content), as the import service takes them."""
        uploads = (self.cleaned_data.get(n) for n in ("requirements_file", "cases_file"))
        return [(Path(f.name).name, f.read()) for f in uploads if f]


class LibraryAdminMixin:
    """For the Case admin: the import page, the template download and the library export
    actions. Importing needs permission to add and to change cases."""

    actions = ("export_library_csv", "export_library_xlsx")

    def can_import(self, request) -> bool:
        return request.user.has_perms(IMPORT_PERMISSIONS)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name=f"{name}_import",
            ),
            path(
                "import-template.<str:fmt>",
                self.admin_site.admin_view(self.import_template_view),
                name=f"{name}_import_template",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.can_import(request)}
        return super().changelist_view(request, extra_context)

    def import_template_view(self, request, fmt: str):
        if not self.can_import(request):
            raise PermissionDenied
        if fmt not in FORMATS:
            raise Http404("Templates are .csv or .xlsx.")
        return file_download(library_file(None, fmt, template=True), "greenlight-import", fmt)

    def import_view(self, request):
        if not self.can_import(request):
            raise PermissionDenied
        form = LibraryImportForm(request.POST or None, request.FILES or None)
        problems, checked = [], False
        if request.method == "POST" and form.is_valid():
            product, files = form.cleaned_data["product"], form.contents()
            if form.cleaned_data["validate_only"]:
                problems, checked = library_check(product=product, files=files), True
            else:
                try:
                    result = library_import(product=product, files=files, actor=request.user)
                except LibraryImportError as error:
                    problems = error.problems
                else:
                    self.message_user(request, _summary(product, result), messages.SUCCESS)
                    changelist = reverse(f"admin:{self.opts.app_label}_case_changelist")
                    return HttpResponseRedirect(f"{changelist}?product__id__exact={product.pk}")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import requirements and cases",
            "opts": self.opts,
            "form": form,
            "problems": problems,
            "checked": checked and not problems,
            "max_megabytes": IMPORT_MAX_BYTES // (1024 * 1024),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/uat/case/import.html", context)

    def _export_library(self, request, queryset, fmt: str):
        products = list(Product.objects.filter(pk__in=queryset.values("product_id"))[:2])
        if len(products) != 1:
            self.message_user(
                request,
                "Choose cases of one product: the import format has no product column.",
                messages.ERROR,
            )
            return None
        product = products[0]
        content = library_file(product, fmt, cases=queryset.order_by())
        return file_download(content, f"{product.slug}-cases-{_stamp()}", fmt)

    @admin.action(permissions=["view"], description="Export library (CSV)")
    def export_library_csv(self, request, queryset):
        return self._export_library(request, queryset, "csv")

    @admin.action(permissions=["view"], description="Export library (XLSX, with requirements)")
    def export_library_xlsx(self, request, queryset):
        return self._export_library(request, queryset, "xlsx")


def _summary(product, result) -> str:
    parts = [
        f"{kind}: {result.created[kind]} created, {result.updated[kind]} updated, "
        f"{result.unchanged[kind]} unchanged"
        for kind in ("requirements", "cases")
    ]
    return f"Imported into {product}. " + "; ".join(parts) + "."


@admin.action(permissions=["view"], description="Export selected executions as XLSX")
def export_executions_xlsx(modeladmin, request, queryset):
    executions = Execution.objects.with_details().filter(pk__in=queryset.values("pk"))
    content = table_file(EXECUTIONS, executions.order_by("pk"), "xlsx")
    return file_download(content, f"executions-{_stamp()}", "xlsx")


@admin.action(permissions=["view"], description="Export selected defects as XLSX")
def export_defects_xlsx(modeladmin, request, queryset):
    defects = Defect.objects.with_details().filter(pk__in=queryset.values("pk"))
    content = table_file(DEFECTS, defects.prefetch_related("executions").order_by("pk"), "xlsx")
    return file_download(content, f"defects-{_stamp()}", "xlsx")
