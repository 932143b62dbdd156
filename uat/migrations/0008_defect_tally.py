"""The per-release defect change counter (``DefectTally``) and the triggers that keep
it, on PostgreSQL and SQLite: every insert, update and delete of a defect, and of a
link between a defect and an execution, moves the counter of the defect's release in
the same transaction, whoever wrote the row."""

from django.db import migrations, models

from . import _statement_triggers as triggers

UPSERT = (
    "INSERT INTO uat_defecttally (release_id, changes) SELECT release_id, {count} "
    "FROM ({rows}) AS changed {group} ON CONFLICT (release_id) "
    "DO UPDATE SET changes = uat_defecttally.changes + EXCLUDED.changes;"
)

# PostgreSQL: statement triggers over transition tables (see 0005), each listing the
# release of every change the statement made; counters are taken in release order.
OF_LINKS = (
    "SELECT uat_defect.release_id FROM {rows} "
    "JOIN uat_defect ON uat_defect.id = {rows}.defect_id"
)
POSTGRESQL_SOURCES = [
    ("uat_defect", "INSERT", "SELECT release_id FROM new_rows"),
    ("uat_defect", "DELETE", "SELECT release_id FROM old_rows"),
    (
        "uat_defect",
        "UPDATE",
        "SELECT release_id FROM new_rows UNION ALL SELECT old_rows.release_id FROM old_rows "
        "JOIN new_rows ON new_rows.id = old_rows.id "
        "WHERE new_rows.release_id <> old_rows.release_id",
    ),
    ("uat_defect_executions", "INSERT", OF_LINKS.format(rows="new_rows")),
    ("uat_defect_executions", "DELETE", OF_LINKS.format(rows="old_rows")),
    (
        "uat_defect_executions",
        "UPDATE",
        f"{OF_LINKS.format(rows='new_rows')} UNION ALL {OF_LINKS.format(rows='old_rows')}",
    ),
]


def _postgresql() -> list[str]:
    group = "GROUP BY release_id ORDER BY release_id"
    return triggers.sources_create(
        POSTGRESQL_SOURCES,
        "defect",
        lambda rows: UPSERT.format(count="COUNT(*)", rows=rows, group=group),
    )


# SQLite: a trigger per row, as in 0005.
def _sqlite_bump(rows: str) -> str:
    # SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
    return UPSERT.format(count="1", rows=rows, group="WHERE 1")


def _sqlite_of_link(row: str) -> str:
    return _sqlite_bump(f"SELECT release_id FROM uat_defect WHERE id = {row}.defect_id")


SQLITE_TRIGGERS = {
    "uat_defect_defect_tally_insert": (
        "AFTER INSERT ON uat_defect",
        _sqlite_bump("SELECT NEW.release_id AS release_id"),
    ),
    "uat_defect_defect_tally_delete": (
        "AFTER DELETE ON uat_defect",
        _sqlite_bump("SELECT OLD.release_id AS release_id"),
    ),
    "uat_defect_defect_tally_update": (
        "AFTER UPDATE ON uat_defect",
        _sqlite_bump(
            "SELECT NEW.release_id AS release_id UNION ALL "
            "SELECT OLD.release_id WHERE OLD.release_id <> NEW.release_id"
        ),
    ),
    "uat_defect_executions_defect_tally_insert": (
        "AFTER INSERT ON uat_defect_executions",
        _sqlite_of_link("NEW"),
    ),
    "uat_defect_executions_defect_tally_delete": (
        "AFTER DELETE ON uat_defect_executions",
        _sqlite_of_link("OLD"),
    ),
    "uat_defect_executions_defect_tally_update": (
        "AFTER UPDATE ON uat_defect_executions",
        _sqlite_bump(
            "SELECT release_id FROM uat_defect WHERE id = NEW.defect_id UNION ALL "
            "SELECT release_id FROM uat_defect WHERE id = OLD.defect_id"
        ),
    ),
}

# Releases with defects before the counter existed start from their defect count.
BACKFILL = (
    "INSERT INTO uat_defecttally (release_id, changes) "
    "SELECT release_id, COUNT(*) FROM uat_defect GROUP BY release_id"
)


def forwards(apps, schema_editor):
    sqlite = triggers.sqlite_create(SQLITE_TRIGGERS)
    statements = {"postgresql": [BACKFILL, *_postgresql()], "sqlite": [BACKFILL, *sqlite]}
    triggers.execute(schema_editor, statements, required=True)


def backwards(apps, schema_editor):
    statements = {
        "postgresql": triggers.sources_drop(POSTGRESQL_SOURCES, "defect"),
        "sqlite": triggers.sqlite_drop(SQLITE_TRIGGERS),
    }
    triggers.execute(schema_editor, statements, required=False)


class Migration(migrations.Migration):
    dependencies = [("uat", "0007_scope_tally")]

    operations = [
        migrations.CreateModel(
            name="DefectTally",
            fields=[
                ("release_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("changes", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
