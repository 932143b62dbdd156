import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from uat.models import Release, SignOffDecision, SignoffRole


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ReportDecision(models.TextChoices):
    GO = "go", "Go"
    NO_GO = "no-go", "No-go"


class ReportEmails(models.TextChoices):
    """Where a report's emails to its stakeholders stand: the durable marker the sweeper
    reads to find emails whose task was never queued or was lost."""

    NONE = "", "None yet"  # not ready yet (or built before emails were tracked)
    WANTED = "wanted", "Wanted"  # ready; the email task is not queued
    QUEUED = "queued", "Queued"  # the email task was queued at emails_queued_at
    DONE = "done", "Done"  # every recipient's delivery is sent or failed for good


class AcceptanceReport(models.Model):
    """An immutable snapshot of a plan's results, criteria and decision.

    Built by a Celery job; ``fingerprint`` is the digest of the data it was built from,
    so a later change to that data makes the report (and its sign-offs) detectably stale.
    """

    Status = ReportStatus
    Decision = ReportDecision
    Emails = ReportEmails

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
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its build was last queued; empty if never."
    )
    emails = models.CharField(max_length=6, choices=Emails, default=Emails.NONE, blank=True)
    emails_queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the email task was last queued or last ran, or when its retry is due.",
    )

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"
        # The sweeper (every minute) reads only the few reports still to build or to
        # mail: partial indexes keep that cheap however many reports there are.
        indexes = [
            models.Index(
                fields=["queued_at"],
                condition=models.Q(status__in=[ReportStatus.PENDING, ReportStatus.RUNNING]),
                name="report_unbuilt",
            ),
            models.Index(
                fields=["emails_queued_at"],
                condition=models.Q(emails__in=[ReportEmails.WANTED, ReportEmails.QUEUED]),
                name="report_emails_outstanding",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReportStatus.values), name="report_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | ~models.Q(decision=""),
                name="report_ready_has_decision",
            ),
            models.CheckConstraint(
                condition=models.Q(emails__in=ReportEmails.values), name="report_emails_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(emails=ReportEmails.QUEUED)
                | models.Q(emails_queued_at__isnull=False),
                name="report_emails_queued_at",
            ),
        ]

    def __str__(self) -> str:
        return f"Acceptance report {self.uuid.hex[:8]} for {self.plan}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class EmailDelivery(models.Model):
    """One email to one recipient, recorded so that a retried or twice-delivered task
    never sends it again: ``(kind, key, recipient)`` is unique, and a task claims the row
    before sending."""

    class Kind(models.TextChoices):
        REPORT = "report", "Acceptance report"
        DIGEST = "digest", "Daily digest"
        REMINDER = "reminder", "Reminder"
        STALE = "stale", "Sign-off gone stale"
        INVITATION = "invitation", "Invitation"

    kind = models.CharField(max_length=12, choices=Kind)
    key = models.CharField(max_length=100, help_text="What it is about: a report id, a date…")
    recipient = models.EmailField()
    report = models.ForeignKey(
        AcceptanceReport,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="email_deliveries",
    )
    status = models.CharField(max_length=8, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "email deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key", "recipient"], name="email_delivery_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.get_status_display()})"


class Webhook(models.Model):
    """A URL a QA lead registered to hear about reports, sign-offs and gate changes.
    Each POST is signed with HMAC-SHA256 of the body under ``secret``."""

    class Topic(models.TextChoices):
        REPORT_READY = "report.ready", "Report ready"
        SIGNOFF_RECORDED = "signoff.recorded", "Sign-off recorded"
        GATE_CHANGED = "gate.changed", "Gate changed"

    name = models.CharField(max_length=100)
    url = models.URLField()
    secret = models.CharField(max_length=100, help_text="Shared secret for the signature header.")
    topics = models.JSONField(default=list, help_text="Empty means every topic.")
    product = models.ForeignKey(
        "uat.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
        help_text="Empty means every product.",
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, topic: str) -> bool:
        return self.is_active and (not self.topics or topic in self.topics)

    def clean(self) -> None:
        """Only public targets (``reports.outbound``): checked here when it is saved,
        and again at every delivery."""
        from .outbound import TargetRefused, target_resolve

        if not self.url:
            return
        try:
            target_resolve(self.url)
        except TargetRefused as refused:
            raise ValidationError({"url": str(refused)}) from refused


