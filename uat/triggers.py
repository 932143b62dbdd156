"""Every trigger Greenlight's database holds, as migrating from zero leaves it, on
PostgreSQL and on SQLite: names, tables, events, timing and the SQL they run.

The tallies
-----------
Small tables the database keeps itself, moved in the same transaction as every write,
whoever makes it (services, the admin, a bulk load, raw SQL):

- ``uat_executiontally`` (``ExecutionTally``, migration 0005): per plan, a counter moved
  by every insert, update and delete of one of its executions (an execution moved to
  another plan moves both plans' counters). The report fingerprint reads it, so any change to a
  plan's executions makes its reports stale.
- ``uat_executiontestertally`` and ``uat_executionhourtally`` (0006): the dashboard's runs
  per (plan, tester, cohort, state) and finished results per (plan, hour in UTC, state),
  each row of a write +1 as it is now and -1 as it was. ``uat/tallies.py`` checks them
  against the executions and rebuilds them.
- ``uat_scopetally`` (``ScopeTally``, 0007): per plan, a counter moved by a case added to
  or removed from it, a new version of a case in it, a requirement linked to or unlinked
  from a case in it.
- ``uat_defecttally`` (``DefectTally``, 0008): per release, a counter moved by every write
  to one of its defects or to a defect's links to executions.

On PostgreSQL each trigger runs once per statement, over the statement's rows in its
transition tables (``new_rows``, ``old_rows``): a bulk insert of thousands of executions
moves a counter once instead of stacking a version of the same tally row per row. SQLite
updates rows in place, so it has row triggers.

The records (append-only below the ORM)
---------------------------------------
On PostgreSQL the database itself keeps the records an audit leans on, whoever writes
(the models' guards hold on SQLite too, but only for code going through the ORM):

- the audit trail (``uat_event``), the sign-offs (``uat_signoff``) and the promotions
  (``uat_promotion``) refuse every UPDATE and DELETE (0002, 0012) and TRUNCATE (0012);
- waivers (``uat_waiver``) refuse DELETE and TRUNCATE, and every UPDATE but the one
  ``waiver_revoke`` makes: an active waiver (not revoked, not expired by the database's
  clock) gets its ``revoked_at``, and nothing else about it changes (0012);
- an acceptance report with a sign-off (``reports_acceptancereport``) refuses DELETE and
  any UPDATE but its email markers (``emails``, ``emails_queued_at``): its HTML, PDF,
  fingerprint, metrics, criteria, decision and status are what was signed (0012).
  A TRUNCATE of reports cascades to the sign-offs, which refuse it.

A trigger is only as strong as the role that cannot drop it: the application connects
as a role that does not own the tables (docs/deploy.md, ``manage.py database_grant``).
Emptying the tables of a test database between tests needs the superuser's
``session_replication_role = replica`` (``tests/conftest.py``), as restoring data past
the triggers does.

Why the order matters (PostgreSQL)
----------------------------------
A trigger's upsert locks the tally rows it writes until the transaction ends, so every
transaction takes tally rows in one order, ``LOCK_ORDER``, and none waits for a row while
holding one another needs:

- On ``uat_execution`` two triggers fire after each statement, and PostgreSQL fires
  triggers of the same event in name order: ``uat_execution_tally_1_*`` (the plan's
  counter) before ``uat_execution_tally_2_*`` (the dashboard tallies). The tester and hour
  rows of a plan are therefore only written by whoever holds the plan's counter row; a
  second writer of the plan queues on the counter holding none of them. Renaming a
  trigger can change this order: ``tests/uat/test_triggers.py`` pins it.
- Each upsert writes its keys in key order (``ORDER BY``), so two statements over several
  plans or releases take their rows in the same order.
- Across statements it is the services' part: a transaction that writes executions and
  defects takes the plans' execution counters before its release's defect counter. A
  failed retest records its execution, then links the defect (``execution_record``);
  marking a defect fixed takes the counters of the plans it will queue retests in, in
  plan order, before it writes the defect (``_lock_retested_plans`` in
  ``uat/services/defects.py``); services writing several executions lock them in id
  order before the first write.
- ``uat_scopetally`` stands apart: scope changes are a QA lead's edits, never part of a
  tester's transaction.

SQLite lets one transaction write at a time, so the order its triggers fire in cannot
deadlock.

Changing a trigger
------------------
A migration must mean forever what it meant when it ran, so no migration imports this
module: each states (or builds from its own frozen helpers in
``uat/migrations/_statement_triggers.py``) the SQL it runs. To change a trigger, write a
new migration with literal SQL *and* update this module: the test database is migrated
from zero and ``tests/uat/test_triggers.py`` compares its triggers with these, so
forgetting either fails it. ``PostgresTrigger.create_trigger`` and ``SqliteTrigger.sql`` print the
statements to copy into the migration.
"""

