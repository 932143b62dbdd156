"""Signed and audit records: sign-offs, waivers, promotions and the audit trail. They are
written by their services only and never change, so the admin shows them read-only."""

from django.contrib import admin

from ..models import Event, Promotion, SignOff, Waiver
from .base import GreenlightAdmin, ReadOnlyAdminMixin, ReleaseFilter


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = ("created_at", "verb", "object_repr", "content_type", "actor", "release")
    list_filter = ("verb", "content_type", ("release", ReleaseFilter))
    search_fields = ("verb", "object_repr", "object_id", "actor__email", "actor__full_name")
    list_select_related = ("content_type", "actor", "release__product")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        "verb",
        ("content_type", "object_id"),
        "object_repr",
        "release",
        "before",
        "after",
    )


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


@admin.register(Waiver)
class WaiverAdmin(ReadOnlyAdminMixin, GreenlightAdmin):
    list_display = ("defect", "release", "granted_by", "expires_at", "revoked_at", "active")
    list_filter = (("release", ReleaseFilter), "expires_at", "revoked_at")
    search_fields = ("defect__title", "reason", "granted_by__email")
    list_select_related = ("defect", "release__product", "granted_by")
    fields = ("defect", "release", "reason", "granted_by", "created_at", "expires_at", "revoked_at")

    @admin.display(boolean=True, description="active")
    def active(self, waiver: Waiver) -> bool:
        return waiver.is_active


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
