"""The report job end to end with the real parts: a Celery worker on the Redis broker
builds the report, and the email reaches a real SMTP server on loopback with the PDF.

The worker is another process, so it must see the test's rows: the test commits them
(a transactional test) in PostgreSQL, which both processes share. On a laptop without
Redis or PostgreSQL the test skips; in CI (GREENLIGHT_REQUIRE_INTEGRATION) it must run.
"""

import email
import email.policy
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from pypdf import PdfReader

from reports.models import AcceptanceReport, EmailDelivery
from reports.services import report_request
from tests.conftest import require
from uat.celery import app

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
DEADLINE = 90  # seconds for the worker to start, build and mail

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(scope="module", autouse=True)
def _leave_the_database_as_found(django_db_setup, django_db_blocker):
    """A transactional test ends by emptying every table, the roles the migrations made
    included; tests that run after it expect them. Put the migrated rows back."""
    yield
    with django_db_blocker.unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            connection.creation.deserialize_db_from_string(contents)


def redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(smtp_server, tmp_path):
    controller, _ = smtp_server
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(controller.port),
        "MEDIA_ROOT": str(tmp_path / "worker-media"),
        "DB_CONN_MAX_AGE": "0",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "uat",
            "worker",
            "--pool=solo",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process, tmp_path / "worker.log"
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


@pytest.fixture
def broker():
    """Send this process's tasks to Redis instead of running them in-process."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    _forget_connections()  # eager tasks before this one may have pooled the old broker
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    yield
    app.conf.update(saved)
    _forget_connections()


def _forget_connections() -> None:
    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(condition, what: str, log: Path):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.5)
    pytest.fail(f"Timed out waiting for {what}. Worker log:\n{log.read_text()[-4000:]}")


@pytest.fixture
def real_parts():
    require(redis_answers(), f"Redis at {REDIS_URL}")
    require(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")


def test_a_worker_builds_the_report_and_mails_it_with_the_pdf(
    real_parts, request, plan, lead, stakeholder, smtp_server
):
    request.getfixturevalue("broker")
    process, log = request.getfixturevalue("worker")
    _, inbox = smtp_server

    report, created = report_request(plan=plan, actor=lead)
    assert created

    def ready():
        report.refresh_from_db()
        assert process.poll() is None, log.read_text()
        assert report.status != AcceptanceReport.Status.FAILED, report.error
        return report.status == AcceptanceReport.Status.READY

    wait_for(ready, "the report", log)
    assert report.decision == "no-go"
    [message] = wait_for(lambda: inbox.messages, "the email", log)
    assert message["To"] == stakeholder.email
    assert message["Subject"].startswith("No-go: acceptance report")
    assert f"/reports/{report.uuid}/" in message.get_body(("plain",)).get_content()
    assert "Review and sign" in message.get_body(("html",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf = PdfReader(io.BytesIO(attachment.get_content()))
    assert len(pdf.pages) >= 1
    assert "Acceptance report" in pdf.pages[0].extract_text()
    delivery = wait_for(
        lambda: EmailDelivery.objects.filter(report=report, status="sent").first(),
        "the delivery record",
        log,
    )
    assert delivery.recipient == stakeholder.email and delivery.attempts == 1