from dataclasses import dataclass

# The order every transaction takes the rows of these tallies in (see above).
LOCK_ORDER = (
    "uat_executiontally",
    "uat_executiontestertally",
    "uat_executionhourtally",
    "uat_defecttally",
)

_REFERENCING = {"INSERT": (None, "new_rows"), "DELETE": ("old_rows", None)}
_EVENT_ORDER = ("INSERT", "DELETE", "UPDATE", "TRUNCATE")  # as PostgreSQL prints them


@dataclass(frozen=True)
class PostgresTrigger:
    """A trigger as ``pg_trigger`` holds it, and the source of the function it runs as
    ``pg_proc.prosrc`` holds it (give or take whitespace)."""

    name: str
    table: str
    timing: str  # BEFORE or AFTER
    events: tuple[str, ...]
    level: str  # ROW or STATEMENT
    function: str
    source: str
    old_table: str | None = None
    new_table: str | None = None

    def create_trigger(self, schema: str = "") -> str:
        """The trigger's CREATE statement, as ``pg_get_triggerdef`` prints it (naming the
        table's schema when given one). Its function is created with ``CREATE OR REPLACE
        FUNCTION <function>() RETURNS trigger AS $$ <source> $$ LANGUAGE plpgsql``."""
        table = f"{schema}.{self.table}" if schema else self.table
        referencing = " ".join(
            f"{kind} TABLE AS {name}"
            for kind, name in (("OLD", self.old_table), ("NEW", self.new_table))
            if name
        )
        events = " OR ".join(sorted(self.events, key=_EVENT_ORDER.index))
        return " ".join(
            part
            for part in (
                f"CREATE TRIGGER {self.name} {self.timing} {events}",
                f"ON {table}",
                f"REFERENCING {referencing}" if referencing else "",
                f"FOR EACH {self.level} EXECUTE FUNCTION {self.function}()",
            )
            if part
        )


def _tally(table: str, event: str, name: str, statements: str) -> PostgresTrigger:
    """A tally trigger: after each ``event`` statement on ``table``, its function (named
    ``greenlight_`` + ``name``) runs ``statements`` over the statement's rows."""
    old, new = _REFERENCING.get(event, ("old_rows", "new_rows"))
    return PostgresTrigger(
        name=name,
        table=table,
        timing="AFTER",
        events=(event,),
        level="STATEMENT",
        function=f"greenlight_{name}",
        source=f"BEGIN {statements} RETURN NULL; END;",
        old_table=old,
        new_table=new,
    )


@dataclass(frozen=True)
class SqliteTrigger:
    """A trigger as ``sqlite_master`` holds it."""

    name: str
    table: str
    event: str  # INSERT, DELETE, UPDATE or UPDATE OF <columns>
    body: str
    condition: str = ""  # WHEN

    def sql(self) -> str:
        when = f" WHEN {self.condition}" if self.condition else ""
        return (
            f"CREATE TRIGGER {self.name} AFTER {self.event} ON {self.table}{when} "
            f"BEGIN {self.body} END"
        )


