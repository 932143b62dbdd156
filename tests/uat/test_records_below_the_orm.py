"""On PostgreSQL the database itself refuses raw SQL that would rewrite a record
(uat/triggers.py): audit events, sign-offs and promotions take no UPDATE, DELETE or
TRUNCATE; a waiver takes only its revocation; a signed report keeps what was signed."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests.factories import (
    AcceptanceReportFactory,
    EventFactory,
    PromotionFactory,
    SignOffFactory,
    WaiverFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("Database-level protection is PostgreSQL's; SQLite relies on the models.")


def refused(statement: str, params=(), match: str | None = None) -> None:
    with (
        pytest.raises(IntegrityError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def truncate_refused(table: str) -> None:
    with (
        pytest.raises(IntegrityError, match="cannot be truncated"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # The test's rows are still pending their foreign-key checks, which would stop
        # the TRUNCATE before its triggers: run the checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {table} CASCADE")


def run(statement: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


@pytest.mark.parametrize("factory", [EventFactory, SignOffFactory, PromotionFactory])
def test_records_refuse_update_delete_and_truncate(factory):
    row = factory()
    table = row._meta.db_table
    refused(f"UPDATE {table} SET id = id WHERE id = %s", [row.pk], "append-only")
    refused(f"DELETE FROM {table} WHERE id = %s", [row.pk], "append-only")
    truncate_refused(table)
    assert run(f"SELECT 1 FROM {table} WHERE id = %s", [row.pk]) == 1


def test_a_waiver_takes_its_revocation_and_nothing_else():
    waiver = WaiverFactory()
    reason = waiver.reason
    later = timezone.now() + dt.timedelta(days=90)
    for statement, params in (
        ("UPDATE uat_waiver SET reason = 'rewritten' WHERE id = %s", [waiver.pk]),
        ("UPDATE uat_waiver SET expires_at = %s WHERE id = %s", [later, waiver.pk]),
        (
            "UPDATE uat_waiver SET revoked_at = now(), reason = 'rewritten' WHERE id = %s",
            [waiver.pk],
        ),
        ("DELETE FROM uat_waiver WHERE id = %s", [waiver.pk]),
    ):
        refused(statement, params, "only revoking an active waiver")
    truncate_refused("uat_waiver")

    # The revocation (what waiver_revoke writes) is taken, once.
    assert run("UPDATE uat_waiver SET revoked_at = now() WHERE id = %s", [waiver.pk]) == 1
    refused("UPDATE uat_waiver SET revoked_at = now() WHERE id = %s", [waiver.pk])
    refused("UPDATE uat_waiver SET revoked_at = NULL WHERE id = %s", [waiver.pk])
    waiver.refresh_from_db()
    assert waiver.revoked_at is not None and waiver.reason == reason


def test_an_expired_waiver_cannot_be_revoked_afterwards():
    waiver = WaiverFactory(expired=True)
    refused(
        "UPDATE uat_waiver SET revoked_at = now() WHERE id = %s",
        [waiver.pk],
        "only revoking an active waiver",
    )


def test_a_signed_report_keeps_what_was_signed():
    report = AcceptanceReportFactory(ready=True, html="<p>as built</p>")
    # Unsigned, a report is the build's to write (and may go).
    assert run("UPDATE reports_acceptancereport SET html = '<p>x</p>' WHERE id = %s", [report.pk])
    SignOffFactory(report=report)
    for change in (
        "html = '<p>rewritten</p>'",
        "fingerprint = repeat('0', 64)",
        "metrics = '{\"passed\": 0}'::jsonb",
        "criteria = '[{}]'::jsonb",
        "decision = 'no-go'",
        "status = 'failed'",
        "pdf = 'reports/other.pdf'",
    ):
        refused(
            f"UPDATE reports_acceptancereport SET {change} WHERE id = %s",
            [report.pk],
            "is signed",
        )
    refused("DELETE FROM reports_acceptancereport WHERE id = %s", [report.pk], "is signed")
    truncate_refused("reports_acceptancereport")
    # Its emails still go out: the markers move.
    assert run(
        "UPDATE reports_acceptancereport SET emails = 'done', emails_queued_at = now() "
        "WHERE id = %s",
        [report.pk],
    )
    report.refresh_from_db()
    assert (report.html, report.emails) == ("<p>x</p>", "done")


def test_an_unsigned_report_may_be_deleted_while_a_signed_one_stays():
    signed = SignOffFactory().report
    unsigned = AcceptanceReportFactory(ready=True)
    assert run("DELETE FROM reports_acceptancereport WHERE id = %s", [unsigned.pk]) == 1
    refused("DELETE FROM reports_acceptancereport WHERE id = %s", [signed.pk], "is signed")
