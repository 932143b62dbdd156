"""Executions of cases by testers, their per-step results and evidence."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from .catalog import Case, CaseVersion, Environment
from .planning import Cohort, Plan


class ExecutionStatus(models.TextChoices):
    PENDING = "pending", "Not run"
    IN_PROGRESS = "in_progress", "In progress"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"


FINAL_STATUSES = (ExecutionStatus.PASSED, ExecutionStatus.FAILED, ExecutionStatus.BLOCKED)


class StepStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"
    SKIPPED = "skipped", "Skipped"


class ExecutionQuerySet(models.QuerySet):
    def for_tester(self, user) -> "ExecutionQuerySet":
        return self.filter(tester=user)

    def pending(self) -> "ExecutionQuerySet":
        return self.filter(status__in=[ExecutionStatus.PENDING, ExecutionStatus.IN_PROGRESS])

    def not_started(self) -> "ExecutionQuerySet":
        """Work nobody has begun: pending, with no step result, evidence or defect. Only
        these may be reassigned or unassigned (``uat/services/assignments.py``)."""
        return self.filter(
            status=ExecutionStatus.PENDING,
            started_at__isnull=True,
            step_results__isnull=True,
            evidence__isnull=True,
            defects__isnull=True,
        )

    def finished(self) -> "ExecutionQuerySet":
        return self.filter(status__in=FINAL_STATUSES)

    def counting(self) -> "ExecutionQuerySet":
        """The execution that counts for each (plan, case); older ones are history.
        (Not ``latest()``: Django's ``QuerySet.latest()`` returns one row.)"""
        return self.filter(is_latest=True)

    def visible_to(self, user) -> "ExecutionQuerySet":
        """Every execution for QA leads; those of a stakeholder's releases; a tester's own."""
        from ..access import sees_everything, stake_releases
        from .catalog import Release

        if sees_everything(user):
            return self
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        own = models.Q(tester=user)
        if user.is_external:
            return self.filter(own)
        releases = Release.objects.filter(stake_releases(user)).values("pk")
        return self.filter(own | models.Q(plan__release__in=releases))

    def with_details(self) -> "ExecutionQuerySet":
        return self.select_related(
            "plan__release__product", "case", "case_version", "tester", "cohort", "environment"
        )

    def in_inbox_order(self) -> "ExecutionQuerySet":
        """A tester's work as the inbox lists it: by release and plan, unfinished first,
        each execution with its case's key (``case_key``) and, in a second query for
        the page alone, its case version's title and priority.

        The sort reads the case key by a lookup per run rather than a join: joined,
        PostgreSQL hashed every case (and every version) of the product to sort one
        tester's few hundred runs. Plan, release and product are joined to sort by
        but not loaded: the inbox names them from its per-plan counts."""
        key = Case.objects.filter(pk=models.OuterRef("case_id")).values("key")
        versions = CaseVersion.objects.only("title", "priority")
        return (
            self.annotate(case_key=models.Subquery(key))
            .prefetch_related(models.Prefetch("case_version", queryset=versions))
            .defer("notes")
            .order_by(
                "plan__release__product__name",
                "plan__release__version",
                "plan__stage",
                models.F("finished_at").asc(nulls_first=True),
                "case_key",
                "pk",
            )
        )

    def counts_by_plan(self) -> list[dict]:
        """Per plan: how many executions are in each state, in one query."""
        done = models.Q(status__in=FINAL_STATUSES)
        return list(
            self.values(
                "plan_id",
                "plan__name",
                "plan__stage",
                "plan__release__version",
                "plan__release__product__name",
            )
            .annotate(
                total=models.Count("pk"),
                todo=models.Count("pk", filter=models.Q(status=ExecutionStatus.PENDING)),
                in_progress=models.Count("pk", filter=models.Q(status=ExecutionStatus.IN_PROGRESS)),
                passed=models.Count("pk", filter=models.Q(status=ExecutionStatus.PASSED)),
                failed=models.Count("pk", filter=models.Q(status=ExecutionStatus.FAILED)),
                blocked=models.Count("pk", filter=models.Q(status=ExecutionStatus.BLOCKED)),
                done=models.Count("pk", filter=done),
                retests=models.Count("pk", filter=models.Q(retest_of__isnull=False) & ~done),
            )
            .order_by("plan__release__product__name", "plan__release__version", "plan__stage")
        )

    def next_for(self, user) -> "Execution | None":
        """The tester's next case to run: retests first (they unblock a fix), then in
        inbox order."""
        return (
            self.for_tester(user)
            .pending()
            .order_by(
                models.F("retest_of").desc(nulls_last=True),
                "plan__release__product__name",
                "plan__release__version",
                "plan__stage",
                "case__key",
                "pk",
            )
            .first()
        )


class Execution(models.Model):
    """One case run by one tester of a cohort in a plan, pinned to the case version it ran.

    A retest is a new execution; ``is_latest`` marks the one per (plan, case) that counts:
    the most recently recorded result, or a queued retest, or the first assignment while
    nothing has been recorded. The database holds that at most one is latest.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="executions")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="executions")
    case_version = models.ForeignKey(
        CaseVersion, on_delete=models.PROTECT, related_name="executions"
    )
    tester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="executions"
    )
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="executions")
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, null=True, blank=True, related_name="executions"
    )
    build = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=12, choices=ExecutionStatus, default=ExecutionStatus.PENDING
    )
    is_latest = models.BooleanField(default=True)
    retest_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="retests"
    )
    notes = models.TextField(blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    time_spent_seconds = models.PositiveIntegerField(default=0)
    # Bumped on every save through the services: a save that read an older number is
    # refused instead of silently overwriting someone else's work.
    lock_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExecutionQuerySet.as_manager()

    class Meta:
        ordering = ["plan_id", "case_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ExecutionStatus.values),
                name="execution_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[ExecutionStatus.PENDING, ExecutionStatus.IN_PROGRESS]
                )
                | models.Q(finished_at__isnull=False),
                name="execution_finished_has_time",
                violation_error_message="A finished execution records when it finished.",
            ),
            models.UniqueConstraint(
                fields=["plan", "case"],
                condition=models.Q(is_latest=True),
                name="execution_one_latest_per_case",
            ),
        ]
        indexes = [
            models.Index(fields=["tester", "status"], name="execution_tester_status"),
            models.Index(fields=["plan", "is_latest", "status"], name="execution_plan_latest"),
            # The default ordering within a plan: the API's executions list reads one page.
            models.Index(fields=["plan", "case", "id"], name="execution_plan_case"),
            # Every column the plan-wide aggregates read (the dashboard's tester table and
            # results per day, the beta testers per case, the fingerprint), so PostgreSQL
            # answers them from the index alone instead of visiting each row's page.
            models.Index(
                fields=[
                    "plan",
                    "tester",
                    "cohort",
                    "status",
                    "finished_at",
                    "case",
                    "updated_at",
                    "lock_version",
                ],
                name="execution_plan_summary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.key} by {self.tester} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_execution_change", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def steps_not_run(self) -> list[int]:
        """The steps of a finished run that have no result: not run, as a run may finish
        failed or blocked before its last step. Empty while the run is open."""
        if not self.is_finished:
            return []
        marked = {result.position for result in self.step_results.all()}
        return [n for n in range(1, self.case_version.step_count + 1) if n not in marked]

    @property
    def is_retest(self) -> bool:
        return self.retest_of_id is not None

    @staticmethod
    def result_from_steps(step_statuses: list[str]) -> str | None:
        """The overall result the steps imply: any failed → failed, else any blocked →
        blocked, else passed when at least one step passed. None when that is undecided."""
        if StepStatus.FAILED in step_statuses:
            return ExecutionStatus.FAILED
        if StepStatus.BLOCKED in step_statuses:
            return ExecutionStatus.BLOCKED
        if StepStatus.PASSED in step_statuses:
            return ExecutionStatus.PASSED
        return None


class ExecutionTally(models.Model):
    """How many times the executions of one plan have changed: a counter the database
    moves itself, by triggers (migration ``0005``), on every insert, update and delete
    of an execution, whatever wrote it — the services, the admin, a bulk load or raw
    SQL. The report fingerprint reads this one row instead of aggregating every
    execution of the plan, retest history included, so checking a report for
    staleness costs the same at any size.

    Never written by the application. ``plan_id`` is a plain column, not a foreign
    key: deleting a plan deletes its executions first, and their triggers touch its
    row again."""

    plan_id = models.BigIntegerField(primary_key=True)
    changes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"plan {self.plan_id}: {self.changes} changes"


class ScopeTally(models.Model):
    """How many times a plan's scope changed: a case added or removed, a case in scope
    given a new version, a requirement linked to or unlinked from a case in scope. Kept
    by database triggers (migration ``0007``) like ``ExecutionTally``, for the report
    fingerprint; never written by the application."""

    plan_id = models.BigIntegerField(primary_key=True)
    changes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"plan {self.plan_id}: {self.changes} scope changes"


class ExecutionTesterTally(models.Model):
    """How many of a plan's executions each tester holds in each cohort and state,
    retests and history included: the release dashboard's tester table. Kept by
    database triggers (migration ``0006``) like ``ExecutionTally``, so the table costs
    the same however long the history; never written by the application."""

    plan_id = models.BigIntegerField()
    tester_id = models.BigIntegerField()
    cohort_id = models.BigIntegerField()
    status = models.CharField(max_length=12)
    runs = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plan_id", "tester_id", "cohort_id", "status"],
                name="execution_tester_tally_key",
            )
        ]

    def __str__(self) -> str:
        return f"plan {self.plan_id}, tester {self.tester_id}: {self.runs} {self.status}"


class ExecutionHourTally(models.Model):
    """How many results (passed, failed, blocked) a plan's executions recorded in each
    hour (UTC), retests included: the dashboard's results per day, summed into days of
    the site's time zone. Kept by database triggers (migration ``0006``); never written
    by the application. Hours, not days, so the days follow ``TIME_ZONE`` (exactly for
    zones a whole number of hours from UTC)."""

    plan_id = models.BigIntegerField()
    hour = models.DateTimeField()
    status = models.CharField(max_length=12)
    results = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plan_id", "hour", "status"], name="execution_hour_tally_key"
            )
        ]

    def __str__(self) -> str:
        return f"plan {self.plan_id}, {self.hour:%Y-%m-%d %H}h: {self.results} {self.status}"


class StepResult(models.Model):
    """The result of one step of the pinned case version, with what actually happened."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="step_results")
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=StepStatus)
    actual_result = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        # By the column, not the relation: "execution" would follow Execution's own
        # ordering and join uat_execution into every prefetch of a page's step results.
        ordering = ["execution_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "position"], name="stepresult_position_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=StepStatus.values), name="stepresult_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="stepresult_position_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"step {self.position}: {self.get_status_display()}"


