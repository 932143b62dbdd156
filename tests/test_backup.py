"""Backup and restore (docs/deploy.md): a pg_dump restored into a fresh database gives
the same reports, fingerprints and signatures, and the same decisions on them."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from reports.fingerprint import plan_fingerprint
from reports.signoffs import signoff_sign
from tests.conftest import require
from tests.factories import AcceptanceReportFactory, PlanFactory, PlanSignoffRoleFactory

ROOT = Path(__file__).resolve().parent.parent

# Printed by the restored database, to compare with the original.
SNAPSHOT = """
import json
from reports.fingerprint import plan_fingerprint
from reports.models import AcceptanceReport
from uat.models import Event
from reports.models import SignOff
print(json.dumps({
    "reports": [
        [str(r.uuid), r.status, r.decision, r.fingerprint,
         plan_fingerprint(r.plan) == r.fingerprint]
        for r in AcceptanceReport.objects.order_by("pk")
    ],
    "signoffs": [
        [s.printed_name, s.meaning, s.decision, s.fingerprint, s.signed_at.isoformat()]
        for s in SignOff.objects.order_by("pk")
    ],
    "events": Event.objects.count(),
}))
"""


def url_of(name: str) -> str:
    settings = connection.settings_dict
    host, port, user = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432, settings["USER"]
    return f"postgres://{user}@{host}:{port}/{name}"


# serialized_rollback: start from the migrated data (role groups) whatever ran before.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restored_dump_verifies_identically(stakeholder, password, tmp_path):
    require(connection.vendor == "postgresql", "PostgreSQL")
    require(bool(shutil.which("pg_dump") and shutil.which("pg_restore")), "pg_dump and pg_restore")
    plan = PlanFactory()
    PlanSignoffRoleFactory(plan=plan, signers=[stakeholder])
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
    )

    source = connection.settings_dict["NAME"]
    restored = f"{source}_restored"
    dump = tmp_path / "greenlight.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", url_of(source)], check=True)
    subprocess.run(
        ["dropdb", "--if-exists", restored, f"--maintenance-db={url_of('postgres')}"], check=True
    )
    subprocess.run(["createdb", restored, f"--maintenance-db={url_of('postgres')}"], check=True)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={url_of(restored)}", str(dump)], check=True
        )

        def snapshot(name: str) -> dict:
            env = {**os.environ, "DATABASE_URL": url_of(name)}
            result = subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", SNAPSHOT],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            return json.loads(result.stdout.strip().splitlines()[-1])

        original, copy = snapshot(source), snapshot(restored)
        assert copy == original
        assert copy["reports"][0][4] is True  # the fingerprint still matches its data
        assert copy["signoffs"][0][1] == "Approved as Business Owner"
    finally:
        subprocess.run(
            ["dropdb", "--if-exists", restored, f"--maintenance-db={url_of('postgres')}"],
            check=True,
        )
