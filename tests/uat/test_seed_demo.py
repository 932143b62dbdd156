"""The demo data (`seed_demo`, `demo_logins`) and the benchmark data (`seed_scale`)."""

from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q

from accounts.models import Role, User
from bench.scale import ScaleSpec, build_scale
from tests.factories import ProductFactory
from uat.demo import DEMO_LOGINS, DEMO_SLUG
from uat.models import (
    FINAL_STATUSES,
    Case,
    CaseVersion,
    Cohort,
    Defect,
    DefectStatus,
    Event,
    Execution,
    ExecutionStatus,
    Plan,
    Priority,
    Product,
    Release,
    Requirement,
    Severity,
    SignoffRole,
    StepResult,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_settings(settings):
    # The commands run on a developer's machine, with DEBUG on (pytest turns it off).
    settings.DEBUG = True
    # The demo hashes its password once; the logins below check it once per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    models = [User, Product, Release, Requirement, Case, CaseVersion, Cohort, Plan]
    models += [Execution, StepResult, Defect, Event]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_builds_the_acme_crm_example():
    output = seed()

    product = Product.objects.get(slug=DEMO_SLUG)
    assert product.name == "Acme CRM"
    assert "Loaded the Acme CRM demo" in output
    releases = {release.version: release for release in product.releases.all()}
    assert releases["2.4"].stage == Release.Stage.BETA
    assert releases["2.4"].kind == Release.Kind.NORMAL
    assert releases["2.3"].stage == Release.Stage.PRODUCTION
    assert releases["2.3"].defects.escaped().count() >= 2
    environment = product.environments.get(name="UAT")
    assert environment.build == "2.4.0-rc.3"
    assert environment.notes

    requirements = product.requirements.all()
    assert [r.key for r in requirements] == [f"CRM-R{n:02d}" for n in range(1, 13)]
    assert all(r.acceptance_text for r in requirements)
    assert not requirements.filter(cases=None).exists()

    cases = product.cases.annotate(steps_count=Count("steps", distinct=True))
    assert cases.count() >= 40
    assert cases.first().key == "CRM-C001"
    for case in cases.annotate(covers=Count("requirements", distinct=True)):
        assert 3 <= case.steps_count <= 6, case.key
        assert 1 <= case.covers <= 2, case.key
        assert case.versions.latest().number == case.version >= 1, case.key
    assert cases.filter(key="CRM-C010", version=2).exists()
    assert set(cases.values_list("priority", flat=True)) == set(Priority.values)
    assert cases.filter(status=Case.Status.DRAFT).count() >= 2
    assert cases.filter(status=Case.Status.RETIRED).count() == 1


def test_seed_demo_plans_cohorts_and_people():
    seed()

    alpha = Plan.objects.get(release__product__slug=DEMO_SLUG, stage=Plan.Stage.ALPHA)
    beta = Plan.objects.get(release__product__slug=DEMO_SLUG, stage=Plan.Stage.BETA)
    assert alpha.status == Plan.Status.COMPLETED
    assert beta.status == Plan.Status.IN_EXECUTION
    assert alpha.cohorts.get().name == "Sales & Support (internal)"
    assert beta.cohorts.get().name == "Customer pilot (external)"
    for plan, external in ((alpha, False), (beta, True)):
        cohort = plan.cohorts.get()
        assert cohort.kind == plan.stage
        assert cohort.members.count() >= 5
        assert set(cohort.members.values_list("is_external", flat=True)) == {external}
        assert list(plan.stakeholders.values_list("email", flat=True)) == ["owner@example.com"]
        signers = dict(plan.signoff_roles.values_list("role", "signers__email"))
        assert signers == {
            SignoffRole.BUSINESS_OWNER: "owner@example.com",
            SignoffRole.QA_LEAD: "lead@example.com",
        }
    # The beta keeps the default exit criteria; the alpha's are looser (a few cases may
    # stay failed on triaged defects; the beta proves the requirements).
    assert beta.min_pass_rate == Plan._meta.get_field("min_pass_rate").default
    assert beta.require_requirement_coverage
    assert (alpha.min_pass_rate, alpha.require_requirement_coverage) == (90, False)

    users = {user.email: user for user in User.objects.prefetch_related("groups")}
    assert users["lead@example.com"].has_role(Role.QA_LEAD)
    assert users["lead@example.com"].is_staff
    assert users["alpha@example.com"].has_role(Role.TESTER)
    assert not users["alpha@example.com"].is_external
    assert users["beta@example.com"].has_role(Role.TESTER)
    assert users["beta@example.com"].is_external
    assert users["owner@example.com"].has_role(Role.STAKEHOLDER)
    assert users["admin@example.com"].is_superuser and users["admin@example.com"].is_staff
    for person in DEMO_LOGINS:
        assert users[person.email].full_name == person.full_name
        assert authenticate(username=person.email, password="greenlight-demo") is not None


def test_seed_demo_runs_through_the_services():
    seed()
    executions = Execution.objects.filter(plan__release__product__slug=DEMO_SLUG)
    defects = Defect.objects.filter(release__product__slug=DEMO_SLUG)

    assert set(executions.values_list("status", flat=True)) == set(ExecutionStatus.values)
    retests = set(executions.filter(retest_of__isnull=False).values_list("status", flat=True))
    assert {ExecutionStatus.PENDING, ExecutionStatus.PASSED} <= retests
    assert not (
        executions.filter(retest_of__isnull=False).exclude(tester=F("retest_of__tester")).exists()
    )
    for plan in Plan.objects.filter(release__product__slug=DEMO_SLUG):
        latest = Counter(plan.executions.counting().values_list("case_id", flat=True))
        assert set(latest) == set(plan.cases.values_list("pk", flat=True))
        assert set(latest.values()) == {1}
    assert not executions.finished().filter(finished_at=None).exists()
    for email in ("alpha@example.com", "beta@example.com"):
        states = set(executions.filter(tester__email=email).values_list("status", flat=True))
        assert len(states) >= 3, email

    uat_defects = defects.found_in_uat()
    assert set(uat_defects.values_list("severity", flat=True)) == set(Severity.values)
    assert set(defects.values_list("status", flat=True)) == set(DefectStatus.values)
    assert uat_defects.exclude(external_key="").exists()
    assert not uat_defects.filter(executions=None).exists()

    verbs = set(Event.objects.values_list("verb", flat=True))
    assert {
        "case.versioned",
        "plan.assigned",
        "execution.step_recorded",
        "execution.recorded",
        "defect.reported",
        "defect.status_changed",
        "execution.retest_queued",
    } <= verbs
    assert Event.objects.filter(verb="execution.recorded").count() == executions.finished().count()


def test_running_seed_demo_twice_changes_nothing():
    seed()
    before = table_counts()

    output = seed()

    assert "already loaded" in output
    assert table_counts() == before


def test_seed_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        seed()

    assert not Product.objects.exists()


def test_seed_demo_if_empty_with_force_seeds_an_empty_database(settings):
    settings.DEBUG = False

    seed("--if-empty", "--force")

    assert Product.objects.filter(slug=DEMO_SLUG).exists()


def test_seed_demo_if_empty_skips_a_database_with_products():
    ProductFactory()

    output = seed("--if-empty")

    assert "skipping" in output
    assert not Product.objects.filter(slug=DEMO_SLUG).exists()


def test_demo_logins_prints_the_logins_and_password(settings):
    settings.DEMO_PASSWORD = "open-sesame-demo"
    out = StringIO()

    call_command("demo_logins", stdout=out)

    text = out.getvalue()
    assert f"{settings.SITE_URL}/admin/" in text
    assert "open-sesame-demo" in text
    for person in DEMO_LOGINS:
        line = next(line for line in text.splitlines() if person.email in line)
        assert person.role.label in line
        assert "not in this database" in line


def test_seed_scale_builds_exactly_the_counts_asked():
    out, err = StringIO(), StringIO()

    call_command(
        "seed_scale",
        "--cases=50",
        "--steps=4",
        "--requirements=20",
        "--testers=12",
        "--executions=500",
        "--defects=30",
        stdout=out,
        stderr=err,
    )

    product = Product.objects.get(slug="bench-1")
    assert "executions 500/500" in err.getvalue()
    cases = product.cases.all()
    assert cases.count() == 50
    assert not cases.exclude(version=1).exists()
    assert CaseVersion.objects.filter(case__product=product, number=1).count() == 50
    assert StepResult.objects.filter(execution__plan__release__product=product).exists()
    assert product.requirements.count() == 20
    assert not product.requirements.filter(cases=None).exists()
    assert User.objects.filter(cohorts__product=product).count() == 12
    for cohort in product.cohorts.all():
        assert set(cohort.members.values_list("is_external", flat=True)) == {
            cohort.kind == Cohort.Kind.BETA
        }

    executions = Execution.objects.filter(plan__release__product=product)
    assert executions.count() == 500
    for plan in Plan.objects.filter(release__product=product):
        latest = Counter(plan.executions.counting().values_list("case_id", flat=True))
        assert len(latest) == 50 and set(latest.values()) == {1}
        assert not plan.executions.exclude(cohort__kind=plan.stage).exists()
    assert not executions.finished().filter(finished_at=None).exists()
    assert not executions.filter(is_latest=False).exclude(status__in=FINAL_STATUSES).exists()
    retests = executions.filter(retest_of__isnull=False)
    assert retests.exists()
    assert not retests.exclude(retest_of__status=ExecutionStatus.FAILED).exists()
    assert not retests.exclude(tester=F("retest_of__tester")).exists()
    assert not executions.exclude(case_version__number=F("case__version")).exists()

    defects = Defect.objects.filter(release__product=product)
    assert defects.count() == 30
    assert not defects.filter(~Q(executions__status=ExecutionStatus.FAILED)).exists()


def test_build_scale_adds_a_new_product_each_time():
    spec = ScaleSpec(cases=5, requirements=2, testers=4, executions=20, defects=2)

    first, second = build_scale(spec), build_scale(spec)

    assert (first.slug, second.slug) == ("bench-1", "bench-2")
    assert Execution.objects.filter(plan__release__product=second).count() == 20


def test_seed_scale_rejects_impossible_sizes():
    with pytest.raises(CommandError, match="two cohorts"):
        call_command("seed_scale", "--cohorts=1", stdout=StringIO(), stderr=StringIO())


def test_the_demo_reaches_every_verdict_of_the_gate():
    """A newcomer sees all three answers: the signed alpha report opens the gate to beta,
    the beta under way keeps production shut, and 2.3 (before Greenlight) has no report."""
    from reports.gate import gate_evaluate
    from reports.models import AcceptanceReport

    seed()
    releases = {r.version: r for r in Release.objects.filter(product__slug=DEMO_SLUG)}
    to_beta = gate_evaluate(release=releases["2.4"], stage=Release.Stage.BETA)
    to_production = gate_evaluate(release=releases["2.4"], stage=Release.Stage.PRODUCTION)
    earlier = gate_evaluate(release=releases["2.3"], stage=Release.Stage.PRODUCTION)

    assert (to_beta.decision, to_beta.reasons) == ("go", [])
    assert to_production.decision == "no-go"
    assert to_production.report is not None and to_production.report_fresh
    assert any(reason.startswith("Criterion failed") for reason in to_production.reasons)
    assert earlier.decision == "inconclusive"

    alpha = to_beta.report
    assert alpha.plan.stage == Plan.Stage.ALPHA
    assert alpha.status == AcceptanceReport.Status.READY and alpha.decision == "go"
    signed = {(s.role, s.signer.email) for s in alpha.signoffs.select_related("signer")}
    assert signed == {
        (SignoffRole.BUSINESS_OWNER, "owner@example.com"),
        (SignoffRole.QA_LEAD, "lead@example.com"),
    }
    # Signed by the rules: each signer named by the administrator, who signs nothing.
    for role in alpha.plan.signoff_roles.select_related("configured_by"):
        assert role.configured_by.email == "admin@example.com"
    assert Event.objects.filter(verb="report.ready").count() == 2
