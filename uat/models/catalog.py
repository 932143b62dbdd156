"""The product library: products, releases, environments, requirements and versioned cases."""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse


class Priority(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Product(models.Model):
    """The software under acceptance; owns the library of requirements and cases."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_product_change", args=[self.pk])


class ReleaseStage(models.TextChoices):
    PLANNING = "planning", "Planning"
    ALPHA = "alpha", "Alpha"
    BETA = "beta", "Beta"
    PRODUCTION = "production", "Production"


class ReleaseKind(models.TextChoices):
    NORMAL = "normal", "Normal"
    HOTFIX = "hotfix", "Hotfix"


class ReleaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ReleaseQuerySet":
        from ..access import reads_every_release, stake_releases

        if reads_every_release(user):
            return self
        if not getattr(user, "is_authenticated", False) or user.is_external:
            return self.none()
        return self.filter(stake_releases(user))

    def with_results_for(self, user) -> "ReleaseQuerySet":
        """The releases whose test work, dashboards and acceptance reports ``user`` may
        read: every one for QA leads, those they hold a stake in for other internal
        staff; none for release pipelines, which read only releases and their gates."""
        from ..access import sees_everything, stake_releases

        if sees_everything(user):
            return self
        if not getattr(user, "is_authenticated", False) or user.is_external:
            return self.none()
        return self.filter(stake_releases(user))


# A release's version names files (reports, packages, exports) and appears in headers,
# so it holds no line breaks, quotes, slashes or spaces.
VERSION_VALIDATOR = RegexValidator(
    r"\A[A-Za-z0-9][A-Za-z0-9._+-]*\Z",
    "Use letters, digits and . _ + - only, starting with a letter or digit "
    "(for example 2.4, 2.4.1 or 2.5.0-rc1).",
    code="version",
)


class Release(models.Model):
    """A version of a product heading to production through the acceptance stages."""

    Stage = ReleaseStage
    Kind = ReleaseKind

    # The stages a release may move to next. A hotfix skips beta.
    NEXT_STAGES = {
        Kind.NORMAL: {
            Stage.PLANNING: [Stage.ALPHA],
            Stage.ALPHA: [Stage.BETA],
            Stage.BETA: [Stage.PRODUCTION],
            Stage.PRODUCTION: [],
        },
        Kind.HOTFIX: {
            Stage.PLANNING: [Stage.ALPHA],
            Stage.ALPHA: [Stage.PRODUCTION],
            Stage.BETA: [Stage.PRODUCTION],
            Stage.PRODUCTION: [],
        },
    }

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="releases")
    version = models.CharField(
        max_length=50,
        validators=[VERSION_VALIDATOR],
        help_text="For example 2.4, 2.4.1 or 2.5.0-rc1: letters, digits and . _ + -, "
        "starting with a letter or digit.",
    )
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.NORMAL)
    stage = models.CharField(max_length=12, choices=Stage, default=Stage.PLANNING)
    target_date = models.DateField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_releases",
        help_text="Names the signers of its plans' required sign-offs, as administrators "
        "do. Set by an administrator.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["product__name", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="release_version_unique"),
            models.CheckConstraint(
                condition=models.Q(stage__in=ReleaseStage.values), name="release_stage_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ReleaseKind.values), name="release_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_release_change", args=[self.pk])

    @property
    def next_stages(self) -> list[str]:
        return list(self.NEXT_STAGES[self.Kind(self.kind)][self.Stage(self.stage)])

    def can_move_to(self, stage: str) -> bool:
        return stage in self.next_stages


class Environment(models.Model):
    """Where UAT runs: a URL with a build deployed, mirroring production as far as noted."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="environments")
    name = models.CharField(max_length=100)
    url = models.URLField(blank=True)
    build = models.CharField(max_length=100, help_text="The build currently deployed.")
    notes = models.TextField(blank=True, help_text="How this environment mirrors production.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["product__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="environment_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.build})"

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_environment_change", args=[self.pk])


class Requirement(models.Model):
    """A business requirement or user story that cases cover."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="requirements")
    key = models.CharField(max_length=40, help_text="For example CRM-R01.")
    title = models.CharField(max_length=300)
    acceptance_text = models.TextField(blank=True)
    criticality = models.CharField(max_length=10, choices=Priority, default=Priority.MEDIUM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product__name", "key"]
        constraints = [
            models.UniqueConstraint(fields=["product", "key"], name="requirement_key_unique"),
            models.CheckConstraint(
                condition=models.Q(criticality__in=Priority.values),
                name="requirement_criticality_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_requirement_change", args=[self.pk])


class CaseQuerySet(models.QuerySet):
    def ready(self) -> "CaseQuerySet":
        return self.filter(status=Case.Status.READY)

    def matching(
        self, *, requirement=None, priority: str = "", status: str = "", text: str = ""
    ) -> "CaseQuerySet":
        """The cases covering ``requirement``, of ``priority`` and ``status``, whose key
        or title holds ``text``; an empty criterion matches every case."""
        cases = self
        if requirement is not None:
            cases = cases.filter(requirements=requirement)
        if priority:
            cases = cases.filter(priority=priority)
        if status:
            cases = cases.filter(status=status)
        if text:
            cases = cases.filter(models.Q(key__icontains=text) | models.Q(title__icontains=text))
        return cases


class CaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    READY = "ready", "Ready"
    RETIRED = "retired", "Retired"


class Case(models.Model):
    """A test case of the product library.

    The case row holds the working copy; every saved change is frozen into a new
    CaseVersion, and executions pin the version they ran, so history is never rewritten.
    """

    Status = CaseStatus

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="cases")
    key = models.CharField(max_length=40, help_text="For example CRM-C001.")
    title = models.CharField(max_length=300)
    objective = models.TextField(blank=True)
    preconditions = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority, default=Priority.MEDIUM)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    requirements = models.ManyToManyField(Requirement, blank=True, related_name="cases")
    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["product__name", "key"]
        constraints = [
            models.UniqueConstraint(fields=["product", "key"], name="case_key_unique"),
            models.CheckConstraint(
                condition=models.Q(priority__in=Priority.values), name="case_priority_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=CaseStatus.values), name="case_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("admin:uat_case_change", args=[self.pk])

    @property
    def is_critical(self) -> bool:
        return self.priority == Priority.CRITICAL

    def content(self, steps: list["CaseStep"] | None = None) -> dict:
        """What a version freezes: the text testers follow, in a stable form."""
        steps = list(self.steps.all()) if steps is None else steps
        return {
            "title": self.title,
            "objective": self.objective,
            "preconditions": self.preconditions,
            "priority": self.priority,
            "steps": [{"action": s.action, "expected": s.expected} for s in steps],
        }


class CaseStep(models.Model):
    """One step of the working copy of a case: an action and its expected result."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    action = models.TextField()
    expected = models.TextField("expected result")

    class Meta:
        ordering = ["case", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="casestep_position_unique"),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="casestep_position_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.key} step {self.position}"


def content_digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class CaseVersionQuerySet(models.QuerySet):
    def current_by_case(self, case_ids) -> dict[int, "CaseVersion"]:
        """The current version of each of ``case_ids`` (the one its case's edits have
        reached), by case id: what a new assignment or a retest is pinned to. One query."""
        versions = self.filter(case_id__in=case_ids, number=models.F("case__version"))
        return {version.case_id: version for version in versions}


class CaseVersion(models.Model):
    """An immutable snapshot of a case: what a tester was asked to do when they ran it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    objective = models.TextField(blank=True)
    preconditions = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority)
    steps = models.JSONField(default=list, help_text="[{action, expected}] in order.")
    digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CaseVersionQuerySet.as_manager()

    class Meta:
        ordering = ["case", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="caseversion_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.case.key} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("A case version is immutable; edit the case instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A case version is immutable and cannot be deleted.")

    @property
    def step_count(self) -> int:
        return len(self.steps)
