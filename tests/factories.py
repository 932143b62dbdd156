"""factory-boy factories for every model, with traits for the states tests need."""

import datetime as dt

import factory
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, Invitation, Role, User
from reports.models import (
    AcceptanceReport,
    EmailDelivery,
    Promotion,
    SignOff,
    Webhook,
    WebhookDelivery,
)
from uat.models import (
    Case,
    CaseStep,
    CaseVersion,
    Cohort,
    CohortMembership,
    Defect,
    Environment,
    Event,
    Evidence,
    Execution,
    ExecutionStatus,
    Plan,
    PlanSignoffRole,
    Product,
    Release,
    Requirement,
    SignoffRole,
    StepResult,
    Waiver,
)
from uat.models.catalog import content_digest

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        external = factory.Trait(is_external=True)
        staff = factory.Trait(is_staff=True)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=Role(role).value) for role in extracted])
        if create:
            self.save()

    @factory.post_generation
    def two_factor(self, create, extracted, **kwargs):
        """``UserFactory(two_factor=True)``: enrolled in two-factor, with the device on
        ``user.totp_device`` and the backup codes on ``user.backup_codes``."""
        if create and extracted:
            self.totp_device = TOTPDeviceFactory(user=self)
            self.backup_codes = StaticDeviceFactory(user=self).codes


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    product = factory.SubFactory(ProductFactory)
    version = factory.Sequence(lambda n: f"1.{n}")

    class Params:
        hotfix = factory.Trait(kind=Release.Kind.HOTFIX)


class EnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Environment

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"UAT {n}")
    url = "https://uat.example.com"
    build = factory.Sequence(lambda n: f"build-{n}")


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    product = factory.SubFactory(ProductFactory)
    key = factory.Sequence(lambda n: f"R-{n:03d}")
    title = factory.Faker("sentence", nb_words=5)
    acceptance_text = factory.Faker("paragraph")


class CaseFactory(factory.django.DjangoModelFactory):
    """A ready case with ``steps`` steps and its first version frozen."""

    class Meta:
        model = Case
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    key = factory.Sequence(lambda n: f"C-{n:04d}")
    title = factory.Faker("sentence", nb_words=6)
    objective = factory.Faker("sentence")
    status = Case.Status.READY

    class Params:
        critical = factory.Trait(priority="critical")
        draft = factory.Trait(status=Case.Status.DRAFT)

    @factory.post_generation
    def steps(self, create, extracted, **kwargs):
        if not create:
            return
        count = 3 if extracted is None else extracted
        CaseStep.objects.bulk_create(
            CaseStep(case=self, position=n, action=f"Do thing {n}", expected=f"Thing {n} done")
            for n in range(1, count + 1)
        )
        if count:
            content = self.content()
            CaseVersion.objects.create(
                case=self, number=1, digest=content_digest(content), **content
            )
            Case.objects.filter(pk=self.pk).update(version=1)
            self.version = 1


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Cohort {n}")
    kind = Cohort.Kind.ALPHA

    class Params:
        beta = factory.Trait(kind=Cohort.Kind.BETA)

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            CohortMembership.objects.bulk_create(
                CohortMembership(cohort=self, user=user) for user in extracted
            )


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        skip_postgeneration_save = True

    release = factory.SubFactory(ReleaseFactory)
    stage = Plan.Stage.ALPHA
    name = factory.LazyAttribute(lambda o: f"{o.release} {o.stage} plan")
    status = Plan.Status.IN_EXECUTION
    owner = factory.SubFactory(UserFactory, staff=True)
    environment = factory.SubFactory(
        EnvironmentFactory, product=factory.SelfAttribute("..release.product")
    )
    starts_on = factory.LazyFunction(lambda: timezone.localdate())
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))

    class Params:
        beta = factory.Trait(stage=Plan.Stage.BETA)
        draft = factory.Trait(status=Plan.Status.DRAFT)
        completed = factory.Trait(status=Plan.Status.COMPLETED)

    @factory.post_generation
    def cases(self, create, extracted, **kwargs):
        if create and extracted:
            self.cases.add(*extracted)

    @factory.post_generation
    def cohorts(self, create, extracted, **kwargs):
        if create and extracted:
            self.cohorts.add(*extracted)


class PlanSignoffRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanSignoffRole
        skip_postgeneration_save = True

    plan = factory.SubFactory(PlanFactory)
    role = SignoffRole.BUSINESS_OWNER

    @factory.post_generation
    def signers(self, create, extracted, **kwargs):
        if create and extracted:
            self.signers.add(*extracted)


class ExecutionFactory(factory.django.DjangoModelFactory):
    """An execution of a plan's case; traits give the finished states."""

    class Meta:
        model = Execution

    plan = factory.SubFactory(PlanFactory)
    case = factory.SubFactory(CaseFactory, product=factory.SelfAttribute("..plan.release.product"))
    case_version = factory.LazyAttribute(lambda o: o.case.versions.order_by("-number").first())
    tester = factory.SubFactory(UserFactory)
    cohort = factory.SubFactory(
        CohortFactory, product=factory.SelfAttribute("..plan.release.product")
    )
    environment = factory.SelfAttribute("plan.environment")
    build = factory.LazyAttribute(lambda o: o.environment.build if o.environment else "")

    class Params:
        finished = factory.Trait(
            finished_at=factory.LazyFunction(timezone.now),
            started_at=factory.LazyFunction(timezone.now),
        )
        passed = factory.Trait(finished=True, status=ExecutionStatus.PASSED)
        failed = factory.Trait(finished=True, status=ExecutionStatus.FAILED)
        blocked = factory.Trait(finished=True, status=ExecutionStatus.BLOCKED)
        in_progress = factory.Trait(
            status=ExecutionStatus.IN_PROGRESS, started_at=factory.LazyFunction(timezone.now)
        )


class StepResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StepResult

    execution = factory.SubFactory(ExecutionFactory, in_progress=True)
    position = 1
    status = "passed"


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    execution = factory.SubFactory(ExecutionFactory)
    file = factory.django.FileField(filename="screenshot.png", data=b"\x89PNG\r\n\x1a\n")
    original_name = "screenshot.png"
    content_type = "image/png"
    size = 8
    sha256 = "0" * 64
    uploaded_by = factory.SelfAttribute("execution.tester")


class DefectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Defect

    release = factory.SubFactory(ReleaseFactory)
    title = factory.Faker("sentence", nb_words=6)
    severity = "major"
    reported_by = factory.SubFactory(UserFactory)

    class Params:
        critical = factory.Trait(severity="critical")
        minor = factory.Trait(severity="minor")
        escaped = factory.Trait(found_in=Defect.FoundIn.PRODUCTION)
        fixed = factory.Trait(status="fixed")
        closed = factory.Trait(status="closed", resolved_at=factory.LazyFunction(timezone.now))


class WaiverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Waiver

    defect = factory.SubFactory(DefectFactory)
    release = factory.SelfAttribute("defect.release")
    reason = "Known issue with a workaround; fixed in the next release."
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))
    granted_by = factory.SubFactory(UserFactory)

    class Params:
        expired = factory.Trait(
            expires_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
        )


class AcceptanceReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AcceptanceReport

    plan = factory.SubFactory(PlanFactory)

    class Params:
        ready = factory.Trait(
            status="ready",
            decision="go",
            fingerprint="f" * 64,
            finished_at=factory.LazyFunction(timezone.now),
        )


class SignOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignOff

    report = factory.SubFactory(AcceptanceReportFactory, ready=True)
    signer = factory.SubFactory(UserFactory)
    role = SignoffRole.BUSINESS_OWNER
    printed_name = factory.SelfAttribute("signer.full_name")
    meaning = "Approved as Business Owner"
    decision = "approve"
    fingerprint = factory.SelfAttribute("report.fingerprint")
    signed_at = factory.LazyFunction(timezone.now)


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Promotion

    report = factory.SubFactory(AcceptanceReportFactory, ready=True)
    release = factory.SelfAttribute("report.plan.release")
    from_stage = "alpha"
    to_stage = "beta"
    build = "2.4.0-rc1"
    promoted_by = factory.SubFactory(UserFactory)
    decision = factory.LazyFunction(lambda: {"decision": "go", "reasons": []})


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    release = factory.SubFactory(ReleaseFactory)
    verb = "release.noted"
    content_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Release))
    object_id = factory.LazyAttribute(lambda o: str(o.release.pk))
    object_repr = factory.LazyAttribute(lambda o: str(o.release))


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token; its secret is on ``token.secret`` (only in the test, never stored)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "deploy pipeline"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token, secret = model_class.issue(user=kwargs["user"], name=kwargs["name"])
        token.secret = secret
        return token


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@customer.example")
    cohort = factory.SubFactory(CohortFactory, beta=True)
    token_hash = factory.Sequence(lambda n: Invitation.hash_token(f"secret-{n}"))
    invited_by = factory.SubFactory(UserFactory, staff=True)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=7))


class EmailDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailDelivery

    kind = EmailDelivery.Kind.REPORT
    report = factory.SubFactory(AcceptanceReportFactory, ready=True)
    key = factory.LazyAttribute(lambda o: str(o.report.uuid))
    recipient = factory.Sequence(lambda n: f"stakeholder{n}@example.com")


class WebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Webhook

    name = factory.Sequence(lambda n: f"Hook {n}")
    url = "http://127.0.0.1:9/hook"
    secret = "webhook-shared-secret"
    product = factory.SubFactory(ProductFactory)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    webhook = factory.SubFactory(WebhookFactory)
    event_id = factory.Faker("uuid4")
    topic = "report.ready"
    payload = {"topic": "report.ready"}


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """An authenticator app; ``totp_code(device)`` gives a code it accepts now."""

    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "Authenticator app"
    confirmed = True

    class Params:
        unconfirmed = factory.Trait(confirmed=False)


class StaticDeviceFactory(factory.django.DjangoModelFactory):
    """Backup codes; the codes (stored as they are by django-otp) on ``device.codes``."""

    class Meta:
        model = StaticDevice
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    name = "Backup codes"

    @factory.post_generation
    def codes(self, create, extracted, **kwargs):
        self.codes = extracted or [f"code{n:04d}" for n in range(10)]
        if create:
            StaticToken.objects.bulk_create(StaticToken(device=self, token=c) for c in self.codes)


def totp_code(device: TOTPDevice, *, offset: int = 0) -> str:
    """A code the authenticator app shows now (``offset`` time steps later), moved on
    past the last one the device accepted, since a code works only once."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    current = totp.t()
    totp.drift += max(current + offset, device.last_t + 1) - current
    return f"{totp.token():0{device.digits}d}"
