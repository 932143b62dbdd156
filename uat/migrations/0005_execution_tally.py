"""The per-plan execution change counter (``ExecutionTally``) and the triggers that keep
it, on PostgreSQL and on SQLite: every insert, update and delete of an execution moves
its plan's counter in the same transaction, whoever wrote the row."""

from django.db import migrations, models

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION greenlight_execution_tally() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO uat_executiontally (plan_id, changes) VALUES (NEW.plan_id, 1)
            ON CONFLICT (plan_id) DO UPDATE SET changes = uat_executiontally.changes + 1;
        END IF;
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.plan_id <> NEW.plan_id) THEN
            INSERT INTO uat_executiontally (plan_id, changes) VALUES (OLD.plan_id, 1)
            ON CONFLICT (plan_id) DO UPDATE SET changes = uat_executiontally.changes + 1;
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER uat_execution_tally AFTER INSERT OR UPDATE OR DELETE ON uat_execution
    FOR EACH ROW EXECUTE FUNCTION greenlight_execution_tally()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS uat_execution_tally ON uat_execution",
    "DROP FUNCTION IF EXISTS greenlight_execution_tally()",
]


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
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"No execution tally triggers for {vendor}.")
    schema_editor.execute(BACKFILL, params=None)
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement, params=None)


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
