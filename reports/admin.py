"""Acceptance reports, read-only: the Celery job builds them and nothing edits them."""

import json

from django.contrib import admin
from django.utils.html import format_html

from uat.admin.base import GreenlightAdmin, PlanFilter, ReadOnlyAdminMixin

from .models import AcceptanceReport


@admin.register(AcceptanceReport)
class AcceptanceReportAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = (
        "short_id",
        "plan",
        "status",
        "decision",
        "requested_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "decision", ("plan", PlanFilter))
    search_fields = ("uuid", "fingerprint", "plan__name", "plan__release__version")
    list_select_related = ("plan__release__product", "requested_by")
    date_hierarchy = "created_at"
    fields = (
        "uuid",
        "plan",
        ("status", "decision"),
        "fingerprint",
        "metrics_table",
        "criteria_table",
        "pdf",
        "error",
        "requested_by",
        ("created_at", "started_at", "finished_at"),
    )
    readonly_fields = ("metrics_table", "criteria_table")

    @admin.display(description="report", ordering="created_at")
    def short_id(self, report: AcceptanceReport) -> str:
        return report.uuid.hex[:8]

    @admin.display(description="metrics")
    def metrics_table(self, report: AcceptanceReport) -> str:
        return format_html("<pre>{}</pre>", json.dumps(report.metrics, indent=2, sort_keys=True))

    @admin.display(description="criteria")
    def criteria_table(self, report: AcceptanceReport) -> str:
        return format_html("<pre>{}</pre>", json.dumps(report.criteria, indent=2))
