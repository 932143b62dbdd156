"""Every migration can be undone: the apps go back to their start and forward again, and
the schema they end with is the one the models describe. The data migrations of roles
and the append-only triggers of the audit trail each have their reverse; the role syncs
of accounts 0004 and 0005 reverse to nothing on purpose, since 0002's reverse removes
the roles they update."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module", autouse=True)
def _leave_the_database_as_found(django_db_setup, django_db_blocker):
    """Migrating back empties tables the later tests expect filled (the roles the
    migrations made): put the migrated rows back at the end."""
    yield
    with django_db_blocker.unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            connection.creation.deserialize_db_from_string(contents)


def applied(app: str) -> list[str]:
    executor = MigrationExecutor(connection)
    return sorted(name for label, name in executor.loader.applied_migrations if label == app)


def test_the_apps_migrate_back_to_their_start_and_forward_again():
    latest = {app: applied(app) for app in ("accounts", "uat", "reports")}
    assert {"reports_acceptancereport", "uat_plan"} <= set(connection.introspection.table_names())
    quiet = {"stdout": io.StringIO(), "verbosity": 0}
    # uat's first migration needs reports' first, and accounts' role migrations need
    # both: taking reports to zero undoes every migration of the three but accounts 0001.
    call_command("migrate", "reports", "zero", **quiet)
    assert applied("reports") == applied("uat") == []
    assert applied("accounts") == ["0001_initial"]
    tables = connection.introspection.table_names()
    assert "reports_acceptancereport" not in tables and "uat_plan" not in tables

    call_command("migrate", **quiet)
    assert {app: applied(app) for app in latest} == latest
    assert {"reports_acceptancereport", "uat_plan"} <= set(connection.introspection.table_names())
    # Forward again, the models and the migrations agree: nothing left to make.
    call_command("makemigrations", "--check", "--dry-run", **quiet)
