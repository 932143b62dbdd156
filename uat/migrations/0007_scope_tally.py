"""The per-plan scope change counter (``ScopeTally``) and the triggers that keep it, on
PostgreSQL and SQLite: a case added to or removed from a plan, a new version of a case
in scope, a requirement linked to or unlinked from a case in scope. Scope changes are a
QA lead's edits, never part of a tester's write, so this counter takes no lock a
tester's transaction could be waiting for."""

from django.db import migrations, models

UPSERT = (
    "INSERT INTO uat_scopetally (plan_id, changes) SELECT plan_id, {count} FROM ({rows}) "
    "AS changed {group} ON CONFLICT (plan_id) "
    "DO UPDATE SET changes = uat_scopetally.changes + EXCLUDED.changes"
)

# PostgreSQL: statement triggers over transition tables (see 0005). Each source lists
# the plan of every change the statement made.
NEW, OLD = "REFERENCING NEW TABLE AS new_rows", "REFERENCING OLD TABLE AS old_rows"
BOTH = "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
IN_SCOPE = "JOIN uat_plan_cases ON uat_plan_cases.case_id = {rows}.case_id"
POSTGRESQL_SOURCES = [
    ("uat_plan_cases", "INSERT", NEW, "SELECT plan_id FROM new_rows"),
    ("uat_plan_cases", "DELETE", OLD, "SELECT plan_id FROM old_rows"),
    (
        "uat_plan_cases",
        "UPDATE",
        BOTH,
        "SELECT plan_id FROM new_rows UNION ALL SELECT plan_id FROM old_rows",
    ),
    (
        "uat_case",
        "UPDATE",
        BOTH,
        "SELECT uat_plan_cases.plan_id FROM new_rows "
        "JOIN old_rows ON old_rows.id = new_rows.id "
        "JOIN uat_plan_cases ON uat_plan_cases.case_id = new_rows.id "
        "WHERE new_rows.version <> old_rows.version",
    ),
    (
        "uat_case_requirements",
        "INSERT",
        NEW,
        f"SELECT uat_plan_cases.plan_id FROM new_rows {IN_SCOPE.format(rows='new_rows')}",
    ),
    (
        "uat_case_requirements",
        "DELETE",
        OLD,
        f"SELECT uat_plan_cases.plan_id FROM old_rows {IN_SCOPE.format(rows='old_rows')}",
    ),
    (
        "uat_case_requirements",
        "UPDATE",
        BOTH,
        f"SELECT uat_plan_cases.plan_id FROM new_rows {IN_SCOPE.format(rows='new_rows')} "
        f"UNION ALL SELECT uat_plan_cases.plan_id FROM old_rows "
        f"{IN_SCOPE.format(rows='old_rows')}",
    ),
]


def _name(table: str, event: str) -> str:
    return f"{table}_scope_tally_{event.lower()}"


def _postgresql() -> list[str]:
    statements = []
    for table, event, referencing, rows in POSTGRESQL_SOURCES:
        name = _name(table, event)
        upsert = UPSERT.format(count="COUNT(*)", rows=rows, group="GROUP BY plan_id ORDER BY 1")
        statements += [
            f"""
            CREATE OR REPLACE FUNCTION greenlight_{name}() RETURNS trigger AS $$
            BEGIN
                {upsert};
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """,
            f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION greenlight_{name}()",
        ]
    return statements


def _postgresql_drop() -> list[str]:
    statements = []
    for table, event, _, _ in POSTGRESQL_SOURCES:
        name = _name(table, event)
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"DROP FUNCTION IF EXISTS greenlight_{name}()",
        ]
    return statements


def _sqlite_bump(rows: str) -> str:
    # SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
    return UPSERT.format(count="1", rows=rows, group="WHERE 1") + ";"


def _sqlite_in_scope(row: str) -> str:
    return _sqlite_bump(f"SELECT plan_id FROM uat_plan_cases WHERE case_id = {row}.case_id")


SQLITE_TRIGGERS = {
    "uat_plan_cases_scope_tally_insert": (
        "AFTER INSERT ON uat_plan_cases",
        _sqlite_bump("SELECT NEW.plan_id AS plan_id"),
    ),
    "uat_plan_cases_scope_tally_delete": (
        "AFTER DELETE ON uat_plan_cases",
        _sqlite_bump("SELECT OLD.plan_id AS plan_id"),
    ),
    "uat_plan_cases_scope_tally_update": (
        "AFTER UPDATE ON uat_plan_cases",
        _sqlite_bump("SELECT NEW.plan_id AS plan_id UNION ALL SELECT OLD.plan_id"),
    ),
    "uat_case_scope_tally_update": (
        "AFTER UPDATE OF version ON uat_case WHEN OLD.version IS NOT NEW.version",
        _sqlite_bump("SELECT plan_id FROM uat_plan_cases WHERE case_id = NEW.id"),
    ),
    "uat_case_requirements_scope_tally_insert": (
        "AFTER INSERT ON uat_case_requirements",
        _sqlite_in_scope("NEW"),
    ),
    "uat_case_requirements_scope_tally_delete": (
        "AFTER DELETE ON uat_case_requirements",
        _sqlite_in_scope("OLD"),
    ),
    "uat_case_requirements_scope_tally_update": (
        "AFTER UPDATE ON uat_case_requirements",
        _sqlite_bump(
            "SELECT plan_id FROM uat_plan_cases WHERE case_id IN (NEW.case_id, OLD.case_id)"
        ),
    ),
}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = _postgresql()
    elif vendor == "sqlite":
        statements = [
            f"CREATE TRIGGER {name} {when} BEGIN {body} END"
            for name, (when, body) in SQLITE_TRIGGERS.items()
        ]
    else:
        raise NotImplementedError(f"No scope tally triggers for {vendor}.")
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {
        "postgresql": _postgresql_drop(),
        "sqlite": [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS],
    }
    for statement in statements.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("uat", "0006_execution_runs_tallies")]

    operations = [
        migrations.CreateModel(
            name="ScopeTally",
            fields=[
                ("plan_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("changes", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
