"""The "Export selected as CSV" action, registered once for every changelist of the site."""

import csv
import datetime as dt
import html
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.utils import label_for_field, lookup_field
from django.db import models
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData

# A spreadsheet runs a cell that starts with one of these as a formula (or, for tab and
# carriage return, shifts it into one): a tester's "=HYPERLINK(...)" must stay text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str | int | float | Decimal:
    """One value as a CSV cell: numbers stay numbers, text that a spreadsheet would run
    as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    # Display methods may return HTML (a link, say): export its text. Plain text stays as
    # it is, angle brackets and all.
    text = html.unescape(strip_tags(value)) if isinstance(value, SafeData) else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _field_value(field, value):
    if getattr(field, "flatchoices", None):
        return dict(field.flatchoices).get(value, value)
    return value


class Echo:
    """Hands each row the csv writer formats straight back, so rows stream out."""

    def write(self, value: str) -> str:
        return value


def _rows(modeladmin, request, queryset, columns: list[str]):
    writer = csv.writer(Echo())
    yield writer.writerow(
        [str(label_for_field(name, modeladmin.model, modeladmin)) for name in columns]
    )
    for obj in queryset.iterator(chunk_size=500):
        cells = []
        for name in columns:
            field, _attr, value = lookup_field(name, obj, modeladmin)
            cells.append(csv_cell(_field_value(field, value)))
        yield writer.writerow(cells)


@admin.action(permissions=["view"], description="Export selected %(verbose_name_plural)s as CSV")
def export_as_csv(modeladmin, request, queryset: models.QuerySet) -> StreamingHttpResponse:
    """The selected rows with the changelist's columns, streamed as a CSV attachment."""
    columns = [name for name in modeladmin.get_list_display(request) if name != "action_checkbox"]
    filename = f"{modeladmin.opts.model_name}-{timezone.localtime():%Y%m%d-%H%M}.csv"
    return StreamingHttpResponse(
        _rows(modeladmin, request, queryset, columns),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
