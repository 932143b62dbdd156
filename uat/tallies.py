"""The dashboard tallies the database keeps (``ExecutionTesterTally``,
``ExecutionHourTally``), checked against the executions themselves and rebuilt from them
when they disagree — after a data-only restore that replayed the executions through the
triggers, say. The change counters (``ExecutionTally``, ``ScopeTally``,
``DefectTally``) need no rebuild: any value works as long as every change moves it."""

import datetime as dt

from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncHour

from .models import (
    FINAL_STATUSES,
    Execution,
    ExecutionHourTally,
    ExecutionTesterTally,
)

TESTER_KEY = ("plan_id", "tester_id", "cohort_id", "status")


def _counted() -> tuple[dict, dict]:
    """What the tallies should hold, counted from the executions: two GROUP BYs."""
    testers = {
        tuple(row[key] for key in TESTER_KEY): row["n"]
        for row in Execution.objects.values(*TESTER_KEY).annotate(n=Count("id")).order_by()
    }
    hours = {
        (row["plan_id"], row["hour"], row["status"]): row["n"]
        for row in Execution.objects.filter(status__in=FINAL_STATUSES, finished_at__isnull=False)
        .annotate(hour=TruncHour("finished_at", tzinfo=dt.UTC))
        .values("plan_id", "hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    }
    return testers, hours


def _tallied() -> tuple[dict, dict]:
    testers = {
        tuple(row[key] for key in TESTER_KEY): row["runs"]
        for row in ExecutionTesterTally.objects.filter(runs__gt=0).values(*TESTER_KEY, "runs")
    }
    hours = {
        (row["plan_id"], row["hour"], row["status"]): row["results"]
        for row in ExecutionHourTally.objects.filter(results__gt=0).values(
            "plan_id", "hour", "status", "results"
        )
    }
    return testers, hours


def tallies_check() -> list[str]:
    """The tallies that disagree with the executions, described; empty when all agree."""
    problems = []
    for name, counted, tallied in zip(("tester", "hour"), _counted(), _tallied(), strict=True):
        for key in sorted(counted.keys() | tallied.keys(), key=str):
            if counted.get(key, 0) != tallied.get(key, 0):
                problems.append(
                    f"{name} tally {key}: holds {tallied.get(key, 0)}, "
                    f"the executions count {counted.get(key, 0)}"
                )
    return problems


@transaction.atomic
def tallies_rebuild() -> int:
    """Recount the dashboard tallies from the executions; returns how many rows were
    written. Writers of executions wait meanwhile (PostgreSQL locks the table against
    them), so no change slips between the count and the write."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE uat_execution IN SHARE MODE")
    testers, hours = _counted()
    ExecutionTesterTally.objects.all().delete()
    ExecutionHourTally.objects.all().delete()
    ExecutionTesterTally.objects.bulk_create(
        ExecutionTesterTally(**dict(zip(TESTER_KEY, key, strict=True)), runs=n)
        for key, n in testers.items()
    )
    ExecutionHourTally.objects.bulk_create(
        ExecutionHourTally(plan_id=plan_id, hour=hour, status=status, results=n)
        for (plan_id, hour, status), n in hours.items()
    )
    return len(testers) + len(hours)
