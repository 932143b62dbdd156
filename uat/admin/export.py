"""The "Export selected as CSV" action, registered once for every changelist of the site."""

from functools import partial

from django.contrib import admin
from django.contrib.admin.utils import label_for_field, lookup_field
from django.db import models
from django.http import StreamingHttpResponse
from django.utils import timezone

from ..tables import Column, TableSpec, csv_response


def _value(modeladmin, name: str, obj):
    field, _attr, value = lookup_field(name, obj, modeladmin)
    if getattr(field, "flatchoices", None):
        return dict(field.flatchoices).get(value, value)
    return value


def changelist_table(modeladmin, request) -> TableSpec:
    """The changelist's columns, headed by their labels, as a table of ``uat.tables``."""
    names = [name for name in modeladmin.get_list_display(request) if name != "action_checkbox"]
    columns = tuple(
        Column(
            str(label_for_field(name, modeladmin.model, modeladmin)),
            partial(_value, modeladmin, name),
        )
        for name in names
    )
    return TableSpec(str(modeladmin.opts.verbose_name_plural), columns)


@admin.action(permissions=["view"], description="Export selected %(verbose_name_plural)s as CSV")
def export_as_csv(modeladmin, request, queryset: models.QuerySet) -> StreamingHttpResponse:
    """The selected rows with the changelist's columns, streamed as a CSV attachment."""
    stamp = f"{timezone.localtime():%Y%m%d-%H%M}"
    table = changelist_table(modeladmin, request)
    return csv_response(table, queryset.iterator(chunk_size=500), modeladmin.opts.model_name, stamp)
