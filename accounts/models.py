import hashlib
import secrets
import unicodedata

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    """The roles of Greenlight; each is a group with exactly the permissions it needs."""

    TESTER = "Tester", "Tester"
    QA_LEAD = "QA lead", "QA lead"
    STAKEHOLDER = "Stakeholder", "Stakeholder"
    ADMIN = "Admin", "Admin"
    PIPELINE = "Release pipeline", "Release pipeline"


def email_normalize(email: str) -> str:
    """The one form of an email address Greenlight stores, looks up and counts sign-in
    failures against: compatibility-normalised (NFKC) and case-folded. Every comparison
    of addresses is an equality of this form, never a database's own case rules
    (PostgreSQL's ``UPPER`` maps the dotless i (U+0131) to ``I``; Python's ``casefold`` does
    not), so one address is one account is one lockout."""
    return unicodedata.normalize("NFKC", (email or "").strip()).casefold()


class UserQuerySet(models.QuerySet):
    def by_email(self, email: str) -> "UserQuerySet":
        """The account of ``email`` as typed (at most one)."""
        return self.filter(email=email_normalize(email))

    def with_role(self, role: Role) -> "UserQuerySet":
        return self.filter(groups__name=role.value)

    def internal(self) -> "UserQuerySet":
        return self.filter(is_external=False)

    def external(self) -> "UserQuerySet":
        return self.filter(is_external=True)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email_normalize(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email=email_normalize(email))


class User(AbstractBaseUser, PermissionsMixin):
    """A person (or a machine account) using Greenlight; the email address is the login."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(
        max_length=150, help_text="Printed on electronic signatures exactly as written here."
    )
    is_external = models.BooleanField(
        "external (beta) tester",
        default=False,
        help_text="External users see nothing beyond their own assignments.",
    )
    is_staff = models.BooleanField(
        "staff status", default=False, help_text="May sign in to the admin."
    )
    is_active = models.BooleanField("active", default=True)
    receives_digests = models.BooleanField(default=True)
    receives_reminders = models.BooleanField(default=True)
    receives_defect_updates = models.BooleanField(
        default=True,
        help_text="Email me when a defect I reported changes status or gets a comment.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=~models.Q(is_external=True, is_staff=True),
                name="user_external_not_staff",
                violation_error_message="An external tester cannot have staff access.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def clean(self) -> None:
        super().clean()
        self.email = email_normalize(self.email)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def has_role(self, role: Role) -> bool:
        if self.is_superuser and role == Role.ADMIN:
            return True
        return any(group.name == role.value for group in self.groups.all())

    @property
    def is_qa_lead(self) -> bool:
        return self.is_superuser or self.has_role(Role.QA_LEAD)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A secret a person or a machine (a release pipeline) sends as
    ``Authorization: Token <secret>``. Only its SHA-256 is stored; the secret is shown
    once, when the token is made."""

    PREFIX = "glt_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'deploy pipeline'.")
    key_prefix = models.CharField(
        max_length=12, help_text="The start of the secret, to tell tokens apart."
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def issue(
        cls, *, user: User, name: str, created_by: User | None = None
    ) -> tuple["ApiToken", str]:
        """Make a token; return it with its secret, which is never stored."""
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            key_prefix=secret[:12],
            key_hash=_digest(secret),
            created_by=created_by,
        )
        return token, secret

    @classmethod
    def find(cls, secret: str) -> "ApiToken | None":
        return cls.objects.active().select_related("user").filter(key_hash=_digest(secret)).first()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> "InvitationQuerySet":
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An email address invited into a beta cohort. The link carries a secret of which
    only the hash is stored; it works once, until it expires."""

    email = models.EmailField()
    cohort = models.ForeignKey("uat.Cohort", on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.cohort}"

    @staticmethod
    def hash_token(secret: str) -> str:
        return _digest(secret)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_used(self) -> bool:
        return self.accepted_at is not None


class SignInAttempt(models.Model):
    """One try at a sign-in step, kept for the sign-in lockout (the audit trail records
    the same tries as events; this table is what the lockout counts, shared by every web
    process). ``key`` is a keyed hash of the address typed in, so an address without an
    account is counted without being stored."""

    class Step(models.TextChoices):
        PASSWORD = "password", "password"
        TWO_FACTOR = "two_factor", "two-factor code"
        RESET = "reset", "password reset"

    key = models.CharField(max_length=64)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    step = models.CharField(max_length=20, choices=Step)
    succeeded = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["key", "-created_at"], name="signin_attempt_key"),
            models.Index(fields=["ip", "-created_at"], name="signin_attempt_ip"),
            models.Index(fields=["user", "step", "-created_at"], name="signin_attempt_user"),
        ]

    def __str__(self) -> str:
        outcome = "succeeded" if self.succeeded else "failed"
        return f"{self.get_step_display()} {outcome} at {self.created_at:%Y-%m-%d %H:%M}"
