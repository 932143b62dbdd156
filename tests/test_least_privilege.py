"""The least-privilege deployment of docs/deploy.md, end to end on PostgreSQL: migrate
as the role that owns the tables, `manage.py database_grant` the application's role,
then, connected as that role, the application works — and the role can neither switch
the records' triggers off nor get past them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent

# Run as the application's role: ordinary work through the services, then each way
# around the records' protection, with the error code PostgreSQL answers (or "done").
PROBE = """
import datetime as dt, json
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from accounts.models import Role
from reports.fingerprint import plan_fingerprint
from reports.signoffs import signoff_sign
from tests.factories import (
    PASSWORD, AcceptanceReportFactory, CaseFactory, CohortFactory, DefectFactory,
    ExecutionFactory, PlanFactory, PlanSignoffRoleFactory, UserFactory,
)
from uat import services

tester = UserFactory(roles=[Role.TESTER])
stakeholder = UserFactory(roles=[Role.STAKEHOLDER])
plan = PlanFactory()
plan.stakeholders.add(stakeholder)
plan.cohorts.add(CohortFactory(product=plan.release.product, members=[tester]))
case = CaseFactory(product=plan.release.product, steps=1)
plan.cases.add(case)
execution = ExecutionFactory(plan=plan, case=case, cohort=plan.cohorts.get(), tester=tester)
services.execution_step_record(execution=execution, position=1, status="passed", actor=tester)
execution = services.execution_record(execution=execution, actor=tester)
waiver = services.waiver_grant(
    defect=DefectFactory(release=plan.release), actor=stakeholder, reason="Known",
    expires_at=timezone.now() + dt.timedelta(days=3),
)
waiver = services.waiver_revoke(waiver=waiver, actor=stakeholder)
PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
signoff = signoff_sign(
    report=report, signer=stakeholder, role="business_owner", decision="approve",
    password=PASSWORD,
)
answers = {"work": [execution.status, waiver.revoked_at is not None, signoff.decision]}
for statement in (
    "ALTER TABLE uat_signoff DISABLE TRIGGER ALL",
    "ALTER TABLE uat_signoff DISABLE TRIGGER uat_signoff_append_only",
    "SET session_replication_role = replica",
    "TRUNCATE uat_signoff",
    "UPDATE uat_signoff SET comment = 'rewritten'",
    "DELETE FROM uat_signoff",
    "UPDATE reports_acceptancereport SET html = 'rewritten'",
    "DROP TABLE uat_event CASCADE",
):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
        answers[statement] = "done"
    except DatabaseError as error:
        answers[statement] = error.__cause__.pgcode
print(json.dumps(answers))
"""

INSUFFICIENT_PRIVILEGE, INTEGRITY = "42501", "23000"

# Real roles and a database of its own on the test server; CI runs it, as it runs the
# other integration tests (tests/conftest.py: require).
pytestmark = pytest.mark.integration


@pytest.fixture
def cluster():
    """A superuser's connection to the server the tests run on (roles are the
    server's), and the names this run's database and roles take."""
    require(connection.vendor == "postgresql", "PostgreSQL")
    settings = connection.settings_dict
    server = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
    }
    admin = psycopg2.connect(dbname="postgres", **server)
    admin.autocommit = True
    base = settings["NAME"].removeprefix("test_")
    names = {"owner": f"{base}_owner", "app": f"{base}_app", "db": f"{base}_least_privilege"}

    def clean():
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)')
            cursor.execute(f'DROP ROLE IF EXISTS "{names["owner"]}", "{names["app"]}"')

    clean()
    try:
        yield admin, server, names
    finally:
        clean()
        admin.close()


def manage(url: str, *args: str, returncode: int = 0) -> str:
    """Run manage.py connected to ``url``; its output (its errors, when it is to fail)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    assert result.returncode == returncode, result.stderr
    return result.stderr if returncode else result.stdout


def test_the_application_role_works_but_cannot_get_past_the_triggers(cluster):
    admin, server, names = cluster
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{names["owner"]}" LOGIN')
        cursor.execute(f'CREATE ROLE "{names["app"]}" LOGIN')
        cursor.execute(f'CREATE DATABASE "{names["db"]}" OWNER "{names["owner"]}"')
    where = f"{server['host']}:{server['port']}/{names['db']}"
    owner_url, app_url = (f"postgres://{names[role]}@{where}" for role in ("owner", "app"))

    manage(owner_url, "migrate", "--noinput", "--verbosity=0")
    # Not to the owner itself, nor to a superuser: either could switch triggers off.
    for role in (names["owner"], server["user"]):
        refused = manage(owner_url, "database_grant", role, returncode=1)
        assert "must connect as a role that does not own the tables" in refused
    manage(owner_url, "database_grant", names["app"])

    answers = json.loads(manage(app_url, "shell", "-c", PROBE).strip().splitlines()[-1])
    assert answers.pop("work") == ["passed", True, "approve"]
    assert answers == {
        "ALTER TABLE uat_signoff DISABLE TRIGGER ALL": INSUFFICIENT_PRIVILEGE,
        "ALTER TABLE uat_signoff DISABLE TRIGGER uat_signoff_append_only": (INSUFFICIENT_PRIVILEGE),
        "SET session_replication_role = replica": INSUFFICIENT_PRIVILEGE,
        "TRUNCATE uat_signoff": INSUFFICIENT_PRIVILEGE,
        "UPDATE uat_signoff SET comment = 'rewritten'": INTEGRITY,
        "DELETE FROM uat_signoff": INTEGRITY,
        "UPDATE reports_acceptancereport SET html = 'rewritten'": INTEGRITY,
        "DROP TABLE uat_event CASCADE": INSUFFICIENT_PRIVILEGE,
    }
