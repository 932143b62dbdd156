"""Large data sets for the benchmark, built with bulk inserts.

Going through the services row by row would take hours at this size, so the builder writes
rows directly; it still keeps every rule the database and the services hold: one latest
execution per (plan, case), a finish time on every finished execution, a case version
whose number is the case's version, retests by the original tester, testers in cohorts of
the plan's kind, and defect statuses that match their retests. It writes no audit events.
"""

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Role, User
from uat.models import (
    Case,
    CaseStep,
    CaseVersion,
    Cohort,
    CohortMembership,
    Defect,
    DefectStatus,
    Environment,
    Execution,
    ExecutionStatus,
    Plan,
    PlanSignoffRole,
    Priority,
    Product,
    Release,
    Requirement,
    Severity,
    SignoffRole,
    StepResult,
    StepStatus,
)
from uat.models.catalog import content_digest

ES, DS = ExecutionStatus, DefectStatus
BATCH = 5_000

PRIORITIES = {Priority.CRITICAL: 10, Priority.HIGH: 30, Priority.MEDIUM: 40, Priority.LOW: 20}
SEVERITIES = {Severity.CRITICAL: 5, Severity.MAJOR: 25, Severity.MINOR: 45, Severity.TRIVIAL: 25}
# The execution that counts for a case, and the ones before it. History is finished; its
# failures are what the next execution retests.
LATEST = {ES.PASSED: 70, ES.FAILED: 8, ES.BLOCKED: 4, ES.IN_PROGRESS: 6, ES.PENDING: 12}
HISTORY = {ES.PASSED: 45, ES.FAILED: 45, ES.BLOCKED: 10}
UNFINISHED = (ES.PENDING, ES.IN_PROGRESS)
# Where a defect stands when nobody has retested it yet.
UNRETESTED = {DS.NEW: 25, DS.CONFIRMED: 25, DS.IN_PROGRESS: 25, DS.DEFERRED: 10, DS.REJECTED: 15}
RESOLVED = (DS.VERIFIED, DS.CLOSED, DS.REJECTED)


@dataclass(frozen=True)
class ScaleSpec:
    cases: int = 5_000
    steps: int = 5
    requirements: int = 1_000
    plans: int = 2
    testers: int = 300
    cohorts: int = 4
    executions: int = 100_000
    defects: int = 5_000
    seed: int = 1

    def check(self) -> None:
        if min(self.cases, self.steps, self.plans, self.testers, self.cohorts) < 1:
            raise ValueError("Cases, steps, plans, testers and cohorts must be at least 1.")
        if min(self.requirements, self.executions, self.defects) < 0:
            raise ValueError("Counts cannot be negative.")
        if self.plans > 1 and self.cohorts < 2:
            raise ValueError("Alpha and beta plans need at least two cohorts, one of each kind.")
        if self.testers < self.cohorts:
            raise ValueError("Every cohort needs at least one tester.")


@dataclass
class _Failure:
    """A failed execution a defect can point at, and how its retest went, if it had one."""

    execution_id: int
    release_id: int
    tester_id: int
    step: int
    retest: str | None = None


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


@transaction.atomic
def build_scale(spec: ScaleSpec, *, progress: Callable[[str], None] = lambda text: None) -> Product:
    """Build a separate product ``bench-<n>`` with ``spec``'s counts, in one transaction."""
    spec.check()
    return _Builder(spec, progress).build()


class _Builder:
    def __init__(self, spec: ScaleSpec, progress: Callable[[str], None]):
        self.spec = spec
        self.progress = progress
        self.rng = random.Random(spec.seed)  # noqa: S311 - repeatable data, not secrets
        self.now = timezone.now()

    def build(self) -> Product:
        number = 1
        while Product.objects.filter(slug=f"bench-{number}").exists():
            number += 1
        self.tag = f"bench-{number}"
        self.product = Product.objects.create(
            name=f"Bench {number}", slug=self.tag, description="Benchmark data set."
        )
        self.environment = Environment.objects.create(
            product=self.product, name="UAT", build=f"{self.tag}-rc.1"
        )
        self._people()
        self._library()
        self._plans()
        failures = self._executions()
        self._defects(failures)
        return self.product

    def _people(self) -> None:
        spec, tag = self.spec, self.tag
        password = make_password(settings.DEMO_PASSWORD)
        kinds = [Cohort.Kind.ALPHA] if spec.plans == 1 else [Cohort.Kind.ALPHA, Cohort.Kind.BETA]
        self.cohorts = Cohort.objects.bulk_create(
            Cohort(product=self.product, name=f"Cohort {i + 1}", kind=kinds[i % len(kinds)])
            for i in range(spec.cohorts)
        )
        self.lead, self.owner = User.objects.bulk_create(
            [
                User(
                    email=f"lead@{tag}.example",
                    full_name="Bench Lead",
                    password=password,
                    is_staff=True,
                ),
                User(email=f"owner@{tag}.example", full_name="Bench Owner", password=password),
            ]
        )
        testers = User.objects.bulk_create(
            (
                User(
                    email=f"tester{i + 1:05d}@{tag}.example",
                    full_name=f"Bench Tester {i + 1}",
                    password=password,
                    is_external=self.cohorts[i % spec.cohorts].kind == Cohort.Kind.BETA,
                )
                for i in range(spec.testers)
            ),
            batch_size=BATCH,
        )
        groups = {group.name: group for group in Group.objects.all()}
        roles = [(self.lead, Role.QA_LEAD), (self.owner, Role.STAKEHOLDER)]
        roles += [(tester, Role.TESTER) for tester in testers]
        User.groups.through.objects.bulk_create(
            User.groups.through(user_id=user.pk, group_id=groups[role.value].pk)
            for user, role in roles
        )
        CohortMembership.objects.bulk_create(
            (
                CohortMembership(cohort=self.cohorts[i % spec.cohorts], user=tester)
                for i, tester in enumerate(testers)
            ),
            batch_size=BATCH,
        )
        # (tester id, cohort id) of each cohort kind, in a fixed order.
        self.testers = {kind: [] for kind in Cohort.Kind.values}
        for i, tester in enumerate(testers):
            cohort = self.cohorts[i % spec.cohorts]
            self.testers[cohort.kind].append((tester.pk, cohort.pk))

    def _library(self) -> None:
        spec, rng = self.spec, self.rng
        requirements = Requirement.objects.bulk_create(
            (
                Requirement(
                    product=self.product,
                    key=f"B-R{i + 1:05d}",
                    title=f"Requirement {i + 1}",
                    criticality=_pick(rng, PRIORITIES),
                )
                for i in range(spec.requirements)
            ),
            batch_size=BATCH,
        )
        cases = Case.objects.bulk_create(
            (
                Case(
                    product=self.product,
                    key=f"B-C{i + 1:05d}",
                    title=f"Case {i + 1}",
                    objective="Check that the feature works as specified.",
                    priority=_pick(rng, PRIORITIES),
                    status=Case.Status.READY,
                    version=1,
                )
                for i in range(spec.cases)
            ),
            batch_size=BATCH,
        )
        self.progress(f"{len(requirements)} requirements, {len(cases)} cases")
        self._steps_and_versions(cases)
        if requirements:
            self._coverage(cases, requirements)
        self.cases = cases

    def _steps_and_versions(self, cases: list[Case]) -> None:
        steps = [
            (f"Do step {n} of the procedure", f"Step {n} gives the specified result")
            for n in range(1, self.spec.steps + 1)
        ]
        CaseStep.objects.bulk_create(
            (
                CaseStep(case=case, position=n, action=action, expected=expected)
                for case in cases
                for n, (action, expected) in enumerate(steps, start=1)
            ),
            batch_size=BATCH,
        )
        versions = []
        for case in cases:
            content = case.content([CaseStep(action=a, expected=e) for a, e in steps])
            versions.append(
                CaseVersion(
                    case=case, number=1, digest=content_digest(content), created_by=self.lead
                )
            )
            for field, value in content.items():
                setattr(versions[-1], field, value)
        self.versions = {
            version.case_id: version.pk
            for version in CaseVersion.objects.bulk_create(versions, batch_size=BATCH)
        }

    def _coverage(self, cases: list[Case], requirements: list[Requirement]) -> None:
        """Each case covers one or two requirements; every requirement is covered once
        there are at least as many cases."""
        through = Case.requirements.through
        rows = []
        for i, case in enumerate(cases):
            covered = {requirements[i % len(requirements)].pk}
            if self.rng.random() < 0.3:
                covered.add(self.rng.choice(requirements).pk)
            rows += [through(case_id=case.pk, requirement_id=pk) for pk in covered]
        through.objects.bulk_create(rows, batch_size=BATCH)

    def _plans(self) -> None:
        spec = self.spec
        releases = Release.objects.bulk_create(
            Release(
                product=self.product,
                version=f"{i + 1}.0",
                stage=Release.Stage.BETA if spec.plans > 1 else Release.Stage.ALPHA,
            )
            for i in range((spec.plans + 1) // 2)
        )
        stages = [Plan.Stage.ALPHA, Plan.Stage.BETA]
        self.plans = Plan.objects.bulk_create(
            Plan(
                release=releases[i // 2],
                stage=stages[i % 2],
                name=f"{self.product} {releases[i // 2].version} {stages[i % 2]}",
                status=Plan.Status.IN_EXECUTION,
                owner=self.lead,
                environment=self.environment,
                starts_on=self.now.date() - dt.timedelta(days=60),
                ends_on=self.now.date() + dt.timedelta(days=14),
            )
            for i in range(spec.plans)
        )
        Plan.cases.through.objects.bulk_create(
            (
                Plan.cases.through(plan_id=plan.pk, case_id=case.pk)
                for plan in self.plans
                for case in self.cases
            ),
            batch_size=BATCH,
        )
        Plan.cohorts.through.objects.bulk_create(
            Plan.cohorts.through(plan_id=plan.pk, cohort_id=cohort.pk)
            for plan in self.plans
            for cohort in self.cohorts
            if cohort.kind == plan.stage
        )
        Plan.stakeholders.through.objects.bulk_create(
            Plan.stakeholders.through(plan_id=plan.pk, user_id=self.owner.pk) for plan in self.plans
        )
        for plan in self.plans:
            for role, signer in (
                (SignoffRole.BUSINESS_OWNER, self.owner),
                (SignoffRole.QA_LEAD, self.lead),
            ):
                PlanSignoffRole.objects.create(plan=plan, role=role).signers.add(signer)

    # ------------------------------------------------------------------ executions

    def _executions(self) -> list[_Failure]:
        """Spread the executions evenly over every (plan, case): each pair gets a history
        of finished runs ending in the one that counts; a run after a failure is its
        retest by the same tester. Ids are assigned here so a retest can point at the
        run it retests within the same batch."""
        spec = self.spec
        pairs = spec.plans * spec.cases
        base, extra = divmod(spec.executions, pairs)
        self.next_id = (Execution.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        self.flushed = 0
        self.failures: list[_Failure] = []
        executions, results = [], []
        for pair in range(min(pairs, spec.executions)):
            case_index, plan_index = divmod(pair, spec.plans)
            count = base + (1 if pair < extra else 0)
            runs = self._pair(self.plans[plan_index], self.cases[case_index], count)
            for execution, step_results in runs:
                executions.append(execution)
                results += step_results
            if len(executions) >= BATCH:
                self._flush(executions, results)
                executions, results = [], []
        self._flush(executions, results)
        self._reset_sequence()
        return self.failures

    def _pair(self, plan: Plan, case: Case, count: int) -> list[tuple[Execution, list]]:
        rng = self.rng
        testers = self.testers[plan.stage]
        turn = rng.randrange(len(testers))
        when = self.now - dt.timedelta(days=60) + dt.timedelta(minutes=rng.randrange(43_200))
        runs, previous, failure = [], None, None
        for n in range(count):
            last = n == count - 1
            retest_of = previous if previous and previous.status == ES.FAILED else None
            if retest_of is None:
                tester_id, cohort_id = testers[turn % len(testers)]
                turn += 1
            status = _pick(rng, LATEST if last else HISTORY)
            if status in UNFINISHED and n and retest_of is None:
                # Only a retest may wait in front of recorded results.
                status = ES.PASSED
            when += dt.timedelta(hours=rng.randint(1, 48))
            execution, step = self._execution(
                plan, case, tester_id, cohort_id, status, last, retest_of, when
            )
            if failure is not None and retest_of is not None:
                failure.retest = status
            failure = None
            if status == ES.FAILED:
                failure = _Failure(execution.pk, plan.release_id, tester_id, step)
                self.failures.append(failure)
            runs.append((execution, self._step_results(execution, step)))
            previous = execution
        return runs

    def _execution(self, plan, case, tester_id, cohort_id, status, latest, retest_of, when):
        spent = self.rng.randint(2, 30) * 60
        started = None if status == ES.PENDING else when - dt.timedelta(seconds=spent)
        finished = when if status not in UNFINISHED else None
        steps = self.spec.steps
        if status in (ES.FAILED, ES.BLOCKED):
            step = self.rng.randint(1, steps)
        elif status == ES.IN_PROGRESS:
            step = self.rng.randint(1, max(1, steps - 1))
        else:
            step = steps if status == ES.PASSED else 0
        execution = Execution(
            id=self.next_id,
            uuid=uuid.uuid4(),
            plan_id=plan.pk,
            case_id=case.pk,
            case_version_id=self.versions[case.pk],
            tester_id=tester_id,
            cohort_id=cohort_id,
            environment_id=self.environment.pk,
            build=self.environment.build,
            status=status,
            is_latest=latest,
            retest_of_id=retest_of.pk if retest_of else None,
            assigned_by_id=self.lead.pk,
            started_at=started,
            finished_at=finished,
            time_spent_seconds=spent if finished else 0,
            lock_version=step + (1 if finished else 0),
        )
        self.next_id += 1
        return execution, step

    def _step_results(self, execution: Execution, step: int) -> list[StepResult]:
        """Steps before ``step`` passed; ``step`` itself failed, was blocked or passed."""
        last = {ES.FAILED: StepStatus.FAILED, ES.BLOCKED: StepStatus.BLOCKED}
        results = [
            StepResult(execution_id=execution.pk, position=n, status=StepStatus.PASSED)
            for n in range(1, step + 1)
        ]
        if execution.status in last:
            results[-1].status = last[execution.status]
            results[-1].actual_result = "The result differed from the expected one."
        return results

    def _flush(self, executions: list[Execution], results: list[StepResult]) -> None:
        Execution.objects.bulk_create(executions, batch_size=1_000)
        StepResult.objects.bulk_create(results, batch_size=2_000)
        self.flushed += len(executions)
        self.progress(f"executions {self.flushed:,}/{self.spec.executions:,}")

    def _reset_sequence(self) -> None:
        # Ids were given explicitly; databases with sequences must continue after them.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Execution]):
                cursor.execute(sql)

    # ------------------------------------------------------------------ defects

    def _defects(self, failures: list[_Failure]) -> None:
        """Each defect points at a failed execution; its status follows the retest."""
        rng, count = self.rng, self.spec.defects
        if not count:
            return
        rng.shuffle(failures)
        defects, links = [], []
        for n in range(count):
            failure = failures[n % len(failures)] if failures else None
            status = self._defect_status(failure)
            key = f"BENCH-{n + 1}" if n % 3 == 0 else ""
            defects.append(
                Defect(
                    release_id=failure.release_id if failure else self.plans[0].release_id,
                    title=f"Defect {n + 1} found in the benchmark",
                    severity=_pick(rng, SEVERITIES),
                    status=status,
                    step_position=failure.step if failure else None,
                    environment=self.environment,
                    build=self.environment.build,
                    reported_by_id=failure.tester_id if failure else self.lead.pk,
                    external_key=key,
                    external_url=f"https://tracker.example/{key}" if key else "",
                    resolved_at=self.now if status in RESOLVED else None,
                )
            )
            links.append(failure.execution_id if failure else None)
        created = Defect.objects.bulk_create(defects, batch_size=BATCH)
        Defect.executions.through.objects.bulk_create(
            (
                Defect.executions.through(defect_id=defect.pk, execution_id=execution_id)
                for defect, execution_id in zip(created, links, strict=True)
                if execution_id
            ),
            batch_size=BATCH,
        )
        self.progress(f"defects {len(created):,}")

    def _defect_status(self, failure: _Failure | None) -> str:
        retest = failure.retest if failure else None
        if retest == ES.PASSED:
            return self.rng.choice([DS.VERIFIED, DS.CLOSED])
        if retest in UNFINISHED:
            return DS.FIXED
        if retest is not None:
            return DS.IN_PROGRESS
        return _pick(self.rng, UNRETESTED)
