"""What the benchmark measures at one data size, on the product ``uat.scale`` built.

Pages and API go through Django's test client as a signed-in user, the way a browser
or a pipeline would reach them; writes call the services directly, each on a target of
its own. The order matters: assignment adds executions, so it runs last.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from reports.criteria import criteria_evaluate
from reports.metrics import plan_metrics
from reports.models import AcceptanceReport
from reports.services import report_build, report_pdf, report_render, report_request
from uat import services
from uat.models import (
    Case,
    Cohort,
    CohortMembership,
    Execution,
    ExecutionStatus,
    Plan,
    Product,
    Severity,
    StepStatus,
)

from .measure import Result, measure

ASSIGNED_CASES = 1_000


@dataclass
class Settings:
    warmup: int = 2
    repeats: int = 20
    # The report and its PDF take seconds each: fewer runs of those.
    slow_repeats: int = 5


class Scene:
    """The people, plans and targets of one benchmark product."""

    def __init__(self, product: Product, executions: int, settings: Settings):
        self.product, self.executions, self.settings = product, executions, settings
        plans = Plan.objects.filter(release__product=product).select_related("release__product")
        self.plan = plans.order_by("stage").last()  # the beta plan when there is one
        self.lead = User.objects.get(email=f"lead@{product.slug}.example")
        self.tester = self._busiest_tester()
        self.pending = self._targets()

    def _busiest_tester(self) -> User:
        row = (
            Execution.objects.filter(plan=self.plan, status=ExecutionStatus.PENDING)
            .values("tester_id")
            .annotate(n=Count("id"))
            .order_by("-n", "tester_id")
            .first()
        )
        return User.objects.get(pk=row["tester_id"])

    def _targets(self) -> Iterator[Execution]:
        """Pending executions of the product, each handed to one write only."""
        queryset = (
            Execution.objects.filter(plan__release__product=self.product)
            .filter(status=ExecutionStatus.PENDING)
            .with_details()
            .order_by("pk")
        )
        return iter(queryset)

    def next_pending(self) -> Execution:
        execution = next(self.pending, None)
        if execution is None:
            raise RuntimeError("No pending execution left to write on: build more executions.")
        return execution

    def client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def run(self, name: str, run, **options) -> Result:
        s = self.settings
        options.setdefault("warmup", s.warmup)
        options.setdefault("repeats", s.repeats)
        return measure(name, self.executions, run, **options)


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")


def pages(scene: Scene) -> list[Result]:
    tester = scene.client(scene.tester)
    lead = scene.client(scene.lead)
    mine = Execution.objects.filter(tester=scene.tester, status=ExecutionStatus.PENDING)
    execution_url = reverse("uat:execution", args=[mine.first().uuid])
    release = scene.plan.release
    return [
        scene.run("inbox", lambda _: _get(tester, reverse("uat:inbox"))),
        scene.run("execution_page", lambda _: _get(tester, execution_url)),
        scene.run(
            "dashboard", lambda _: _get(lead, reverse("reports:dashboard", args=[scene.plan.pk]))
        ),
        scene.run(
            "gate_api",
            lambda _: _get(lead, f"/api/v1/releases/{release.pk}/gate/?stage=production"),
        ),
        scene.run(
            "executions_api",
            lambda _: _get(lead, f"/api/v1/executions/?plan={scene.plan.pk}"),
        ),
        scene.run("defects_api", lambda _: _get(lead, f"/api/v1/defects/?release={release.pk}")),
    ]


def writes(scene: Scene) -> list[Result]:
    def step_target(n):
        return scene.next_pending()

    def step(execution):
        services.execution_step_record(
            execution=execution, position=1, status=StepStatus.PASSED, actor=execution.tester
        )

    def finish_target(n):
        execution = scene.next_pending()
        for position in range(1, len(execution.case_version.steps) + 1):
            services.execution_step_record(
                execution=execution,
                position=position,
                status=StepStatus.PASSED,
                actor=execution.tester,
            )
        return execution

    def finish(execution):
        services.execution_record(execution=execution, actor=execution.tester, notes="Done.")

    def defect(execution):
        services.defect_report(
            execution=execution,
            actor=execution.tester,
            title="The total is wrong",
            severity=Severity.MINOR,
            steps_to_reproduce="Run step 1.",
            step_position=1,
        )

    return [
        scene.run("step_record", step, prepare=step_target),
        scene.run("execution_record", finish, prepare=finish_target),
        scene.run("defect_report", defect, prepare=step_target),
    ]


def report(scene: Scene) -> list[Result]:
    plan, s = scene.plan, scene.settings

    def evaluate(_):
        criteria_evaluate(plan, plan_metrics(plan))

    metrics = plan_metrics(plan)
    criteria = criteria_evaluate(plan, metrics)
    draft = AcceptanceReport(plan=plan, fingerprint="bench")

    def pdf(_):
        report_pdf(
            html=report_render(report=draft, metrics=metrics, criteria=criteria), report=draft
        )

    return [
        scene.run("report_metrics", evaluate, repeats=s.slow_repeats, memory=True),
        scene.run("report_pdf", pdf, warmup=min(1, s.warmup), repeats=max(1, s.slow_repeats // 2)),
    ]


def ready_report(scene: Scene) -> None:
    """A built report of the plan, so the gate and the dashboard do their full work."""
    report, _ = report_request(plan=scene.plan, actor=scene.lead)
    report_build(report_id=report.pk)


def assign(scene: Scene) -> list[Result]:
    plan = scene.plan
    cases = list(
        Case.objects.filter(plans=plan, status=Case.Status.READY).order_by("key")[:ASSIGNED_CASES]
    )
    tester_group = Group.objects.get(name=Role.TESTER.value)

    def new_cohort(n):
        # A cohort nobody in it holds a case yet, so every case gets a new execution.
        cohort = Cohort.objects.create(
            product=scene.product, name=f"Bench assign {n}", kind=plan.stage
        )
        plan.cohorts.add(cohort)
        for i in range(3):
            user = User.objects.create(
                email=f"assign{n}-{i}@{scene.product.slug}.example",
                is_external=plan.stage == Cohort.Kind.BETA,
            )
            user.groups.add(tester_group)
            CohortMembership.objects.create(cohort=cohort, user=user)
        return cohort

    def run(cohort):
        created = services.plan_assign(plan=plan, cohort=cohort, actor=scene.lead, cases=cases)
        if len(created) != len(cases):
            raise RuntimeError(f"Assigned {len(created)} executions, not {len(cases)}.")

    return [scene.run("assign_cases", run, prepare=new_cohort, warmup=1)]


def measure_all(product: Product, executions: int, settings: Settings) -> list[Result]:
    scene = Scene(product, executions, settings)
    ready_report(scene)
    results = pages(scene) + writes(scene) + report(scene) + assign(scene)
    return results
