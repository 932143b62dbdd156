import uuid

from django.conf import settings
from django.db import models


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ReportDecision(models.TextChoices):
    GO = "go", "Go"
    NO_GO = "no-go", "No-go"


class AcceptanceReport(models.Model):
    """An immutable snapshot of a plan's results, criteria and decision.

    Built by a Celery job; ``fingerprint`` is the digest of the data it was built from,
    so a later change to that data makes the report (and its sign-offs) detectably stale.
    """

    Status = ReportStatus
    Decision = ReportDecision

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey("uat.Plan", on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING)
    decision = models.CharField(max_length=5, choices=Decision, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    criteria = models.JSONField(default=list, blank=True)
    html = models.TextField(blank=True)
    pdf = models.FileField(upload_to="reports/", blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_reports",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReportStatus.values), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | ~models.Q(decision=""),
                name="report_ready_has_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"Acceptance report {self.uuid.hex[:8]} for {self.plan}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY
