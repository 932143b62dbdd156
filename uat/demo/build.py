"""Building the Acme CRM demo.

The library, plans and cohorts are plain rows, as a QA lead would enter them in the admin;
every version, assignment, step result, execution result, defect and defect transition goes
through ``uat.services``, so the data obey the same rules and leave the same audit trail
as real use. A seeded ``random.Random`` makes every run produce the same data.
"""

import datetime as dt
import random
from collections import Counter

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from reports.services import report_build, report_request
from reports.signoffs import signoff_sign
from uat.models import (
    Case,
    CaseStep,
    Cohort,
    CohortMembership,
    Defect,
    Environment,
    Execution,
    ExecutionStatus,
    Plan,
    Product,
    Release,
    Requirement,
    SignOffDecision,
    SignoffRole,
    StepStatus,
)
from uat.services import (
    case_version_record,
    defect_report,
    defect_report_escaped,
    defect_transition,
    execution_record,
    execution_step_record,
    plan_assign,
    signoff_role_configure,
    waiver_grant,
)

from . import people, script
from .library import CASE_EDITS, CASES, REQUIREMENTS

DEMO_SLUG = "acme-crm"
SPECS = {spec.key: spec for spec in CASES}
SEED = 2024
ES = ExecutionStatus

# Builds deployed to UAT during release 2.4: alpha ran on the first, its fixes came in the
# second, and the beta runs on the third.
ALPHA_BUILD, FIX_BUILD, BETA_BUILD = "2.4.0-rc.1", "2.4.0-rc.2", "2.4.0-rc.3"
# The beta's fixes are in the next candidate, not yet deployed: the lead names it.
BETA_FIX_BUILD = "2.4.0-rc.4"

# How the beta testers' runs stand, where the script says nothing: most have passed, some
# are under way, some not started.
BETA_PROGRESS = {ES.PASSED: 55, ES.IN_PROGRESS: 15, ES.PENDING: 30}
# The states the demo logins' own assignments start with, so each of them sees work in
# several states whatever the dice say.
SHOWCASE = {people.BETA: [ES.IN_PROGRESS, ES.PENDING, ES.PASSED]}

TRANSITION_NOTES = {
    script.S.CONFIRMED: "Reproduced by the QA lead.",
    script.S.IN_PROGRESS: "Picked up by the development team.",
    script.S.VERIFIED: "The retest passed.",
    script.S.CLOSED: "Closed after verification.",
}


def demo_exists() -> bool:
    return Product.objects.filter(slug=DEMO_SLUG).exists()


@transaction.atomic
def build_demo(*, seed: int = SEED) -> Product:
    """Build the Acme CRM demo in an empty database (or one without the demo)."""
    demo = _Demo(random.Random(seed))  # noqa: S311 - repeatable demo data, not secrets
    demo.build()
    return demo.product


