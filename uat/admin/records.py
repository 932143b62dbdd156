"""Audit records: waivers and the audit trail (sign-offs and promotions are in the
reports admin). Written by their services only and never changed, so read-only."""

from django.contrib import admin

from ..models import Event, Waiver
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