class ExecutionDraftQuerySet(models.QuerySet):
    def texts_of(self, execution: Execution, author) -> dict[str, str]:
        """The author's drafts of ``execution``: form field name → text."""
        return dict(self.filter(execution=execution, author=author).values_list("field", "text"))


class ExecutionDraft(models.Model):
    """Text a tester typed on an execution page and has not saved as a result yet: an
    actual result of a step not (re)marked, or the run's note before finishing. Kept as
    they type, and on every post from the page, so an upload, a detour to report a
    defect, a plain form post or a refused save never throws it away.

    Not a record: no audit event, never read by the tallies, the fingerprint or the
    report. Marking the step (or finishing the run) clears it. ``field`` is the name of
    the form field it restores: ``notes`` or ``actual_<step>``."""

    NOTES = "notes"

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="drafts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=20)
    text = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExecutionDraftQuerySet.as_manager()

    class Meta:
        ordering = ["execution_id", "field"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "author", "field"], name="executiondraft_one_per_field"
            )
        ]

    def __str__(self) -> str:
        return f"draft of {self.field}"

    @staticmethod
    def step_field(position: int) -> str:
        return f"actual_{position}"


def evidence_path(instance: "Evidence", filename: str) -> str:
    # Never trust the uploaded name on disk: a random name keeps the original extension out
    # of reach of path tricks; the original name is kept in a field for display.
    return f"evidence/{instance.execution.uuid}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """A screenshot or file attached to an execution (optionally to one of its steps)."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="evidence")
    step_position = models.PositiveSmallIntegerField(null=True, blank=True)
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["execution_id", "uploaded_at"]
        verbose_name_plural = "evidence"

    # The types a browser may show inline (thumbnails): images judged from the content.
    IMAGE_TYPES = ("image/png", "image/jpeg")

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type in self.IMAGE_TYPES
