"""On PostgreSQL, the database itself refuses to update or delete audit events and
sign-offs, so not even a raw SQL statement or a bug elsewhere can rewrite them.
(SQLite, the embedded default, relies on the models' guards.)"""

from django.db import migrations

TABLES = ("uat_event", "uat_signoff")

CREATE = """
CREATE OR REPLACE FUNCTION greenlight_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: rows cannot be updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION greenlight_append_only()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS greenlight_append_only()")


class Migration(migrations.Migration):
    dependencies = [("uat", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
