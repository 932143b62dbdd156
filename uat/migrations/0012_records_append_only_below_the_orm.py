"""On PostgreSQL the database refuses what would rewrite a record, whoever sends it:

- the audit trail, sign-offs and promotions refuse TRUNCATE, and promotions also UPDATE
  and DELETE (the audit trail and sign-offs refuse those since 0002);
- waivers refuse DELETE and TRUNCATE, and every UPDATE but revoking an active waiver;
- a signed acceptance report refuses DELETE and any UPDATE but its email markers.

(SQLite, the embedded default, relies on the models' guards.) The SQL is literal, as
it ran; uat/triggers.py states the triggers as they are now."""

from django.db import migrations

FUNCTIONS = {
    "greenlight_no_truncate": """
BEGIN
    RAISE EXCEPTION '% keeps records: it cannot be truncated', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
""",
    "greenlight_waiver_revoke_only": """
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.revoked_at IS NULL AND OLD.expires_at > now()
        AND NEW.revoked_at IS NOT NULL
        AND to_jsonb(NEW) - 'revoked_at' = to_jsonb(OLD) - 'revoked_at'
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'uat_waiver keeps its waivers: only revoking an active waiver changes one'
        USING ERRCODE = 'integrity_constraint_violation';
END;
""",
    "greenlight_signed_report_frozen": """
BEGIN
    IF (TG_OP = 'DELETE'
            OR to_jsonb(NEW) - ARRAY['emails', 'emails_queued_at']
                IS DISTINCT FROM to_jsonb(OLD) - ARRAY['emails', 'emails_queued_at'])
        AND EXISTS (SELECT 1 FROM uat_signoff WHERE uat_signoff.report_id = OLD.id)
    THEN
        RAISE EXCEPTION 'acceptance report % is signed: it cannot be changed or deleted',
            OLD.uuid USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
""",
}

# (trigger, table, timing and events, level, function)
TRIGGERS = [
    (
        "uat_promotion_append_only",
        "uat_promotion",
        "BEFORE UPDATE OR DELETE",
        "FOR EACH ROW",
        "greenlight_append_only",
    ),
    *(
        (
            f"{table}_no_truncate",
            table,
            "BEFORE TRUNCATE",
            "FOR EACH STATEMENT",
            "greenlight_no_truncate",
        )
        for table in ("uat_event", "uat_signoff", "uat_promotion", "uat_waiver")
    ),
    (
        "uat_waiver_revoke_only",
        "uat_waiver",
        "BEFORE UPDATE OR DELETE",
        "FOR EACH ROW",
        "greenlight_waiver_revoke_only",
    ),
    (
        "reports_acceptancereport_signed_frozen",
        "reports_acceptancereport",
        "BEFORE UPDATE OR DELETE",
        "FOR EACH ROW",
        "greenlight_signed_report_frozen",
    ),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, source in FUNCTIONS.items():
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ {source} $$ "
            "LANGUAGE plpgsql",
            params=None,
        )
    for name, table, when, level, function in TRIGGERS:
        schema_editor.execute(
            f"CREATE TRIGGER {name} {when} ON {table} {level} EXECUTE FUNCTION {function}()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, *_ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for name in FUNCTIONS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):
    dependencies = [
        ("uat", "0011_release_version_characters"),
        ("reports", "0008_signoff_promotion_from_uat"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
