"""Acceptance reports, read-only: the Celery job builds them and nothing edits them."""

import json

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from uat.admin.base import GreenlightAdmin, PlanFilter, ReadOnlyAdminMixin, ReleaseFilter
from uat.policy import can_rotate_webhook_secret

from .models import (
    AcceptanceReport,
    EmailDelivery,
    EvidencePackage,
    GateState,
    Promotion,
    SignOff,
    Webhook,
    WebhookDelivery,
)
from .webhooks import webhook_create, webhook_secret_rotate


@admin.register(AcceptanceReport)
class AcceptanceReportAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = (
        "short_id",
        "plan",
        "status",
        "decision",
        "emails",
        "requested_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "decision", "emails", ("plan", PlanFilter))
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
        ("created_at", "queued_at", "started_at", "finished_at"),
        ("emails", "emails_queued_at"),
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


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    """Every email Greenlight sent or tried to: a failed one shows its error here."""

    list_display = ("kind", "recipient", "status", "attempts", "report", "created_at", "sent_at")
    list_filter = ("kind", "status")
    search_fields = ("recipient", "key", "last_error")
    list_select_related = ("report__plan__release__product",)
    date_hierarchy = "created_at"


class WebhookForm(forms.ModelForm):
    topics = forms.MultipleChoiceField(
        choices=Webhook.Topic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means every topic.",
    )

    class Meta:
        model = Webhook
        # No secret: Greenlight makes it, shows it once, and only an administrator can
        # replace it (the action "Rotate the secret").
        fields = ("name", "url", "topics", "product", "is_active")


SECRET_MASK = "•" * 12


@admin.register(Webhook)
class WebhookAdmin(GreenlightAdmin):
    form = WebhookForm
    list_display = ("name", "url", "product", "is_active", "created_at")
    list_filter = ("is_active", "product")
    search_fields = ("name", "url")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)
    readonly_fields = ("masked_secret",)
    actions = ("rotate_secret",)

    def get_fields(self, request, obj=None):
        fields = ("name", "url", "topics", "product", "is_active")
        return (*fields[:2], "masked_secret", *fields[2:]) if obj else fields

    @admin.display(description="secret")
    def masked_secret(self, hook: Webhook) -> str:
        return f"{SECRET_MASK} (shown once when made; an administrator can rotate it)"

    def save_model(self, request, obj, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # audited; the secret untouched
            return
        hook, secret = webhook_create(actor=request.user, **form.cleaned_data)
        obj.pk, obj.created_at = hook.pk, hook.created_at
        self.message_user(request, _secret_message(hook, secret), messages.WARNING)

    def save_related(self, request, form, formsets, change) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def has_rotate_secret_permission(self, request) -> bool:
        return can_rotate_webhook_secret(request.user)

    @admin.action(
        permissions=["rotate_secret"], description="Rotate the secret of selected webhooks"
    )
    def rotate_secret(self, request, queryset):
        for hook in queryset:
            secret = webhook_secret_rotate(webhook=hook, actor=request.user)
            self.message_user(request, _secret_message(hook, secret), messages.WARNING)


def _secret_message(hook: Webhook, secret: str) -> str:
    return (
        f"Secret of webhook “{hook.name}”: {secret} — copy it into the receiver now; it is "
        "not shown again."
    )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = (
        "topic",
        "webhook",
        "status",
        "response_status",
        "attempts",
        "created_at",
        "queued_at",
    )
    list_filter = ("status", "topic", "webhook")
    search_fields = ("event_id", "webhook__name", "last_error")
    list_select_related = ("webhook",)
    date_hierarchy = "created_at"


@admin.register(EvidencePackage)
class EvidencePackageAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = ("release", "status", "size", "sha256", "requested_by", "created_at")
    list_filter = ("status", ("release", ReleaseFilter))
    search_fields = ("uuid", "sha256", "release__version", "release__product__name")
    list_select_related = ("release__product", "requested_by")
    exclude = ("file",)
    readonly_fields = ("download",)

    @admin.display(description="file")
    def download(self, package: EvidencePackage) -> str:
        if not package.file:
            return "—"
        url = reverse("uat:evidence_package_download", args=[package.uuid])
        return format_html('<a href="{}">Download the zip</a>', url)


@admin.register(GateState)
class GateStateAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    """The last decision of each release's gates, as the API last answered it."""

    list_display = ("release", "stage", "decision", "changed_at")
    list_filter = ("decision", "stage")
    search_fields = ("release__version", "release__product__name")
    list_select_related = ("release__product",)
    date_hierarchy = "changed_at"


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = ("printed_name", "role", "decision", "report", "signer", "signed_at")
    list_filter = ("decision", "role")
    search_fields = ("printed_name", "signer__email", "meaning", "comment")
    list_select_related = ("report__plan__release__product", "signer")
    date_hierarchy = "signed_at"
    fields = (
        "report",
        ("signer", "printed_name"),
        ("role", "meaning"),
        "decision",
        "reason",
        "comment",
        "fingerprint",
        "signed_at",
    )


@admin.register(Promotion)
class PromotionAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = ("release", "from_stage", "to_stage", "build", "promoted_by", "created_at")
    list_filter = ("to_stage", ("release", ReleaseFilter))
    search_fields = ("release__version", "release__product__name", "build")
    list_select_related = ("release__product", "promoted_by")
    date_hierarchy = "created_at"
    fields = (
        "release",
        ("from_stage", "to_stage"),
        "build",
        "promoted_by",
        "report",
        "decision",
        "created_at",
    )
