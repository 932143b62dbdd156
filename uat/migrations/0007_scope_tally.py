"""The per-plan scope change counter (``ScopeTally``) and the triggers that keep it, on
PostgreSQL and SQLite: a case added to or removed from a plan, a new version of a case
in scope, a requirement linked to or unlinked from a case in scope. Scope changes are a
QA lead's edits, never part of a tester's write, so this counter takes no lock a
tester's transaction could be waiting for."""

from django.db import migrations, models

from . import _statement_triggers as triggers

UPSERT = (
    "INSERT INTO uat_scopetally (plan_id, changes) SELECT plan_id, {count} FROM ({rows}) "
    "AS changed {group} ON CONFLICT (plan_id) "
    "DO UPDATE SET changes = uat_scopetally.changes + EXCLUDED.changes"
)

# PostgreSQL: statement triggers over transition tables (see 0005). Each source lists
# the plan of every change the statement made.
IN_SCOPE = "JOIN uat_plan_cases ON uat_plan_cases.case_id = {rows}.case_id"
POSTGRESQL_SOURCES = [
    ("uat_plan_cases", "INSERT", "SELECT plan_id FROM new_rows"),
    ("uat_plan_cases", "DELETE", "SELECT plan_id FROM old_rows"),
    (
        "uat_plan_cases",
        "UPDATE",
        "SELECT plan_id FROM new_rows UNION ALL SELECT plan_id FROM old_rows",
    ),
    (
        "uat_case",
        "UPDATE",
        "SELECT uat_plan_cases.plan_id FROM new_rows "
        "JOIN old_rows ON old_rows.id = new_rows.id "
        "JOIN uat_plan_cases ON uat_plan_cases.case_id = new_rows.id "
        "WHERE new_rows.version <> old_rows.version",
    ),
    (
        "uat_case_requirements",
        "INSERT",
        f"SELECT uat_plan_cases.plan_id FROM new_rows {IN_SCOPE.format(rows='new_rows')}",
    ),
    (
        "uat_case_requirements",
        "DELETE",
        f"SELECT uat_plan_cases.plan_id FROM old_rows {IN_SCOPE.format(rows='old_rows')}",
    ),
    (
        "uat_case_requirements",
        "UPDATE",
        f"SELECT uat_plan_cases.plan_id FROM new_rows {IN_SCOPE.format(rows='new_rows')} "
        f"UNION ALL SELECT uat_plan_cases.plan_id FROM old_rows "
        f"{IN_SCOPE.format(rows='old_rows')}",
    ),
]


def _postgresql() -> list[str]:
    group = "GROUP BY plan_id ORDER BY 1"
    return triggers.sources_create(
        POSTGRESQL_SOURCES,
        "scope",
        lambda rows: UPSERT.format(count="COUNT(*)", rows=rows, group=group) + ";",
    )


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
    sqlite = triggers.sqlite_create(SQLITE_TRIGGERS)
    triggers.execute(schema_editor, {"postgresql": _postgresql(), "sqlite": sqlite}, required=True)


def backwards(apps, schema_editor):
    statements = {
        "postgresql": triggers.sources_drop(POSTGRESQL_SOURCES, "scope"),
        "sqlite": triggers.sqlite_drop(SQLITE_TRIGGERS),
    }
    triggers.execute(schema_editor, statements, required=False)


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
