"""The per-plan execution change counter (``ExecutionTally``) and the triggers that keep
it, on PostgreSQL and on SQLite: every insert, update and delete of an execution moves
its plan's counter in the same transaction, whoever wrote the row."""

from django.db import migrations, models

from . import _statement_triggers as triggers

# PostgreSQL: one trigger per statement, not per row, reading the statement's rows from
# transition tables: a bulk insert of thousands of executions moves the counter once,
# instead of stacking thousands of versions of one row in a single transaction. The
# triggers' names sort before 0006's, and PostgreSQL fires triggers in name order, so a
# writer always takes the plan's counter before the dashboard tallies.
#
# Once for each row's plan, and once more for the plan a row moved away from.
ROWS = {
    "INSERT": "SELECT plan_id FROM new_rows",
    "DELETE": "SELECT plan_id FROM old_rows",
    "UPDATE": "SELECT plan_id FROM new_rows UNION ALL SELECT old_rows.plan_id FROM old_rows "
    "JOIN new_rows ON new_rows.id = old_rows.id WHERE new_rows.plan_id <> old_rows.plan_id",
}
UPSERT = (
    "INSERT INTO uat_executiontally (plan_id, changes) "
    "SELECT plan_id, COUNT(*) FROM ({rows}) AS changed GROUP BY plan_id ORDER BY plan_id "
    "ON CONFLICT (plan_id) DO UPDATE SET changes = uat_executiontally.changes + EXCLUDED.changes;"
)


def _name(event: str) -> str:
    return f"uat_execution_tally_1_{event.lower()}"


POSTGRESQL = [
    statement
    for event, rows in ROWS.items()
    for statement in triggers.create("uat_execution", _name(event), event, UPSERT.format(rows=rows))
]
POSTGRESQL_DROP = [
    statement for event in ROWS for statement in triggers.drop("uat_execution", _name(event))
]


# SQLite updates rows in place, so a trigger per row costs little there.
def _sqlite_bump(row: str, condition: str = "1") -> str:
    # SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
    return (
        f"INSERT INTO uat_executiontally (plan_id, changes) SELECT {row}.plan_id, 1 "
        f"WHERE {condition} ON CONFLICT (plan_id) DO UPDATE SET changes = changes + 1;"
    )


SQLITE = [
    "CREATE TRIGGER uat_execution_tally_insert AFTER INSERT ON uat_execution "
    f"BEGIN {_sqlite_bump('NEW')} END",
    "CREATE TRIGGER uat_execution_tally_update AFTER UPDATE ON uat_execution "
    f"BEGIN {_sqlite_bump('NEW')} {_sqlite_bump('OLD', 'OLD.plan_id <> NEW.plan_id')} END",
    "CREATE TRIGGER uat_execution_tally_delete AFTER DELETE ON uat_execution "
    f"BEGIN {_sqlite_bump('OLD')} END",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS uat_execution_tally_{event}"
    for event in ("insert", "update", "delete")
]
# Plans with executions before the counter existed start from their execution count.
BACKFILL = (
    "INSERT INTO uat_executiontally (plan_id, changes) "
    "SELECT plan_id, COUNT(*) FROM uat_execution GROUP BY plan_id"
)


def forwards(apps, schema_editor):
    statements = {"postgresql": [BACKFILL, *POSTGRESQL], "sqlite": [BACKFILL, *SQLITE]}
    triggers.execute(schema_editor, statements, required=True)


def backwards(apps, schema_editor):
    statements = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}
    triggers.execute(schema_editor, statements, required=False)


class Migration(migrations.Migration):
    dependencies = [("uat", "0004_execution_plan_summary_index")]

    operations = [
        migrations.CreateModel(
            name="ExecutionTally",
            fields=[
                ("plan_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("changes", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
