"""The fingerprint moves with every input of a report, and with nothing else."""

import datetime as dt

import pytest
from django.utils import timezone

from reports.fingerprint import plan_fingerprint
from tests.factories import (
    CaseFactory,
    CohortFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    RequirementFactory,
    UserFactory,
    WaiverFactory,
)
from uat import services
from uat.models import Case, Defect

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(lead, tester):
    plan = PlanFactory(owner=lead)
    cases = CaseFactory.create_batch(2, product=plan.release.product)
    plan.cases.add(*cases)
    cohort = CohortFactory(product=plan.release.product, members=[tester])
    plan.cohorts.add(cohort)
    services.plan_assign(plan=plan, cohort=cohort, actor=lead)
    return plan


def changes(plan, change) -> bool:
    before = plan_fingerprint(plan)
    change()
    return plan_fingerprint(plan) != before


def test_is_stable_while_nothing_changes(plan):
    assert plan_fingerprint(plan) == plan_fingerprint(plan)
    assert len(plan_fingerprint(plan)) == 64


def test_a_recorded_step_changes_it(plan):
    execution = plan.executions.first()
    assert changes(
        plan,
        lambda: services.execution_step_record(
            execution=execution, position=1, status="passed", actor=execution.tester
        ),
    )


def test_a_defect_and_its_status_change_it(plan, lead):
    execution = plan.executions.first()
    defect = DefectFactory(release=plan.release)
    assert changes(plan, lambda: defect.executions.add(execution))
    assert changes(
        plan, lambda: services.defect_transition(defect=defect, status="confirmed", actor=lead)
    )


def test_every_kind_of_defect_write_changes_it(plan, lead):
    execution = plan.executions.first()
    defect = DefectFactory(release=plan.release)
    assert changes(plan, lambda: DefectFactory(release=plan.release))
    assert changes(plan, lambda: Defect.objects.filter(pk=defect.pk).update(title="Renamed"))
    assert changes(plan, lambda: defect.executions.add(execution))
    assert changes(plan, lambda: defect.executions.remove(execution))
    assert changes(plan, lambda: Defect.objects.filter(pk=defect.pk).delete())
    assert not changes(plan, lambda: DefectFactory())  # another release's defect


def test_criteria_scope_and_coverage_change_it(plan):
    def criteria():
        plan.min_pass_rate = 80
        plan.save()

    assert changes(plan, criteria)
    case = CaseFactory(product=plan.release.product)
    assert changes(plan, lambda: plan.cases.add(case))
    assert changes(plan, lambda: case.requirements.add(RequirementFactory()))
    assert changes(plan, lambda: PlanSignoffRoleFactory(plan=plan, signers=[UserFactory()]))


def test_a_waiver_changes_it_and_so_does_its_expiry(plan):
    defect = DefectFactory(release=plan.release, critical=True)
    waiver = WaiverFactory(defect=defect, expires_at=timezone.now() + dt.timedelta(days=1))
    now = timezone.now()
    later = now + dt.timedelta(days=2)
    assert plan_fingerprint(plan, at=now) != plan_fingerprint(plan, at=later)
    # Another defect's waiver: one defect holds one active waiver (the database says so).
    other = DefectFactory(release=plan.release, critical=True)
    assert changes(plan, lambda: WaiverFactory(defect=other, release=plan.release))
    assert waiver.is_active


def test_other_plans_do_not_change_it(plan):
    assert not changes(plan, lambda: ExecutionFactory(passed=True))


def test_costs_a_fixed_number_of_queries(plan, django_assert_num_queries):
    with django_assert_num_queries(3):
        plan_fingerprint(plan)
    plan.cases.add(*CaseFactory.create_batch(5, product=plan.release.product))
    with django_assert_num_queries(3):
        plan_fingerprint(plan)


def test_replacing_a_case_in_scope_changes_it(plan):
    """Scope enters as sums, not rows: a swap that keeps the count must still show."""
    dropped = plan.cases.order_by("pk").first()
    added = CaseFactory(product=plan.release.product)

    def swap():
        plan.cases.remove(dropped)
        plan.cases.add(added)

    assert changes(plan, swap)


def test_a_new_case_version_changes_it(plan):
    case = plan.cases.first()

    def edit():
        Case.objects.filter(pk=case.pk).update(version=case.version + 1)

    assert changes(plan, edit)


def test_moving_a_coverage_link_to_another_requirement_changes_it(plan):
    case = plan.cases.order_by("pk").first()
    first, second = RequirementFactory(), RequirementFactory()
    case.requirements.add(first)

    def move():
        case.requirements.remove(first)
        case.requirements.add(second)

    assert changes(plan, move)


def test_moving_a_coverage_link_to_another_case_changes_it(plan):
    one, other = plan.cases.order_by("pk")[:2]
    requirement = RequirementFactory()
    one.requirements.add(requirement)

    def move():
        one.requirements.remove(requirement)
        other.requirements.add(requirement)

    assert changes(plan, move)


def test_swapping_two_cases_for_two_with_the_same_id_sum_changes_it(plan):
    """The sum of squares tells {a, d} from {b, c} when a + d == b + c."""
    a, b, c, d = CaseFactory.create_batch(4, product=plan.release.product)
    assert (a.pk, b.pk, c.pk, d.pk) == tuple(range(a.pk, a.pk + 4))
    plan.cases.add(a, d)

    def swap():
        plan.cases.remove(a, d)
        plan.cases.add(b, c)

    assert changes(plan, swap)
