"""Defects found in UAT (or escaped to production) and the waivers that accept them."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .audit import Event
from .catalog import Environment, Release
from .execution import Execution, ExecutionStatus


def is_web_address(url: str) -> bool:
    """Whether ``url`` is an http(s) address, safe to render as a link (never
    ``javascript:`` or ``data:``)."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return False
    return True


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"
    TRIVIAL = "trivial", "Trivial"


class DefectStatus(models.TextChoices):
    NEW = "new", "New"
    CONFIRMED = "confirmed", "Confirmed"
    IN_PROGRESS = "in_progress", "In progress"
    FIXED = "fixed", "Fixed"
    VERIFIED = "verified", "Verified"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"
    DEFERRED = "deferred", "Deferred"


S = DefectStatus
# The workflow: where a defect may go from each status. Reopening is allowed from the
# end states, because a retest or production can prove a fix wrong.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.NEW: (S.CONFIRMED, S.IN_PROGRESS, S.REJECTED, S.DEFERRED),
    S.CONFIRMED: (S.IN_PROGRESS, S.FIXED, S.REJECTED, S.DEFERRED),
    S.IN_PROGRESS: (S.FIXED, S.DEFERRED, S.CONFIRMED),
    S.FIXED: (S.VERIFIED, S.CLOSED, S.IN_PROGRESS),
    S.VERIFIED: (S.CLOSED, S.IN_PROGRESS),
    S.CLOSED: (S.CONFIRMED,),
    S.REJECTED: (S.CONFIRMED,),
    S.DEFERRED: (S.CONFIRMED, S.IN_PROGRESS, S.CLOSED),
}
# Open defects count against the acceptance criteria unless waived. A fixed defect stays
# open until a retest verifies it; a deferred one is a known problem still shipping.
OPEN_STATUSES = (S.NEW, S.CONFIRMED, S.IN_PROGRESS, S.FIXED, S.DEFERRED)
RESOLVED_STATUSES = (S.VERIFIED, S.CLOSED, S.REJECTED)


class DefectQuerySet(models.QuerySet):
    def open(self) -> "DefectQuerySet":
        return self.filter(status__in=OPEN_STATUSES)

    def found_in_uat(self) -> "DefectQuerySet":
        return self.filter(found_in=Defect.FoundIn.UAT)

    def escaped(self) -> "DefectQuerySet":
        return self.filter(found_in=Defect.FoundIn.PRODUCTION)

    def visible_to(self, user) -> "DefectQuerySet":
        """Every defect for QA leads; those of a stakeholder's releases; for testers,
        those they reported or that were found on their own assignments."""
        from ..access import sees_everything, stake_releases
        from .catalog import Release

        if sees_everything(user):
            return self
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        mine = Execution.objects.filter(tester=user)
        own = models.Q(reported_by=user) | models.Q(
            pk__in=Defect.executions.through.objects.filter(execution__in=mine).values("defect_id")
        )
        if user.is_external:
            return self.filter(own)
        releases = Release.objects.filter(stake_releases(user)).values("pk")
        return self.filter(own | models.Q(release__in=releases))

    def with_details(self) -> "DefectQuerySet":
        return self.select_related("release__product", "reported_by", "environment")


