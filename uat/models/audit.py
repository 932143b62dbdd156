"""The append-only audit trail."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Audit events are append-only.")

    def delete(self):
        raise ValidationError("Audit events are append-only.")

    def for_object(self, obj: models.Model) -> "EventQuerySet":
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )


class Event(models.Model):
    """Who did what to which object, from what to what, and when.

    Written in the same transaction as the change it records, through
    ``uat.audit.event_record``; never updated or deleted.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        help_text="Empty for changes made by the system.",
    )
    verb = models.CharField(max_length=60, help_text="For example execution.recorded.")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    release = models.ForeignKey(
        "uat.Release", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="event_object"),
            models.Index(fields=["release", "created_at"], name="event_release_time"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.object_repr}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Audit events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events are append-only and cannot be deleted.")
