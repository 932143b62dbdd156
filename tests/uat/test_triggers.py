"""The database's triggers, as migrating from zero leaves them, are the ones
uat/triggers.py states — so whoever changes a trigger writes a new migration and updates
the module, and forgetting either fails here — and on PostgreSQL they fire in the order
the tallies' lock order needs."""

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from tests.conftest import require
from uat import triggers

pytestmark = pytest.mark.django_db

# tgtype bits (PostgreSQL's src/include/catalog/pg_trigger.h).
ROW, BEFORE = 1 << 0, 1 << 1
EVENT_BITS = {"INSERT": 1 << 2, "DELETE": 1 << 3, "UPDATE": 1 << 4, "TRUNCATE": 1 << 5}


def tokens(sql: str) -> list[str]:
    """SQL as words, quoted strings and symbols: equal whatever the layout."""
    return re.findall(r"'(?:[^']|'')*'|\w+|\S", sql)


def rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def written_tallies(source: str) -> list[str]:
    """The tally tables a function's source writes, in the order it writes them."""
    return re.findall(r"\b(?:INSERT INTO|UPDATE)\s+(uat_\w+tally)\b", source)


@pytest.fixture
def postgresql():
    require(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")


def described(tgtype: int) -> tuple[str, set[str], str]:
    """Timing, events and level of a trigger from its ``tgtype``."""
    events = {event for event, bit in EVENT_BITS.items() if tgtype & bit}
    return "BEFORE" if tgtype & BEFORE else "AFTER", events, "ROW" if tgtype & ROW else "STATEMENT"


def test_postgresql_has_exactly_the_triggers_uat_triggers_states(postgresql):
    found = {
        name: (table, *described(tgtype), function, old, new, enabled, definition)
        for name, table, tgtype, function, old, new, enabled, definition in rows(
            "SELECT t.tgname, c.relname, t.tgtype, p.proname, t.tgoldtable, t.tgnewtable, "
            "t.tgenabled, pg_get_triggerdef(t.oid) "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        )
    }
    schema = rows("SELECT current_schema()")[0][0]
    stated = {
        trigger.name: (
            trigger.table,
            trigger.timing,
            set(trigger.events),
            trigger.level,
            trigger.function,
            trigger.old_table,
            trigger.new_table,
            "O",  # enabled
            trigger.create_trigger(schema),
        )
        for trigger in triggers.POSTGRESQL
    }
    assert sorted(found) == sorted(stated)
    for name, trigger in stated.items():
        assert found[name] == trigger, name


def test_postgresql_trigger_functions_run_the_sql_uat_triggers_states(postgresql):
    found = {
        name: (language, returns, arguments, source)
        for name, language, returns, arguments, source in rows(
            "SELECT p.proname, l.lanname, p.prorettype::regtype::text, p.pronargs, p.prosrc "
            "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
            "WHERE p.proname LIKE 'greenlight\\_%' "
            "AND p.pronamespace = current_schema()::regnamespace"
        )
    }
    stated = {trigger.function: trigger.source for trigger in triggers.POSTGRESQL}
    # No function is left behind by a trigger that was dropped.
    assert sorted(found) == sorted(stated)
    for name, source in stated.items():
        language, returns, arguments, found_source = found[name]
        assert (language, returns, arguments) == ("plpgsql", "trigger", 0), name
        assert tokens(found_source) == tokens(source), name


def firing_order() -> dict[tuple[str, str], list[str]]:
    """Per table and event, the AFTER statement triggers in the order PostgreSQL fires
    them (information_schema numbers them so)."""
    order = defaultdict(list)
    for table, event, name in rows(
        "SELECT event_object_table, event_manipulation, trigger_name "
        "FROM information_schema.triggers "
        "WHERE trigger_schema = current_schema() AND action_timing = 'AFTER' "
        "AND action_orientation = 'STATEMENT' "
        "ORDER BY event_object_table, event_manipulation, action_order"
    ):
        order[table, event].append(name)
    return order


def test_postgresql_takes_the_plan_counter_before_the_dashboard_tallies(postgresql):
    sources = dict(
        rows(
            "SELECT t.tgname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal"
        )
    )
    order = firing_order()
    for event in ("INSERT", "UPDATE", "DELETE"):
        fired = order["uat_execution", event]
        assert fired == [
            f"uat_execution_tally_1_{event.lower()}",
            f"uat_execution_tally_2_{event.lower()}",
        ]
        taken = [tally for name in fired for tally in written_tallies(sources[name])]
        assert taken == list(triggers.LOCK_ORDER[:3]), event
    # Wherever a statement's triggers write several tallies, they take them in lock order.
    for (table, event), fired in order.items():
        taken = [
            triggers.LOCK_ORDER.index(tally)
            for name in fired
            for tally in written_tallies(sources[name])
            if tally in triggers.LOCK_ORDER
        ]
        assert taken == sorted(taken), (table, event)


def test_sqlite_has_exactly_the_triggers_uat_triggers_states():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's triggers; PostgreSQL's are compared above.")
    found = {
        name: (table, tokens(sql))
        for name, table, sql in rows(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    stated = {trigger.name: (trigger.table, tokens(trigger.sql())) for trigger in triggers.SQLITE}
    assert sorted(found) == sorted(stated)
    for name, trigger in stated.items():
        assert found[name] == trigger, name


def imported_modules(path: Path, package: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
            if node.level == 0:
                base = node.module
            elif node.module:
                base = f"{base}.{node.module}"
            modules |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return modules


@pytest.mark.django_db(databases=[])
def test_no_migration_reads_the_current_triggers():
    """A migration that imported uat/triggers.py would change meaning with it."""
    migrations = [
        (path, f"{config.name}.migrations")
        for config in apps.get_app_configs()
        if config.path.startswith(str(Path(triggers.__file__).parents[1]))
        for path in sorted(Path(config.path, "migrations").glob("*.py"))
    ]
    assert any(path.name == "0008_defect_tally.py" for path, _ in migrations)
    for path, package in migrations:
        assert "uat.triggers" not in imported_modules(path, package), path
