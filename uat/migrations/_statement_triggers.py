"""Helpers of the tally migrations (0005–0008): PostgreSQL triggers that run once per
statement over its transition tables, and running the right statements for the database
at hand. (Django's migration loader skips modules whose name starts with "_".)

Frozen: migrations 0005-0008 already ran what these build, so editing them would change
what those migrations mean. A new trigger migration writes its own SQL; the triggers as
they are now are stated in uat/triggers.py."""

REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def create(table: str, name: str, event: str, body: str) -> list[str]:
    """A function running ``body`` (SQL statements, each ending in ";") and the trigger
    that calls it after each ``event`` statement on ``table``, which sees the
    statement's rows as ``new_rows`` and/or ``old_rows``."""
    return [
        f"CREATE OR REPLACE FUNCTION greenlight_{name}() RETURNS trigger AS $$ BEGIN {body} "
        "RETURN NULL; END; $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {name} AFTER {event} ON {table} {REFERENCING[event]} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION greenlight_{name}()",
    ]


def drop(table: str, name: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"DROP FUNCTION IF EXISTS greenlight_{name}()",
    ]


def sources_create(sources, kind: str, body) -> list[str]:
    """One statement trigger per source ``(table, event, rows)`` — ``rows`` a query over
    the statement's transition tables — named ``{table}_{kind}_tally_{event}`` and
    running ``body(rows)``."""
    return [
        statement
        for table, event, rows in sources
        for statement in create(table, _source_name(table, kind, event), event, body(rows))
    ]


def sources_drop(sources, kind: str) -> list[str]:
    """What undoes ``sources_create(sources, kind, …)``."""
    return [
        statement
        for table, event, _ in sources
        for statement in drop(table, _source_name(table, kind, event))
    ]


def _source_name(table: str, kind: str, event: str) -> str:
    return f"{table}_{kind}_tally_{event.lower()}"


def sqlite_create(triggers: dict[str, tuple[str, str]]) -> list[str]:
    """SQLite row triggers from ``{name: (when, body)}``, ``when`` naming the event and
    table (``AFTER INSERT ON uat_defect``) and ``body`` the statements to run."""
    return [
        f"CREATE TRIGGER {name} {when} BEGIN {body} END" for name, (when, body) in triggers.items()
    ]


def sqlite_drop(triggers) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in triggers]


def execute(schema_editor, statements: dict[str, list[str]], *, required: bool) -> None:
    """Run the statements of this database's vendor; a vendor without any is refused
    when ``required`` (creating triggers) and passed over otherwise (dropping them)."""
    vendor = schema_editor.connection.vendor
    if vendor not in statements and required:
        raise NotImplementedError(f"No tally triggers for {vendor}.")
    for statement in statements.get(vendor, []):
        schema_editor.execute(statement, params=None)
