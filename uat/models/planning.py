"""Cohorts of testers and the UAT plans they run."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from .catalog import Case, Environment, Release

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class CohortKind(models.TextChoices):
    ALPHA = "alpha", "Alpha (internal staff)"
    BETA = "beta", "Beta (external users)"

    @classmethod
    def taking(cls, *, external: bool) -> "CohortKind":
        """The kind of cohort a person joins: alpha cohorts take internal staff, beta
        cohorts external testers. An external user in an alpha cohort would see internal
        work; internal staff in a beta cohort would count as outside testers."""
        return cls.BETA if external else cls.ALPHA


# Why someone of the wrong kind cannot join, by the kind of cohort refusing them.
WRONG_MEMBER = {
    CohortKind.ALPHA: "External testers cannot join an alpha cohort.",
    CohortKind.BETA: "Only external testers can join a beta cohort.",
}


class Cohort(models.Model):
    """A named group of testers: alpha (internal staff) or beta (external users)."""

    Kind = CohortKind

    product = models.ForeignKey("uat.Product", on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=5, choices=Kind)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CohortMembership", related_name="cohorts", blank=True
    )

    class Meta:
        ordering = ["product__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="cohort_name_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=CohortKind.values), name="cohort_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_cohort_change", args=[self.pk])

    def kind_error(self, *, external: bool) -> str:
        """Why an external (or internal) person cannot join this cohort, "" when they can:
        the one check of ``CohortKind.taking``, which every interface asks, for a cohort
        as submitted (saved or not, its kind perhaps just changed)."""
        if self.kind == CohortKind.taking(external=external):
            return ""
        # A kind not chosen yet, or not one of the kinds, is its own field's error.
        return WRONG_MEMBER.get(self.kind, "")

    def member_error(self, user) -> str:
        """Why ``user`` cannot be a member of this cohort, "" when they can."""
        return self.kind_error(external=user.is_external)

    def admits(self, user) -> bool:
        return not self.member_error(user)


class CohortMembership(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cohort", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.cohort}"

    def clean(self) -> None:
        if self.cohort_id and self.user_id and (error := self.cohort.member_error(self.user)):
            raise ValidationError({"user": error})


class PlanQuerySet(models.QuerySet):
    def in_execution(self) -> "PlanQuerySet":
        return self.filter(status=Plan.Status.IN_EXECUTION)

    def visible_to(self, user) -> "PlanQuerySet":
        """Every plan for QA leads; a stakeholder's releases' plans; a tester's own."""
        from ..access import sees_everything, stake_releases
        from .catalog import Release
        from .execution import Execution

        if sees_everything(user):
            return self
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()

        own = models.Q(pk__in=Execution.objects.filter(tester=user).values("plan_id"))
        if user.is_external:
            return self.filter(own)
        releases = Release.objects.filter(stake_releases(user)).values("pk")
        return self.filter(own | models.Q(release__in=releases))


class PlanStage(models.TextChoices):
    ALPHA = "alpha", "Alpha"
    BETA = "beta", "Beta"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_EXECUTION = "in_execution", "In execution"
    COMPLETED = "completed", "Completed"


