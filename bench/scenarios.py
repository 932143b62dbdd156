"""What the benchmark measures, on each product ``bench.scale`` built (one per size).

Pages and API go through Django's test client as a signed-in user, the way a browser
or a pipeline would reach them; writes call the services directly, each on a target of
its own. The order matters: assignment adds executions, so it runs last.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.models import Group
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from reports.criteria import criteria_evaluate
from reports.metrics import plan_metrics
from reports.models import AcceptanceReport
from reports.services import report_build, report_render, report_request
from reports.services import report_pdf as report_pdf_render
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

from .measure import Result, Trial, measure

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

    @cached_property
    def tester_client(self) -> Client:
        return self._client(self.tester)

    @cached_property
    def lead_client(self) -> Client:
        return self._client(self.lead)

    def _client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def run(self, name: str, run, **options) -> Trial:
        s = self.settings
        options.setdefault("warmup", s.warmup)
        options.setdefault("repeats", s.repeats)
        return Trial(name, self.executions, run, **options)

    def page(self, name: str, client: Client, url: str) -> Trial:
        return self.run(name, lambda _: _get(client, url))


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")


# ---------------------------------------------------------------------------- pages


def inbox(scene: Scene) -> Trial:
    return scene.page("inbox", scene.tester_client, reverse("uat:inbox"))


def execution_page(scene: Scene) -> Trial:
    mine = Execution.objects.filter(tester=scene.tester, status=ExecutionStatus.PENDING)
    url = reverse("uat:execution", args=[mine.order_by("pk").first().uuid])
    return scene.page("execution_page", scene.tester_client, url)


def dashboard(scene: Scene) -> Trial:
    url = reverse("reports:dashboard", args=[scene.plan.pk])
    return scene.page("dashboard", scene.lead_client, url)


def gate_api(scene: Scene) -> Trial:
    url = f"/api/v1/releases/{scene.plan.release_id}/gate/?stage=production"
    return scene.page("gate_api", scene.lead_client, url)


def executions_api(scene: Scene) -> Trial:
    url = f"/api/v1/executions/?plan={scene.plan.pk}"
    return scene.page("executions_api", scene.lead_client, url)


def defects_api(scene: Scene) -> Trial:
    url = f"/api/v1/defects/?release={scene.plan.release_id}"
    return scene.page("defects_api", scene.lead_client, url)


# ---------------------------------------------------------------------------- writes


def step_record(scene: Scene) -> Trial:
    def step(execution):
        services.execution_step_record(
            execution=execution, position=1, status=StepStatus.PASSED, actor=execution.tester
        )

    return scene.run("step_record", step, prepare=lambda n: scene.next_pending())


def execution_record(scene: Scene) -> Trial:
    def steps_done(n):
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

    return scene.run("execution_record", finish, prepare=steps_done)


def defect_report(scene: Scene) -> Trial:
    def defect(execution):
        services.defect_report(
            execution=execution,
            actor=execution.tester,
            title="The total is wrong",
            severity=Severity.MINOR,
            steps_to_reproduce="Run step 1.",
            step_position=1,
        )

    return scene.run("defect_report", defect, prepare=lambda n: scene.next_pending())


# ---------------------------------------------------------------------------- report


def report_metrics(scene: Scene) -> Trial:
    plan = scene.plan

    def evaluate(_):
        criteria_evaluate(plan, plan_metrics(plan))

    return scene.run("report_metrics", evaluate, repeats=scene.settings.slow_repeats, memory=True)


def report_pdf(scene: Scene) -> Trial:
    plan, s = scene.plan, scene.settings
    metrics = plan_metrics(plan)
    criteria = criteria_evaluate(plan, metrics)
    draft = AcceptanceReport(plan=plan, fingerprint="bench")

    def pdf(_):
        report_pdf_render(
            html=report_render(report=draft, metrics=metrics, criteria=criteria), report=draft
        )

    return scene.run(
        "report_pdf", pdf, warmup=min(1, s.warmup), repeats=max(1, s.slow_repeats // 2)
    )


def ready_report(scene: Scene) -> None:
    """A built report of the plan, so the gate and the dashboard do their full work."""
    report, _ = report_request(plan=scene.plan, actor=scene.lead)
    report_build(report_id=report.pk)


# ---------------------------------------------------------------------------- assignment


def assign_cases(scene: Scene) -> Trial:
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

    return scene.run("assign_cases", run, prepare=new_cohort, warmup=1)


# Pages first, while the report is fresh; then writes; assignment adds executions, so
# it runs last.
OPERATIONS = [
    inbox,
    execution_page,
    dashboard,
    gate_api,
    executions_api,
    defects_api,
    step_record,
    execution_record,
    defect_report,
    report_metrics,
    report_pdf,
    assign_cases,
]


def measure_all(products: dict[int, Product], settings: Settings) -> Iterator[Result]:
    """Each operation at every size, the sizes taking turns run by run (see
    ``measure``): a machine whose speed drifts during the run (a shared CPU) then
    shows the drift in every size alike rather than as growth between them."""
    scenes = [Scene(product, size, settings) for size, product in sorted(products.items())]
    for scene in scenes:
        ready_report(scene)
    for operation in OPERATIONS:
        yield from measure(*(operation(scene) for scene in scenes))