# The audit events a defect's history shows: how it was reported and every move.
HISTORY_VERBS = ("defect.reported", "defect.status_changed")


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a defect's history: a move along the workflow (``status`` set), its
    report, or a comment."""

    kind: str  # "reported", "moved" or "comment"
    who: object  # the user, or None for the system
    when: datetime
    text: str = ""  # the move's note, or the comment
    status_before: str = ""
    status: str = ""
    fixed_in_build: str = ""

    @property
    def status_before_label(self) -> str:
        return DefectStatus(self.status_before).label if self.status_before else ""

    @property
    def status_label(self) -> str:
        return DefectStatus(self.status).label if self.status else ""


def _entry_of(event: Event) -> HistoryEntry:
    after = event.after or {}
    if event.verb == "defect.reported":
        return HistoryEntry("reported", event.actor, event.created_at)
    return HistoryEntry(
        "moved",
        event.actor,
        event.created_at,
        text=after.get("note", ""),
        status_before=(event.before or {}).get("status", ""),
        status=after.get("status", ""),
        fixed_in_build=after.get("fixed_in_build", ""),
    )


class FoundIn(models.TextChoices):
    UAT = "uat", "UAT"
    PRODUCTION = "production", "Production (escaped)"


class Defect(models.Model):
    """A problem found while executing a case, or after the release reached production."""

    FoundIn = FoundIn

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="defects")
    title = models.CharField(max_length=300)
    steps_to_reproduce = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity)
    status = models.CharField(max_length=12, choices=DefectStatus, default=DefectStatus.NEW)
    found_in = models.CharField(max_length=10, choices=FoundIn, default=FoundIn.UAT)
    executions = models.ManyToManyField(Execution, blank=True, related_name="defects")
    step_position = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The step of the first linked execution that failed."
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, null=True, blank=True, related_name="defects"
    )
    build = models.CharField(max_length=100, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_defects"
    )
    external_key = models.CharField(max_length=50, blank=True, help_text="e.g. JIRA-1234")
    external_url = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    fixed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last marked fixed."
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Where the fix is: said by the QA lead who marks it fixed (needed when the UAT
    # environment still runs the build that failed), else the environment's new build.
    # The retests run on it. Nullable so SQLite adds the column in place.
    fixed_in_build = models.CharField(  # noqa: DJ001
        max_length=100,
        null=True,
        blank=True,
        help_text="The build with the fix, when it was last marked fixed.",
    )
    # The reporter's form (or the API's Idempotency-Key): the same submission twice — a
    # double click, a resent request — is the same defect.
    # Nullable so SQLite adds the column in place (its tables carry triggers).
    submission_key = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001

    objects = DefectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values), name="defect_severity_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DefectStatus.values), name="defect_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(found_in__in=FoundIn.values), name="defect_found_in_valid"
            ),
            models.UniqueConstraint(
                fields=["reported_by", "submission_key"],
                condition=models.Q(submission_key__isnull=False),
                name="defect_one_per_submission",
            ),
        ]
        indexes = [
            models.Index(fields=["release", "status", "severity"], name="defect_release_status"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_defect_change", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"DEF-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def allowed_statuses(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    def history(self) -> list[HistoryEntry]:
        """Its report, every move along the workflow (who, when, the note) from the
        audit trail, and its comments, oldest first. Two queries."""
        events = (
            Event.objects.for_object(self)
            .filter(verb__in=HISTORY_VERBS)
            .select_related("actor")
            .order_by("created_at", "pk")
        )
        entries = [_entry_of(event) for event in events]
        entries += [
            HistoryEntry("comment", comment.author, comment.created_at, text=comment.body)
            for comment in self.comments.with_author()
        ]
        # Stable: a move and a comment of the same instant keep the move first.
        return sorted(entries, key=lambda entry: entry.when)

    @property
    def retest_passed(self) -> bool:
        """Whether a run proved the fix: a case this defect failed has passed in the same
        plan since the defect was last marked fixed — a retest, or another tester's run.
        A defect with no UAT execution (found in production) needs none."""
        linked = self.executions.values_list("plan_id", "case_id")
        if self.found_in == FoundIn.PRODUCTION or not linked:
            return True
        since = models.Q()
        for plan_id, case_id in linked:
            since |= models.Q(plan_id=plan_id, case_id=case_id)
        return (
            Execution.objects.filter(since)
            .filter(
                status=ExecutionStatus.PASSED,
                finished_at__gt=self.fixed_at or self.created_at,
            )
            .exists()
        )


class DefectCommentQuerySet(models.QuerySet):
    def with_author(self) -> "DefectCommentQuerySet":
        return self.select_related("author")


class DefectComment(models.Model):
    """A word on a defect from its reporter, a QA lead or a developer (who may:
    ``policy.can_comment``). Written by ``defect_comment_add``, never edited."""

    defect = models.ForeignKey(Defect, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="defect_comments"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DefectCommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(body=""), name="defect_comment_body_required"
            ),
        ]
        indexes = [models.Index(fields=["defect", "created_at"], name="defect_comment_time")]

    def __str__(self) -> str:
        return f"Comment on {self.defect.reference} by {self.author}"


class DefectTally(models.Model):
    """How many times the defects of one release, or their links to executions, have
    changed: a counter the database moves itself, by triggers (migration ``0008``), on
    every insert, update and delete of a defect or a link, whoever wrote it. The report
    fingerprint reads this one row instead of aggregating every defect of the release.

    Never written by the application. A transaction that writes both executions and
    defects takes the plans' ``ExecutionTally`` rows before this one (see
    ``defect_transition``), so two such transactions never wait for each other in
    opposite orders. ``release_id`` is a plain column, like ``ExecutionTally.plan_id``."""

    release_id = models.BigIntegerField(primary_key=True)
    changes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"release {self.release_id}: {self.changes} defect changes"


class WaiverQuerySet(models.QuerySet):
    def active(self, at=None) -> "WaiverQuerySet":
        return self.filter(expires_at__gt=at or timezone.now(), revoked_at__isnull=True)


class WaiverState(models.TextChoices):
    """Where a waiver stands at a moment (the report lists every waiver of a release)."""

    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Waiver(models.Model):
    """ "Accept with known risk": a stakeholder waives one open defect for one release."""

    defect = models.ForeignKey(Defect, on_delete=models.PROTECT, related_name="waivers")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="waivers")
    reason = models.TextField()
    expires_at = models.DateTimeField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="granted_waivers"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = WaiverQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="waiver_reason_required"),
        ]

    def __str__(self) -> str:
        return f"Waiver of {self.defect.reference} for {self.release}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