class Plan(models.Model):
    """The UAT plan of one release for one stage, with its scope and exit criteria."""

    # The acceptance-criteria thresholds: what a report evaluates, its fingerprint
    # digests, a clone copies and the API exposes.
    CRITERIA_FIELDS = (
        "min_execution_coverage",
        "min_critical_pass_rate",
        "min_pass_rate",
        "max_open_critical_defects",
        "max_open_major_defects",
        "max_open_minor_defects",
        "max_open_trivial_defects",
        "require_requirement_coverage",
        "min_beta_testers_per_critical_case",
    )

    Stage = PlanStage
    Status = PlanStatus

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="plans")
    stage = models.CharField(max_length=5, choices=Stage)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=15, choices=Status, default=Status.DRAFT)
    objectives = models.TextField(blank=True)
    scope_notes = models.TextField(blank=True, help_text="What is in and out of scope, and why.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_plans"
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, null=True, blank=True, related_name="plans"
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    cases = models.ManyToManyField(Case, blank=True, related_name="plans")
    cohorts = models.ManyToManyField(Cohort, blank=True, related_name="plans")
    stakeholders = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="stakeholder_plans",
        help_text="Receive the acceptance reports and see the dashboards.",
    )

    # Acceptance (exit) criteria. Each is a must-pass rule; None means "no limit".
    min_execution_coverage = models.DecimalField(
        "minimum execution coverage (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal(100),
        validators=PERCENT,
    )
    min_critical_pass_rate = models.DecimalField(
        "minimum pass rate of critical cases (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal(100),
        validators=PERCENT,
    )
    min_pass_rate = models.DecimalField(
        "minimum overall pass rate (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal(95),
        validators=PERCENT,
    )
    max_open_critical_defects = models.PositiveIntegerField(default=0, null=True, blank=True)
    max_open_major_defects = models.PositiveIntegerField(default=0, null=True, blank=True)
    max_open_minor_defects = models.PositiveIntegerField(null=True, blank=True)
    max_open_trivial_defects = models.PositiveIntegerField(null=True, blank=True)
    require_requirement_coverage = models.BooleanField(
        "every requirement covered by a passing case", default=True
    )
    min_beta_testers_per_critical_case = models.PositiveSmallIntegerField(
        "distinct beta testers per critical case",
        default=2,
        help_text="Applies to beta plans only.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["release", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["release", "stage"], name="plan_stage_unique"),
            models.CheckConstraint(
                condition=models.Q(stage__in=PlanStage.values), name="plan_stage_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PlanStatus.values), name="plan_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="plan_schedule_ordered",
                violation_error_message="The plan cannot end before it starts.",
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{field}__gte": 0, f"{field}__lte": 100}),
                    name=f"plan_{field}_percent",
                )
                for field in ("min_execution_coverage", "min_critical_pass_rate", "min_pass_rate")
            ],
        ]

    def __str__(self) -> str:
        return f"{self.release} {self.get_stage_display()} plan"

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_plan_change", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.COMPLETED

    @property
    def is_beta(self) -> bool:
        return self.stage == self.Stage.BETA

    def clean(self) -> None:
        super().clean()
        if (
            self.release_id
            and self.environment_id
            and self.environment.product_id != self.release.product_id
        ):
            raise ValidationError({"environment": "Choose an environment of this product."})


class SignoffRole(models.TextChoices):
    BUSINESS_OWNER = "business_owner", "Business Owner"
    PRODUCT_OWNER = "product_owner", "Product Owner"
    QA_LEAD = "qa_lead", "QA Lead"
    COMPLIANCE = "compliance", "Compliance"
    RELEASE_MANAGER = "release_manager", "Release Manager"


class SignOffDecision(models.TextChoices):
    """What a signer decides (``reports.SignOff``); here beside the roles they sign as."""

    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class PlanSignoffRole(models.Model):
    """A sign-off a plan requires, and the named users who may give it."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="signoff_roles")
    role = models.CharField(max_length=20, choices=SignoffRole)
    signers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="signoff_roles")
    # Who last named this role's signers, and when: they never sign it themselves, and a
    # report built before that moment cannot be signed for it (``uat.policy``,
    # ``reports.currency``). Empty on rows from before these were recorded.
    configured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="configured_signoff_roles",
        editable=False,
    )
    configured_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["plan", "role"]
        verbose_name = "required sign-off role"
        constraints = [
            models.UniqueConstraint(fields=["plan", "role"], name="plan_signoff_role_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=SignoffRole.values), name="signoff_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} for {self.plan}"

    def meaning_of(self, decision: str) -> str:
        """The meaning a signature for this role carries, printed on it: the one place
        this statement is worded (the signing page shows it, the sign-off stores it)."""
        verb = "Approved" if decision == SignOffDecision.APPROVE else "Rejected"
        return f"{verb} as {self.get_role_display()}"