# ---------------------------------------------------------------- PostgreSQL
# Each tally's statements, and per event the rows of the statement they count.

APPEND_ONLY = """
BEGIN
    RAISE EXCEPTION '% is append-only: rows cannot be updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
"""
APPEND_ONLY_TABLES = ("uat_event", "uat_signoff", "uat_promotion")

# BEFORE TRUNCATE, once per statement: TRUNCATE fires no row triggers.
NO_TRUNCATE = """
BEGIN
    RAISE EXCEPTION '% keeps records: it cannot be truncated', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
"""
NO_TRUNCATE_TABLES = (*APPEND_ONLY_TABLES, "uat_waiver")

# The one change a waiver takes: waiver_revoke (uat/services/waivers.py) sets revoked_at
# of an active waiver. "Active" as WaiverQuerySet.active() says, by the database's
# clock at the start of the transaction (the service checks after it began).
WAIVER_REVOKE_ONLY = """
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
"""

# What may still change on a signed report: the markers of its emails (reports/jobs.py),
# emails and emails_queued_at; every other column is what was signed.
SIGNED_REPORT_FROZEN = """
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
"""

EXECUTION_TALLY = """
    INSERT INTO uat_executiontally (plan_id, changes)
    SELECT plan_id, COUNT(*) FROM ({rows}) AS changed
    GROUP BY plan_id ORDER BY plan_id
    ON CONFLICT (plan_id)
    DO UPDATE SET changes = uat_executiontally.changes + EXCLUDED.changes;
"""
EXECUTION_TALLY_ROWS = {
    "INSERT": "SELECT plan_id FROM new_rows",
    "DELETE": "SELECT plan_id FROM old_rows",
    # Each row's plan, and again the plan a row moved away from.
    "UPDATE": """
        SELECT plan_id FROM new_rows
        UNION ALL
        SELECT old_rows.plan_id FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
        WHERE new_rows.plan_id <> old_rows.plan_id
    """,
}

# Each row +1 as it is now, -1 as it was; only keys whose net change is not zero are
# written, so saving a step (no key changes) writes no tally row.
DASHBOARD_TALLIES = """
    INSERT INTO uat_executiontestertally (plan_id, tester_id, cohort_id, status, runs)
    SELECT plan_id, tester_id, cohort_id, status, SUM(delta) FROM ({rows}) AS changed
    GROUP BY 1, 2, 3, 4 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3, 4
    ON CONFLICT (plan_id, tester_id, cohort_id, status)
    DO UPDATE SET runs = uat_executiontestertally.runs + EXCLUDED.runs;

    INSERT INTO uat_executionhourtally (plan_id, hour, status, results)
    SELECT
        plan_id,
        date_trunc('hour', finished_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        status,
        SUM(delta)
    FROM ({rows}) AS changed
    WHERE finished_at IS NOT NULL AND status IN ('passed', 'failed', 'blocked')
    GROUP BY 1, 2, 3 HAVING SUM(delta) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (plan_id, hour, status)
    DO UPDATE SET results = uat_executionhourtally.results + EXCLUDED.results;
"""
_NOW = "SELECT plan_id, tester_id, cohort_id, status, finished_at, 1 AS delta FROM new_rows"
_WAS = "SELECT plan_id, tester_id, cohort_id, status, finished_at, -1 AS delta FROM old_rows"
DASHBOARD_TALLIES_ROWS = {"INSERT": _NOW, "DELETE": _WAS, "UPDATE": f"{_NOW} UNION ALL {_WAS}"}