class _Demo:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.today = timezone.localdate()

    def build(self) -> None:
        self.users = _users()
        self.lead = self.users[people.LEAD]
        self.product = Product.objects.create(
            name="Acme CRM",
            slug=DEMO_SLUG,
            description="Acme's customer relationship management system, used by its "
            "sales representatives and customer-service agents, and sold to its customers.",
        )
        self._previous_release()
        self.release = Release.objects.create(
            product=self.product,
            version="2.4",
            name="Pipeline and service update",
            stage=Release.Stage.BETA,
            target_date=self.today + dt.timedelta(days=21),
        )
        self.environment = Environment.objects.create(
            product=self.product,
            name="UAT",
            url="https://uat.acme-crm.example",
            build=ALPHA_BUILD,
            notes=ENVIRONMENT_NOTES,
        )
        self.cases = self._library()
        alpha_cohort, beta_cohort = self._cohorts()
        ready = [case for case in self.cases.values() if case.status == Case.Status.READY]
        later = self._alpha_round(alpha_cohort, ready)
        self._edit_cases()
        self._deploy(BETA_BUILD)
        self._beta_round(beta_cohort, ready)
        for defect, path in later:
            self._walk(defect, path)
        self._acceptance()

    # ------------------------------------------------------------------ the library

    def _previous_release(self) -> None:
        """Release 2.3, in production, with the defects that escaped its UAT."""
        release = Release.objects.create(
            product=self.product,
            version="2.3",
            name="Spring release",
            stage=Release.Stage.PRODUCTION,
            target_date=self.today - dt.timedelta(days=120),
            released_at=timezone.now() - dt.timedelta(days=118),
        )
        for spec in script.ESCAPED_DEFECTS:
            reporter = self.users[spec.reporter]
            defect = defect_report_escaped(
                release=release,
                actor=reporter,
                title=spec.title,
                severity=spec.severity,
                steps_to_reproduce=spec.steps_to_reproduce,
                build="2.3.2",
                external_key=spec.external_key,
                external_url=script.tracker_url(spec.external_key),
            )
            self._walk(defect, spec.path, spec.note, fixed_in="2.3.3")

    def _library(self) -> dict[str, Case]:
        requirements = {
            requirement.key: requirement
            for requirement in Requirement.objects.bulk_create(
                Requirement(
                    product=self.product,
                    key=spec.key,
                    title=spec.title,
                    acceptance_text=spec.acceptance,
                    criticality=spec.criticality,
                )
                for spec in REQUIREMENTS
            )
        }
        cases = {}
        for spec in CASES:
            case = Case.objects.create(
                product=self.product,
                key=spec.key,
                title=spec.title,
                objective=spec.objective,
                preconditions=spec.preconditions,
                priority=spec.priority,
                status=spec.status,
            )
            CaseStep.objects.bulk_create(
                CaseStep(case=case, position=n, action=action, expected=expected)
                for n, (action, expected) in enumerate(spec.steps, start=1)
            )
            case.requirements.set([requirements[key] for key in spec.requirements])
            case_version_record(case=case, actor=self.lead)
            cases[spec.key] = case
        return cases

    def _edit_cases(self) -> None:
        """The QA lead's corrections after the alpha round: each makes a new version."""
        for key, steps in CASE_EDITS.items():
            case = self.cases[key]
            for position, (action, expected) in steps.items():
                case.steps.filter(position=position).update(action=action, expected=expected)
            case_version_record(case=case, actor=self.lead)

    def _cohorts(self) -> tuple[Cohort, Cohort]:
        alpha = Cohort.objects.create(
            product=self.product,
            name="Sales & Support (internal)",
            kind=Cohort.Kind.ALPHA,
            description="Acme sales representatives and customer-service agents.",
        )
        beta = Cohort.objects.create(
            product=self.product,
            name="Customer pilot (external)",
            kind=Cohort.Kind.BETA,
            description="Users at three customers who run 2.4 on their own data.",
        )
        members = [(alpha, people.ALPHA), *[(alpha, p.email) for p in people.INTERNAL_TESTERS]]
        members += [(beta, people.BETA), *[(beta, p.email) for p in people.EXTERNAL_TESTERS]]
        CohortMembership.objects.bulk_create(
            CohortMembership(cohort=cohort, user=self.users[email]) for cohort, email in members
        )
        return alpha, beta

    # ------------------------------------------------------------------ acceptance

    def _acceptance(self) -> None:
        """The acceptance reports as the data now stand, built by the report service
        (in-process, as a worker would). The alpha's is signed by both named signers, so
        the gate to beta says go; the beta's fails its criteria while the beta is under
        way, so the gate to production says no-go. (Release 2.3 predates Greenlight and
        has no report: its gate says inconclusive.)"""
        owner = self.users[people.OWNER]
        for plan in self.release.plans.order_by("stage"):
            report, _ = report_request(plan=plan, actor=self.lead)
            report = report_build(report_id=report.pk)
            if plan.stage != Plan.Stage.ALPHA:
                continue
            for role, signer in (
                (SignoffRole.BUSINESS_OWNER, owner),
                (SignoffRole.QA_LEAD, self.lead),
            ):
                signoff_sign(
                    report=report,
                    signer=signer,
                    role=role,
                    decision=SignOffDecision.APPROVE,
                    password=settings.DEMO_PASSWORD,
                    comment="Alpha exit criteria met; ready for the customer pilot.",
                )

    def _plan(self, stage: str, cohort: Cohort, cases: list[Case], **fields) -> Plan:
        plan = Plan.objects.create(
            release=self.release,
            stage=stage,
            owner=self.lead,
            environment=self.environment,
            status=Plan.Status.IN_EXECUTION,
            **fields,
        )
        plan.cases.set(cases)
        plan.cohorts.add(cohort)
        plan.stakeholders.add(self.users[people.OWNER])
        # The administrator names the signers, as the rules ask (not the QA lead, who
        # signs one of them).
        for role, signer in (
            (SignoffRole.BUSINESS_OWNER, people.OWNER),
            (SignoffRole.QA_LEAD, people.LEAD),
        ):
            signoff_role_configure(
                plan=plan, role=role, signers=[self.users[signer]], actor=self.users[people.ADMIN]
            )
        return plan

    def _deploy(self, build: str) -> None:
        self.environment.build = build
        self.environment.save(update_fields=["build"])

    # ------------------------------------------------------------------ the rounds

    def _alpha_round(self, cohort: Cohort, cases: list[Case]) -> list[tuple[Defect, tuple]]:
        """Acme's staff run every ready case once; fixes arrive in the next build, and the
        plan is completed. Returns the defects whose fix comes during the beta."""
        plan = self._plan(
            Plan.Stage.ALPHA,
            cohort,
            cases,
            name="Acme CRM 2.4 alpha",
            objectives="Sales reps and support agents confirm that 2.4 supports their daily "
            "work before any customer sees it.",
            scope_notes="Every ready case of the library. Out of scope: the mobile app and "
            "the marketing module, which have their own release.",
            starts_on=self.today - dt.timedelta(days=35),
            ends_on=self.today - dt.timedelta(days=21),
            # The alpha's exit criteria, looser than the beta's: internal staff may leave
            # a few cases failed on known, triaged defects (deferred or rejected), and
            # the beta proves every requirement with customers.
            min_pass_rate=90,
            require_requirement_coverage=False,
        )
        executions = plan_assign(plan=plan, cohort=cohort, actor=self.lead)
        reported = self._run(
            executions, script.ALPHA_DEFECTS, script.ALPHA_BLOCKED, progress={ES.PASSED: 1}
        )
        self._deploy(FIX_BUILD)
        for defect, spec in reported:
            self._walk(defect, spec.path, spec.note)
            if spec.waiver:
                self._waive(defect, spec.waiver)
        plan.status = Plan.Status.COMPLETED
        plan.save(update_fields=["status", "updated_at"])
        return [(defect, spec.later) for defect, spec in reported if spec.later]

    def _beta_round(self, cohort: Cohort, ready: list[Case]) -> None:
        """Customer users run the customer-facing cases: two testers on each critical
        case, one on the others. The plan is in execution."""
        # Role administration needs several internal accounts; the alpha covered it.
        cases = [case for case in ready if "CRM-R10" not in SPECS[case.key].requirements]
        plan = self._plan(
            Plan.Stage.BETA,
            cohort,
            cases,
            name="Acme CRM 2.4 beta",
            objectives="Customers confirm on realistic data that 2.4 fits their sales and "
            "service processes, and that nothing they rely on has changed.",
            scope_notes="Every ready case except role administration, which needs several "
            "internal accounts and was accepted in the alpha.",
            starts_on=self.today - dt.timedelta(days=14),
            ends_on=self.today + dt.timedelta(days=7),
        )
        critical = [case for case in cases if case.is_critical]
        others = [case for case in cases if not case.is_critical]
        executions = plan_assign(
            plan=plan, cohort=cohort, actor=self.lead, cases=critical, testers_per_case=2
        )
        executions += plan_assign(plan=plan, cohort=cohort, actor=self.lead, cases=others)
        reported = self._run(
            executions,
            script.BETA_DEFECTS,
            script.BETA_BLOCKED,
            progress=BETA_PROGRESS,
            showcase={email: list(states) for email, states in SHOWCASE.items()},
        )
        for defect, spec in reported:
            self._walk(defect, spec.path, spec.note, fixed_in=BETA_FIX_BUILD)
            if spec.waiver:
                self._waive(defect, spec.waiver)

    def _run(
        self, executions, defects, blocked, *, progress, showcase=None
    ) -> list[tuple[Defect, script.DefectSpec]]:
        """Run a round. The first execution of each scripted case fails or is blocked as
        scripted, after all the others, so its result is the one that counts; the others
        end as ``progress`` weighs the states, or as ``showcase`` lists for a tester."""
        showcase = showcase or {}
        defects = {spec.case: spec for spec in defects}
        blocked = {spec.case: spec for spec in blocked}
        scripted, seen = [], set()
        for execution in executions:
            key = execution.case.key
            if key not in seen and (key in defects or key in blocked):
                scripted.append(execution)
            elif showcase.get(execution.tester.email):
                self._record(execution, showcase[execution.tester.email].pop(0))
            else:
                states, weights = list(progress), list(progress.values())
                self._record(execution, self.rng.choices(states, weights)[0])
            seen.add(key)
        reported = []
        for execution in scripted:
            key = execution.case.key
            if key in blocked:
                spec = blocked[key]
                self._record(execution, ES.BLOCKED, spec.step, spec.actual, spec.notes)
                continue
            spec = defects[key]
            self._record(execution, ES.FAILED, spec.step, spec.actual, "Defect reported.")
            defect = defect_report(
                execution=execution,
                actor=execution.tester,
                title=spec.title,
                severity=spec.severity,
                steps_to_reproduce=spec.steps_to_reproduce,
                step_position=spec.step,
                external_key=spec.external_key,
                external_url=script.tracker_url(spec.external_key),
            )
            reported.append((defect, spec))
        return reported

    def _record(self, execution, status, step=None, actual="", notes=None) -> None:
        """Play one execution through the tester's pages: steps in order, then the result."""
        if status == ES.PENDING:
            return
        count = len(execution.case_version.steps)
        if status == ES.IN_PROGRESS:
            done = self.rng.randint(1, count - 1)
        elif status == ES.PASSED:
            done = count
        else:
            done = step - 1
        for position in range(1, done + 1):
            execution_step_record(
                execution=execution,
                position=position,
                status=StepStatus.PASSED,
                actor=execution.tester,
            )
        if status == ES.IN_PROGRESS:
            return
        if status != ES.PASSED:
            execution_step_record(
                execution=execution,
                position=step,
                status=StepStatus.FAILED if status == ES.FAILED else StepStatus.BLOCKED,
                actual_result=actual,
                actor=execution.tester,
            )
        execution_record(
            execution=execution,
            actor=execution.tester,
            notes=notes,
            time_spent_seconds=self.rng.randint(4, 25) * 60,
        )

    def _waive(self, defect: Defect, reason: str) -> None:
        """The business owner accepts an open defect for the release until 2.4.1."""
        waiver_grant(
            defect=defect,
            actor=self.users[people.OWNER],
            reason=reason,
            expires_at=timezone.now() + dt.timedelta(days=60),
        )

    def _walk(self, defect: Defect, path: tuple[str, ...], note: str = "", fixed_in=None) -> None:
        """Take a defect along ``path``: the QA lead's transitions, and the retests. The
        last transition carries ``note``; a fix is in ``fixed_in``, or the build in UAT."""
        for position, status in enumerate(path, start=1):
            if status == script.RETEST_PASSES:
                retests = Execution.objects.filter(
                    retest_of__in=defect.executions.all(), status=ES.PENDING
                ).select_related("case", "case_version", "tester", "plan__release")
                for retest in retests:
                    self._record(retest, ES.PASSED)
                continue
            if position == len(path) and note:
                text = note
            elif status == script.S.FIXED:
                text = f"Fixed in build {fixed_in or self.environment.build}."
            else:
                text = TRANSITION_NOTES.get(status, "")
            build = (fixed_in or "") if status == script.S.FIXED else ""
            defect = defect_transition(
                defect=defect, status=status, actor=self.lead, note=text, fixed_in_build=build
            )


