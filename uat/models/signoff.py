"""Electronic sign-offs on acceptance reports, and the promotions the gate allowed."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .catalog import Release
from .planning import SignoffRole


class SignOffQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Sign-offs are append-only.")

    def delete(self):
        raise ValidationError("Sign-offs are append-only.")


class SignOffDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class SignOff(models.Model):
    """A stakeholder's electronic signature on one acceptance report; never changed.

    It is bound to the fingerprint of the report it signs: once the data under that
    report changes, the sign-off is stale.
    """

    Decision = SignOffDecision

    report = models.ForeignKey(
        "reports.AcceptanceReport", on_delete=models.PROTECT, related_name="signoffs"
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signoffs"
    )
    role = models.CharField(max_length=20, choices=SignoffRole)
    printed_name = models.CharField(max_length=150)
    meaning = models.CharField(max_length=200)
    decision = models.CharField(max_length=7, choices=Decision)
    reason = models.TextField(blank=True, help_text="Required when rejecting.")
    comment = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64)
    signed_at = models.DateTimeField()

    objects = SignOffQuerySet.as_manager()

    class Meta:
        ordering = ["report", "signed_at"]
        verbose_name = "sign-off"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision="approve") | ~models.Q(reason=""),
                name="signoff_reject_needs_reason",
                violation_error_message="A rejection needs a reason.",
            ),
            models.CheckConstraint(
                condition=models.Q(decision__in=SignOffDecision.values),
                name="signoff_decision_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(printed_name=""), name="signoff_printed_name_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.printed_name}: {self.get_decision_display()} ({self.get_role_display()})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Sign-offs are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Sign-offs are append-only and cannot be deleted.")


class Promotion(models.Model):
    """A release moved to a stage, with who did it, the build, and the gate decision."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="promotions")
    from_stage = models.CharField(max_length=12, choices=Release.Stage)
    to_stage = models.CharField(max_length=12, choices=Release.Stage)
    build = models.CharField(max_length=100)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promotions"
    )
    report = models.ForeignKey(
        "reports.AcceptanceReport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="promotions",
    )
    decision = models.JSONField(help_text="The gate decision the promotion relied on.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.release} → {self.get_to_stage_display()} ({self.build})"