SCOPE_TALLY = """
    INSERT INTO uat_scopetally (plan_id, changes)
    SELECT plan_id, COUNT(*) FROM ({rows}) AS changed
    GROUP BY plan_id ORDER BY 1
    ON CONFLICT (plan_id)
    DO UPDATE SET changes = uat_scopetally.changes + EXCLUDED.changes;
"""
_IN_SCOPE = (
    "SELECT uat_plan_cases.plan_id FROM {rows} "
    "JOIN uat_plan_cases ON uat_plan_cases.case_id = {rows}.case_id"
)
SCOPE_TALLY_ROWS = {
    ("uat_plan_cases", "INSERT"): "SELECT plan_id FROM new_rows",
    ("uat_plan_cases", "DELETE"): "SELECT plan_id FROM old_rows",
    ("uat_plan_cases", "UPDATE"): (
        "SELECT plan_id FROM new_rows UNION ALL SELECT plan_id FROM old_rows"
    ),
    # A new version of a case: every plan with the case in scope.
    ("uat_case", "UPDATE"): """
        SELECT uat_plan_cases.plan_id FROM new_rows
        JOIN old_rows ON old_rows.id = new_rows.id
        JOIN uat_plan_cases ON uat_plan_cases.case_id = new_rows.id
        WHERE new_rows.version <> old_rows.version
    """,
    ("uat_case_requirements", "INSERT"): _IN_SCOPE.format(rows="new_rows"),
    ("uat_case_requirements", "DELETE"): _IN_SCOPE.format(rows="old_rows"),
    ("uat_case_requirements", "UPDATE"): (
        f"{_IN_SCOPE.format(rows='new_rows')} UNION ALL {_IN_SCOPE.format(rows='old_rows')}"
    ),
}

DEFECT_TALLY = """
    INSERT INTO uat_defecttally (release_id, changes)
    SELECT release_id, COUNT(*) FROM ({rows}) AS changed
    GROUP BY release_id ORDER BY release_id
    ON CONFLICT (release_id)
    DO UPDATE SET changes = uat_defecttally.changes + EXCLUDED.changes;
"""
_OF_LINKS = (
    "SELECT uat_defect.release_id FROM {rows} JOIN uat_defect ON uat_defect.id = {rows}.defect_id"
)
DEFECT_TALLY_ROWS = {
    ("uat_defect", "INSERT"): "SELECT release_id FROM new_rows",
    ("uat_defect", "DELETE"): "SELECT release_id FROM old_rows",
    # Each row's release, and again the release a defect moved away from.
    ("uat_defect", "UPDATE"): """
        SELECT release_id FROM new_rows
        UNION ALL
        SELECT old_rows.release_id FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
        WHERE new_rows.release_id <> old_rows.release_id
    """,
    ("uat_defect_executions", "INSERT"): _OF_LINKS.format(rows="new_rows"),
    ("uat_defect_executions", "DELETE"): _OF_LINKS.format(rows="old_rows"),
    ("uat_defect_executions", "UPDATE"): (
        f"{_OF_LINKS.format(rows='new_rows')} UNION ALL {_OF_LINKS.format(rows='old_rows')}"
    ),
}