def _users() -> dict[str, User]:
    """The demo's people, with their roles. Hashing a password is slow on purpose, so
    every new user gets the same hash of the demo password; existing accounts are kept."""
    password = make_password(settings.DEMO_PASSWORD)
    groups = {group.name: group for group in Group.objects.all()}
    existing = {
        user.email: user
        for user in User.objects.filter(email__in=[person.email for person in people.EVERYONE])
    }
    users = {}
    for person in people.EVERYONE:
        user = existing.get(person.email)
        if user is None:
            user = User.objects.create(
                email=person.email,
                full_name=person.full_name,
                password=password,
                is_external=person.is_external,
                is_staff=person.is_staff,
                is_superuser=person.is_superuser,
            )
        user.groups.add(*[groups[role.value] for role in (person.role, *person.also)])
        users[person.email] = user
    return users


def demo_counts(product: Product) -> dict[str, Counter]:
    """What the demo holds, for the command's summary and the tests."""
    executions = Execution.objects.filter(plan__release__product=product)
    defects = Defect.objects.filter(release__product=product)
    return {
        "executions": Counter(executions.values_list("status", flat=True)),
        "retests": Counter(
            executions.filter(retest_of__isnull=False).values_list("status", flat=True)
        ),
        "defect severities": Counter(defects.values_list("severity", flat=True)),
        "defect statuses": Counter(defects.values_list("status", flat=True)),
    }


ENVIRONMENT_NOTES = (
    "Mirrors production: the same application and worker servers, the same SSO and role "
    "configuration, and a PostgreSQL database restored every night from an anonymised "
    "copy of production. Differences: outbound email goes to the UAT mail catcher instead "
    "of customers; telephony and payment integrations use their vendors' sandboxes; the "
    "UAT test tools can shift the clock and backdate records."
)
