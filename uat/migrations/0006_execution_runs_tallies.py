"""The dashboard's tallies of runs per tester and of results per hour
(``ExecutionTesterTally``, ``ExecutionHourTally``), and the triggers that keep them on
PostgreSQL and SQLite, in the same transaction as each execution's insert, update or
delete. On PostgreSQL the triggers are named after 0005's, so they fire after them:
every writer of a plan's executions takes that plan's ``ExecutionTally`` row first, and
so never waits for these rows while holding one another writer needs."""

from django.db import migrations, models

from . import _statement_triggers as triggers

FINAL = "('passed', 'failed', 'blocked')"
HOUR = {
    "postgresql": "date_trunc('hour', {at} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "strftime('%Y-%m-%d %H:00:00', {at})",
}
TESTER_KEY = (
    "plan_id = {row}.plan_id AND tester_id = {row}.tester_id "
    "AND cohort_id = {row}.cohort_id AND status = {row}.status"
)


def _statements(vendor: str) -> tuple[str, str, str, str]:
    """Add NEW to the tallies, take OLD from them (each two statements)."""
    hour = HOUR[vendor]
    add_tester = (
        "INSERT INTO uat_executiontestertally (plan_id, tester_id, cohort_id, status, runs) "
        "VALUES (NEW.plan_id, NEW.tester_id, NEW.cohort_id, NEW.status, 1) "
        "ON CONFLICT (plan_id, tester_id, cohort_id, status) "
        "DO UPDATE SET runs = uat_executiontestertally.runs + 1;"
    )
    add_hour = (
        "INSERT INTO uat_executionhourtally (plan_id, hour, status, results) "
        f"SELECT NEW.plan_id, {hour.format(at='NEW.finished_at')}, NEW.status, 1 "
        f"WHERE NEW.finished_at IS NOT NULL AND NEW.status IN {FINAL} "
        "ON CONFLICT (plan_id, hour, status) "
        "DO UPDATE SET results = uat_executionhourtally.results + 1;"
    )
    take_tester = (
        f"UPDATE uat_executiontestertally SET runs = runs - 1 WHERE {TESTER_KEY.format(row='OLD')};"
    )
    take_hour = (
        "UPDATE uat_executionhourtally SET results = results - 1 "
        f"WHERE plan_id = OLD.plan_id AND status = OLD.status "
        f"AND OLD.finished_at IS NOT NULL AND hour = {hour.format(at='OLD.finished_at')};"
    )
    return add_tester, add_hour, take_tester, take_hour


# PostgreSQL: a trigger per statement over its transition tables (see 0005), each row
# of the statement +1 as it is now and -1 as it was; only keys whose net change is not
# zero are written, so saving a step (no key changes) writes no tally at all.
COLUMNS = "plan_id, tester_id, cohort_id, status, finished_at"
ROWS = {
    "INSERT": f"SELECT {COLUMNS}, 1 AS delta FROM new_rows",
    "DELETE": f"SELECT {COLUMNS}, -1 AS delta FROM old_rows",
    "UPDATE": f"SELECT {COLUMNS}, 1 AS delta FROM new_rows "
    f"UNION ALL SELECT {COLUMNS}, -1 AS delta FROM old_rows",
}
UPSERTS = (
    "INSERT INTO uat_executiontestertally (plan_id, tester_id, cohort_id, status, runs) "
    "SELECT plan_id, tester_id, cohort_id, status, SUM(delta) FROM ({rows}) AS changed "
    "GROUP BY 1, 2, 3, 4 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3, 4 "
    "ON CONFLICT (plan_id, tester_id, cohort_id, status) "
    "DO UPDATE SET runs = uat_executiontestertally.runs + EXCLUDED.runs; "
    "INSERT INTO uat_executionhourtally (plan_id, hour, status, results) "
    "SELECT plan_id, {hour}, status, SUM(delta) FROM ({rows}) AS changed "
    f"WHERE finished_at IS NOT NULL AND status IN {FINAL} "
    "GROUP BY 1, 2, 3 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3 "
    "ON CONFLICT (plan_id, hour, status) "
    "DO UPDATE SET results = uat_executionhourtally.results + EXCLUDED.results;"
)


def _name(event: str) -> str:
    return f"uat_execution_tally_2_{event.lower()}"


def _postgresql() -> list[str]:
    hour = HOUR["postgresql"].format(at="finished_at")
    return [
        statement
        for event, rows in ROWS.items()
        for statement in triggers.create(
            "uat_execution", _name(event), event, UPSERTS.format(rows=rows, hour=hour)
        )
    ]


def _postgresql_drop() -> list[str]:
    return [statement for event in ROWS for statement in triggers.drop("uat_execution", _name(event))]


def _sqlite() -> list[str]:
    add_tester, add_hour, take_tester, take_hour = _statements("sqlite")
    changed = (
        "OLD.plan_id IS NOT NEW.plan_id OR OLD.tester_id IS NOT NEW.tester_id "
        "OR OLD.cohort_id IS NOT NEW.cohort_id OR OLD.status IS NOT NEW.status "
        "OR OLD.finished_at IS NOT NEW.finished_at"
    )
    return [
        "CREATE TRIGGER uat_execution_runs_insert AFTER INSERT ON uat_execution "
        f"BEGIN {add_tester} {add_hour} END",
        f"CREATE TRIGGER uat_execution_runs_update AFTER UPDATE ON uat_execution WHEN {changed} "
        f"BEGIN {take_tester} {take_hour} {add_tester} {add_hour} END",
        "CREATE TRIGGER uat_execution_runs_delete AFTER DELETE ON uat_execution "
        f"BEGIN {take_tester} {take_hour} END",
    ]


def _backfill(vendor: str) -> list[str]:
    hour = HOUR[vendor].format(at="finished_at")
    return [
        "INSERT INTO uat_executiontestertally (plan_id, tester_id, cohort_id, status, runs) "
        "SELECT plan_id, tester_id, cohort_id, status, COUNT(*) FROM uat_execution "
        "GROUP BY plan_id, tester_id, cohort_id, status",
        "INSERT INTO uat_executionhourtally (plan_id, hour, status, results) "
        f"SELECT plan_id, {hour}, status, COUNT(*) FROM uat_execution "
        f"WHERE finished_at IS NOT NULL AND status IN {FINAL} "
        f"GROUP BY plan_id, {hour}, status",
    ]


def forwards(apps, schema_editor):
    statements = {
        "postgresql": _backfill("postgresql") + _postgresql(),
        "sqlite": _backfill("sqlite") + _sqlite(),
    }
    triggers.execute(schema_editor, statements, required=True)


def backwards(apps, schema_editor):
    sqlite = [
        f"DROP TRIGGER IF EXISTS uat_execution_runs_{event}"
        for event in ("insert", "update", "delete")
    ]
    triggers.execute(
        schema_editor, {"postgresql": _postgresql_drop(), "sqlite": sqlite}, required=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("uat", "0005_execution_tally"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExecutionHourTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("plan_id", models.BigIntegerField()),
                ("hour", models.DateTimeField()),
                ("status", models.CharField(max_length=12)),
                ("results", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("plan_id", "hour", "status"), name="execution_hour_tally_key"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ExecutionTesterTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("plan_id", models.BigIntegerField()),
                ("tester_id", models.BigIntegerField()),
                ("cohort_id", models.BigIntegerField()),
                ("status", models.CharField(max_length=12)),
                ("runs", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("plan_id", "tester_id", "cohort_id", "status"),
                        name="execution_tester_tally_key",
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