POSTGRESQL = [
    # 0002 (the audit trail, sign-offs), 0012 (promotions)
    *(
        PostgresTrigger(
            name=f"{table}_append_only",
            table=table,
            timing="BEFORE",
            events=("UPDATE", "DELETE"),
            level="ROW",
            function="greenlight_append_only",
            source=APPEND_ONLY,
        )
        for table in APPEND_ONLY_TABLES
    ),
    # 0012
    *(
        PostgresTrigger(
            name=f"{table}_no_truncate",
            table=table,
            timing="BEFORE",
            events=("TRUNCATE",),
            level="STATEMENT",
            function="greenlight_no_truncate",
            source=NO_TRUNCATE,
        )
        for table in NO_TRUNCATE_TABLES
    ),
    PostgresTrigger(
        name="uat_waiver_revoke_only",
        table="uat_waiver",
        timing="BEFORE",
        events=("UPDATE", "DELETE"),
        level="ROW",
        function="greenlight_waiver_revoke_only",
        source=WAIVER_REVOKE_ONLY,
    ),
    PostgresTrigger(
        name="reports_acceptancereport_signed_frozen",
        table="reports_acceptancereport",
        timing="BEFORE",
        events=("UPDATE", "DELETE"),
        level="ROW",
        function="greenlight_signed_report_frozen",
        source=SIGNED_REPORT_FROZEN,
    ),
    # 0005, then 0006: "_1_" fires before "_2_".
    *(
        _tally(
            "uat_execution",
            event,
            f"uat_execution_tally_1_{event.lower()}",
            EXECUTION_TALLY.format(rows=rows),
        )
        for event, rows in EXECUTION_TALLY_ROWS.items()
    ),
    *(
        _tally(
            "uat_execution",
            event,
            f"uat_execution_tally_2_{event.lower()}",
            DASHBOARD_TALLIES.format(rows=rows),
        )
        for event, rows in DASHBOARD_TALLIES_ROWS.items()
    ),
    # 0007, 0008
    *(
        _tally(table, event, f"{table}_{kind}_tally_{event.lower()}", template.format(rows=rows))
        for kind, template, sources in (
            ("scope", SCOPE_TALLY, SCOPE_TALLY_ROWS),
            ("defect", DEFECT_TALLY, DEFECT_TALLY_ROWS),
        )
        for (table, event), rows in sources.items()
    ),
]

# ---------------------------------------------------------------- SQLite
# A trigger per row; SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.

EXECUTION_TALLY_BUMP = """
    INSERT INTO uat_executiontally (plan_id, changes) SELECT {row}.plan_id, 1 WHERE {when}
    ON CONFLICT (plan_id) DO UPDATE SET changes = changes + 1;
"""

ADD_RUN = """
    INSERT INTO uat_executiontestertally (plan_id, tester_id, cohort_id, status, runs)
    VALUES (NEW.plan_id, NEW.tester_id, NEW.cohort_id, NEW.status, 1)
    ON CONFLICT (plan_id, tester_id, cohort_id, status)
    DO UPDATE SET runs = uat_executiontestertally.runs + 1;

    INSERT INTO uat_executionhourtally (plan_id, hour, status, results)
    SELECT NEW.plan_id, strftime('%Y-%m-%d %H:00:00', NEW.finished_at), NEW.status, 1
    WHERE NEW.finished_at IS NOT NULL AND NEW.status IN ('passed', 'failed', 'blocked')
    ON CONFLICT (plan_id, hour, status)
    DO UPDATE SET results = uat_executionhourtally.results + 1;
"""
TAKE_RUN = """
    UPDATE uat_executiontestertally SET runs = runs - 1
    WHERE plan_id = OLD.plan_id AND tester_id = OLD.tester_id
    AND cohort_id = OLD.cohort_id AND status = OLD.status;

    UPDATE uat_executionhourtally SET results = results - 1
    WHERE plan_id = OLD.plan_id AND status = OLD.status
    AND OLD.finished_at IS NOT NULL AND hour = strftime('%Y-%m-%d %H:00:00', OLD.finished_at);
"""
# An update that changes none of the tallies' keys (notes, a step) moves none of them.
RUN_KEY_CHANGED = """
    OLD.plan_id IS NOT NEW.plan_id OR OLD.tester_id IS NOT NEW.tester_id
    OR OLD.cohort_id IS NOT NEW.cohort_id OR OLD.status IS NOT NEW.status
    OR OLD.finished_at IS NOT NEW.finished_at
"""

SCOPE_TALLY_BUMP = """
    INSERT INTO uat_scopetally (plan_id, changes)
    SELECT plan_id, 1 FROM ({rows}) AS changed WHERE 1
    ON CONFLICT (plan_id) DO UPDATE SET changes = uat_scopetally.changes + EXCLUDED.changes;
"""
DEFECT_TALLY_BUMP = """
    INSERT INTO uat_defecttally (release_id, changes)
    SELECT release_id, 1 FROM ({rows}) AS changed WHERE 1
    ON CONFLICT (release_id)
    DO UPDATE SET changes = uat_defecttally.changes + EXCLUDED.changes;
"""
_PLANS_OF = "SELECT plan_id FROM uat_plan_cases WHERE case_id = {row}.case_id"
_RELEASE_OF = "SELECT release_id FROM uat_defect WHERE id = {row}.defect_id"


