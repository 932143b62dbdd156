"""The database keeps each plan's execution change counter itself, whoever writes."""

import pytest
from django.db import connection, transaction

from reports.fingerprint import plan_fingerprint
from tests.factories import ExecutionFactory, PlanFactory
from uat.models import Execution, ExecutionStatus, ExecutionTally

pytestmark = pytest.mark.django_db


def tally(plan) -> int:
    row = ExecutionTally.objects.filter(plan_id=plan.pk).first()
    return row.changes if row else 0


@pytest.fixture
def execution():
    return ExecutionFactory()


def test_a_new_execution_moves_its_plans_counter(execution):
    plan = execution.plan
    before = tally(plan)
    ExecutionFactory(plan=plan, case=execution.case, is_latest=False)
    assert tally(plan) == before + 1


def test_saves_queryset_updates_and_raw_sql_all_move_it(execution):
    plan = execution.plan
    before = tally(plan)
    execution.notes = "Looked fine."
    execution.save()
    Execution.objects.filter(pk=execution.pk).update(status=ExecutionStatus.IN_PROGRESS)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE uat_execution SET notes = 'raw' WHERE id = %s", [execution.pk])
    assert tally(plan) == before + 3


def test_a_deleted_execution_moves_it(execution):
    plan = execution.plan
    before = tally(plan)
    execution.delete()
    assert tally(plan) == before + 1


def test_moving_an_execution_to_another_plan_moves_both(execution):
    old, new = execution.plan, PlanFactory()
    before_old, before_new = tally(old), tally(new)
    Execution.objects.filter(pk=execution.pk).update(plan=new)
    assert (tally(old), tally(new)) == (before_old + 1, before_new + 1)


def test_other_plans_keep_their_counters(execution):
    other = ExecutionFactory()
    before = tally(other.plan)
    Execution.objects.filter(pk=execution.pk).update(notes="Only this plan.")
    assert tally(other.plan) == before


def test_a_rolled_back_change_leaves_it_as_it_was(execution):
    before = tally(execution.plan)
    with pytest.raises(RuntimeError), transaction.atomic():
        Execution.objects.filter(pk=execution.pk).update(notes="Undone.")
        raise RuntimeError
    assert tally(execution.plan) == before


def test_a_change_no_service_made_still_makes_reports_stale(execution):
    # The fingerprint reads the counter, so even raw SQL cannot slip past it.
    before = plan_fingerprint(execution.plan)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE uat_execution SET notes = 'raw' WHERE id = %s", [execution.pk])
    assert plan_fingerprint(execution.plan) != before