class WebhookDelivery(models.Model):
    """One event for one webhook: ``(webhook, event_id)`` is unique, so an event is
    delivered to a URL at most once however often the task runs."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField()
    topic = models.CharField(max_length=30)
    payload = models.JSONField()
    status = models.CharField(max_length=8, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its task was last queued or last ran, or when its retry is due.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["queued_at"],
                condition=models.Q(status=DeliveryStatus.PENDING),
                name="webhook_delivery_pending",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_id"], name="webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} to {self.webhook} ({self.get_status_display()})"


class EvidencePackage(models.Model):
    """A zip of everything an auditor asks for about one release, built by Celery:
    reports (PDF and JSON), sign-offs, audit events, defects, execution results, the
    evidence files, and a manifest with the SHA-256 of every file."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    release = models.ForeignKey(
        "uat.Release", on_delete=models.PROTECT, related_name="evidence_packages"
    )
    status = models.CharField(max_length=8, choices=ReportStatus, default=ReportStatus.PENDING)
    file = models.FileField(upload_to="evidence-packages/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its build was last queued; empty if never."
    )

    class Meta:
        ordering = ["-created_at"]
        # The sweeper (every minute) reads only the few packages still to build.
        indexes = [
            models.Index(
                fields=["queued_at"],
                condition=models.Q(status__in=[ReportStatus.PENDING, ReportStatus.RUNNING]),
                name="evidence_package_unbuilt",
            ),
        ]
        constraints = [
            # One package of a release is built at a time: asking again while one is
            # pending or running gets that one, not another full zip.
            models.UniqueConstraint(
                fields=["release"],
                condition=models.Q(status__in=[ReportStatus.PENDING, ReportStatus.RUNNING]),
                name="evidence_package_one_unbuilt",
            ),
        ]

    def __str__(self) -> str:
        return f"Evidence package of {self.release} ({self.get_status_display()})"


# ---------------------------------------------------------------------------- signing


class SignOffQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Sign-offs are append-only.")

    def delete(self):
        raise ValidationError("Sign-offs are append-only.")


class SignOff(models.Model):
    """A stakeholder's electronic signature on one acceptance report; never changed.

    It is bound to the fingerprint of the report it signs: once the data under that
    report changes, the sign-off is stale.
    """

    Decision = SignOffDecision

    report = models.ForeignKey(AcceptanceReport, on_delete=models.PROTECT, related_name="signoffs")
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
        # Moved from the uat app (migrations uat 0009, reports 0008): the table, its
        # append-only triggers and its rows stay where they were.
        db_table = "uat_signoff"
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
            # One signature per signer and role on a report: a double click or two
            # requests at once record it once (``signoff_sign`` answers "already signed").
            models.UniqueConstraint(
                fields=["report", "role", "signer"], name="signoff_once_per_signer_role"
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

    release = models.ForeignKey("uat.Release", on_delete=models.PROTECT, related_name="promotions")
    from_stage = models.CharField(max_length=12, choices=Release.Stage)
    to_stage = models.CharField(max_length=12, choices=Release.Stage)
    build = models.CharField(max_length=100)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promotions"
    )
    report = models.ForeignKey(
        AcceptanceReport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="promotions",
    )
    decision = models.JSONField(help_text="The gate decision the promotion relied on.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "uat_promotion"  # moved from the uat app, as SignOff
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.release} → {self.get_to_stage_display()} ({self.build})"


class GateVerdict(models.TextChoices):
    GO = "go", "Go"
    NO_GO = "no-go", "No-go"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class GateState(models.Model):
    """The last decision the gate gave for a release and a target stage, kept only so a
    *change* can be told apart from the same answer again (and announced once)."""

    Verdict = GateVerdict

    release = models.ForeignKey("uat.Release", on_delete=models.CASCADE, related_name="gates")
    stage = models.CharField(max_length=12)
    decision = models.CharField(max_length=12, choices=GateVerdict)
    reasons = models.JSONField(default=list, blank=True)
    report = models.ForeignKey(
        AcceptanceReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at"]
        verbose_name = "gate state"
        constraints = [
            models.UniqueConstraint(fields=["release", "stage"], name="gate_state_once"),
            models.CheckConstraint(
                condition=models.Q(decision__in=GateVerdict.values), name="gate_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release} → {self.stage}: {self.decision}"