def _scope(table: str, event: str, rows: str, **more) -> SqliteTrigger:
    name = f"{table}_scope_tally_{event.split()[0].lower()}"
    return SqliteTrigger(name, table, event, SCOPE_TALLY_BUMP.format(rows=rows), **more)


def _defect(table: str, event: str, rows: str) -> SqliteTrigger:
    name = f"{table}_defect_tally_{event.lower()}"
    return SqliteTrigger(name, table, event, DEFECT_TALLY_BUMP.format(rows=rows))


SQLITE = [
    # 0005
    SqliteTrigger(
        "uat_execution_tally_insert",
        "uat_execution",
        "INSERT",
        EXECUTION_TALLY_BUMP.format(row="NEW", when="1"),
    ),
    SqliteTrigger(
        "uat_execution_tally_update",
        "uat_execution",
        "UPDATE",
        EXECUTION_TALLY_BUMP.format(row="NEW", when="1")
        + EXECUTION_TALLY_BUMP.format(row="OLD", when="OLD.plan_id <> NEW.plan_id"),
    ),
    SqliteTrigger(
        "uat_execution_tally_delete",
        "uat_execution",
        "DELETE",
        EXECUTION_TALLY_BUMP.format(row="OLD", when="1"),
    ),
    # 0006
    SqliteTrigger("uat_execution_runs_insert", "uat_execution", "INSERT", ADD_RUN),
    SqliteTrigger(
        "uat_execution_runs_update",
        "uat_execution",
        "UPDATE",
        TAKE_RUN + ADD_RUN,
        condition=RUN_KEY_CHANGED,
    ),
    SqliteTrigger("uat_execution_runs_delete", "uat_execution", "DELETE", TAKE_RUN),
    # 0007
    _scope("uat_plan_cases", "INSERT", "SELECT NEW.plan_id AS plan_id"),
    _scope("uat_plan_cases", "DELETE", "SELECT OLD.plan_id AS plan_id"),
    _scope(
        "uat_plan_cases", "UPDATE", "SELECT NEW.plan_id AS plan_id UNION ALL SELECT OLD.plan_id"
    ),
    _scope(
        "uat_case",
        "UPDATE OF version",
        "SELECT plan_id FROM uat_plan_cases WHERE case_id = NEW.id",
        condition="OLD.version IS NOT NEW.version",
    ),
    _scope("uat_case_requirements", "INSERT", _PLANS_OF.format(row="NEW")),
    _scope("uat_case_requirements", "DELETE", _PLANS_OF.format(row="OLD")),
    _scope(
        "uat_case_requirements",
        "UPDATE",
        "SELECT plan_id FROM uat_plan_cases WHERE case_id IN (NEW.case_id, OLD.case_id)",
    ),
    # 0008
    _defect("uat_defect", "INSERT", "SELECT NEW.release_id AS release_id"),
    _defect("uat_defect", "DELETE", "SELECT OLD.release_id AS release_id"),
    _defect(
        "uat_defect",
        "UPDATE",
        "SELECT NEW.release_id AS release_id UNION ALL "
        "SELECT OLD.release_id WHERE OLD.release_id <> NEW.release_id",
    ),
    _defect("uat_defect_executions", "INSERT", _RELEASE_OF.format(row="NEW")),
    _defect("uat_defect_executions", "DELETE", _RELEASE_OF.format(row="OLD")),
    _defect(
        "uat_defect_executions",
        "UPDATE",
        f"{_RELEASE_OF.format(row='NEW')} UNION ALL {_RELEASE_OF.format(row='OLD')}",
    ),
]
