"""The database keeps each plan's execution change counter itself, whoever writes."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from reports.fingerprint import plan_fingerprint
from tests.factories import (
    CaseFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    ReleaseFactory,
    RequirementFactory,
    UserFactory,
)
from uat import services
from uat.models import (
    FINAL_STATUSES,
    Case,
    Defect,
    DefectTally,
    Execution,
    ExecutionHourTally,
    ExecutionStatus,
    ExecutionTally,
    ExecutionTesterTally,
    ScopeTally,
)
from uat.tallies import tallies_check

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


# The dashboard's tallies: whatever happens to executions, they agree with counting the
# executions themselves.


def counted_by_tester(plan) -> dict:
    rows = (
        Execution.objects.filter(plan=plan)
        .values("tester_id", "cohort_id", "status")
        .annotate(n=Count("id"))
    )
    return {(r["tester_id"], r["cohort_id"], r["status"]): r["n"] for r in rows}


def tallied_by_tester(plan) -> dict:
    rows = ExecutionTesterTally.objects.filter(plan_id=plan.pk, runs__gt=0)
    return {(r.tester_id, r.cohort_id, r.status): r.runs for r in rows}


def counted_by_day(plan) -> dict:
    rows = (
        Execution.objects.filter(plan=plan, status__in=FINAL_STATUSES)
        .annotate(day=TruncDate("finished_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
    )
    return {(r["day"], r["status"]): r["n"] for r in rows}


def tallied_by_day(plan) -> dict:
    rows = (
        ExecutionHourTally.objects.filter(plan_id=plan.pk, results__gt=0)
        .annotate(day=TruncDate("hour"))
        .values("day", "status")
        .annotate(n=Sum("results"))
    )
    return {(r["day"], r["status"]): r["n"] for r in rows}


def assert_tallies_agree(*plans):
    for plan in plans:
        assert tallied_by_tester(plan) == counted_by_tester(plan)
        assert tallied_by_day(plan) == counted_by_day(plan)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_the_dashboard_tallies_follow_every_kind_of_write(settings, zone):
    settings.TIME_ZONE = zone
    first = ExecutionFactory()
    plan, other = first.plan, PlanFactory()
    late = timezone.now().replace(hour=23, minute=30)
    runs = [
        ExecutionFactory(plan=plan, case=first.case, is_latest=False, passed=True),
        ExecutionFactory(plan=plan, case=first.case, is_latest=False, failed=True),
        ExecutionFactory(plan=plan, is_latest=True),
    ]
    assert len(counted_by_day(plan)) == 2 and len(counted_by_tester(plan)) == 4
    assert_tallies_agree(plan)
    Execution.objects.filter(pk=runs[2].pk).update(status=ExecutionStatus.BLOCKED, finished_at=late)
    Execution.objects.filter(pk=runs[0].pk).update(finished_at=late - dt.timedelta(days=2))
    Execution.objects.filter(pk=runs[1].pk).update(tester=UserFactory())
    Execution.objects.filter(pk=first.pk).update(notes="Only the notes: no tally moves.")
    assert_tallies_agree(plan)
    Execution.objects.filter(pk=runs[1].pk).update(plan=other)
    runs[0].delete()
    assert_tallies_agree(plan, other)


def test_recording_through_the_services_keeps_the_tallies(lead, tester):
    execution = ExecutionFactory(tester=tester)
    for position in range(1, len(execution.case_version.steps) + 1):
        services.execution_step_record(
            execution=execution, position=position, status="passed", actor=tester
        )
        execution.refresh_from_db()
    services.execution_record(execution=execution, actor=tester)
    assert_tallies_agree(execution.plan)


def scope_changes(plan) -> int:
    row = ScopeTally.objects.filter(plan_id=plan.pk).first()
    return row.changes if row else 0


def test_the_scope_counter_moves_with_every_scope_edit_and_nothing_else():
    plan, other = PlanFactory(), PlanFactory()
    case = CaseFactory(product=plan.release.product)
    requirement = RequirementFactory(product=plan.release.product)
    moves = [
        lambda: plan.cases.add(case),
        lambda: case.requirements.add(requirement),
        lambda: Case.requirements.through.objects.filter(case=case).update(
            requirement=RequirementFactory(product=plan.release.product)
        ),
        lambda: Case.objects.filter(pk=case.pk).update(version=F("version") + 1),
        lambda: case.requirements.clear(),
        lambda: plan.cases.remove(case),
    ]
    for move in moves:
        before, elsewhere = scope_changes(plan), scope_changes(other)
        move()
        assert scope_changes(plan) > before
        assert scope_changes(other) == elsewhere
    plan.cases.add(case)
    before = scope_changes(plan)
    Case.objects.filter(pk=case.pk).update(title="A new title is not a new version")
    assert scope_changes(plan) == before


def defect_changes(release) -> int:
    row = DefectTally.objects.filter(release_id=release.pk).first()
    return row.changes if row else 0


def test_the_defect_counter_moves_with_every_defect_and_link_write_and_nothing_else():
    execution = ExecutionFactory()
    release, other = execution.plan.release, ReleaseFactory()
    defect = DefectFactory(release=release)
    second = ExecutionFactory(plan=execution.plan)
    moves = [
        lambda: DefectFactory(release=release),
        lambda: defect.executions.add(execution),
        lambda: Defect.executions.through.objects.filter(defect=defect).update(execution=second),
        lambda: Defect.objects.filter(pk=defect.pk).update(title="Renamed"),
        lambda: raw("UPDATE uat_defect SET severity = 'minor' WHERE id = %s", defect.pk),
        lambda: defect.executions.clear(),
        lambda: Defect.objects.filter(release=release).exclude(pk=defect.pk).delete(),
    ]
    for move in moves:
        before, elsewhere = defect_changes(release), defect_changes(other)
        move()
        assert defect_changes(release) > before
        assert defect_changes(other) == elsewhere
    # A defect moved to another release moves both counters.
    before, elsewhere = defect_changes(release), defect_changes(other)
    Defect.objects.filter(pk=defect.pk).update(release=other)
    assert (defect_changes(release), defect_changes(other)) == (before + 1, elsewhere + 1)


def raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_tallies_command_finds_a_wrong_tally_and_rebuilds_it():
    execution = ExecutionFactory(passed=True)
    ExecutionFactory(plan=execution.plan)
    call_command("tallies", stdout=io.StringIO())  # they agree
    ExecutionTesterTally.objects.filter(plan_id=execution.plan_id).update(runs=F("runs") + 5)
    ExecutionHourTally.objects.filter(plan_id=execution.plan_id).delete()
    assert len(tallies_check()) == 3  # both runs' tester rows, the passed run's hour
    with pytest.raises(CommandError, match="3 tallies disagree"):
        call_command("tallies", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("tallies", "--rebuild", stdout=io.StringIO())
    assert tallies_check() == []
    assert_tallies_agree(execution.plan)
