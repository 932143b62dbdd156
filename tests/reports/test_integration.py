"""The jobs end to end with the real parts: a Celery worker on the Redis broker builds the
report, the email reaches a real SMTP server on loopback with the PDF, and every job kind —
report builds, report emails, webhook deliveries to a receiver on loopback, evidence
packages — survives the broker being down (the sweep queues it once the broker is back)
and a worker killed in the middle (a restarted worker finishes it, once).

The worker is another process, so it must see the test's rows: the test commits them
(a transactional test) in PostgreSQL, which both processes share. On a laptop without
Redis or PostgreSQL the test skips; in CI (GREENLIGHT_REQUIRE_INTEGRATION) it must run.
"""

import asyncio
import contextlib
import email
import email.policy
import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from pypdf import PdfReader

from accounts.models import Role
from config.celery import app
from reports.evidence_packages import evidence_package_request
from reports.models import AcceptanceReport, EmailDelivery, EvidencePackage, WebhookDelivery
from reports.services import (
    QUEUE_DOWN,
    jobs_sweep,
    report_build,
    report_emails_enqueue,
    report_enqueue,
    report_request,
    reports_sweep,
)
from reports.webhooks import webhook_emit, webhook_signature, webhooks_enqueue
from tests.conftest import require
from tests.factories import UserFactory, WebhookFactory
from tests.reports.conftest import broker_connections_forget
from uat.models import Event

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
    """An aiosmtpd handler keeping every message it accepts. With ``hold`` set, the next
    message arrives in ``held`` and waits that many seconds for its answer; a sender that
    hangs up meanwhile never hears the 250, and its message goes to ``cut_off``."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.hold = 0
        self.held: list[email.message.EmailMessage] = []
        self.cut_off: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        hold, self.hold = self.hold, 0
        if hold:
            self.held.append(message)
            try:
                await asyncio.sleep(hold)
            except asyncio.CancelledError:  # aiosmtpd cancels the session on a hang-up
                self.cut_off.append(message)
                raise
        self.messages.append(message)
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
def start_worker(smtp_server, tmp_path):
    """Start a worker process with extra environment variables; each is stopped at the end."""
    controller, _ = smtp_server
    started = []

    def start(**extra_env) -> tuple[subprocess.Popen, Path]:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(controller.port),
            "MEDIA_ROOT": str(tmp_path / "worker-media"),
            "DB_CONN_MAX_AGE": "0",
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the loopback receiver
            **extra_env,
        }
        path = tmp_path / f"worker-{len(started) + 1}.log"
        log = path.open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
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
        started.append((process, log))
        return process, path

    yield start
    for process, log in started:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def worker(start_worker):
    return start_worker()


@pytest.fixture
def broker():
    """Send this process's tasks to Redis instead of running them in-process."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    broker_connections_forget()  # eager tasks before this one may have pooled the old broker
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    yield
    app.conf.update(saved)
    broker_connections_forget()


@contextlib.contextmanager
def broker_down():
    """Send this process's tasks to a Redis that is not there, as when the broker is down."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=f"redis://127.0.0.1:{free_port()}/0", task_always_eager=False)
    broker_connections_forget()
    try:
        yield
    finally:
        app.conf.update(saved)
        broker_connections_forget()


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=15) == -signal.SIGKILL


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


def test_a_worker_killed_mid_build_leaves_a_report_a_restarted_worker_finishes_once(
    real_parts, request, plan, lead, stakeholder, smtp_server, start_worker, settings
):
    sponsor = UserFactory(email="sponsor@example.com", roles=[Role.STAKEHOLDER])
    plan.stakeholders.add(sponsor)
    request.getfixturevalue("broker")
    _, inbox = smtp_server
    # The first worker claims the report, then waits: "the middle" of its build.
    first, first_log = start_worker(REPORT_BUILD_DELAY_SECONDS="120")
    report, _ = report_request(plan=plan, actor=lead)

    def running():
        report.refresh_from_db()
        return report.status == AcceptanceReport.Status.RUNNING

    wait_for(running, "the first worker to claim the report", first_log)
    kill(first)
    report.refresh_from_db()
    assert report.status == AcceptanceReport.Status.RUNNING and not inbox.messages

    # After the restart two roads lead back to the report: Redis hands the dead worker's
    # unacknowledged task to the new worker once the visibility timeout passes, and the
    # sweeper (beat, every minute) queues the report again once its claim is older than
    # REPORT_RECLAIM_AFTER_SECONDS. Whichever comes first builds it; the other finds it
    # built. Both are set low here so the test takes seconds, not an hour. Redis only
    # restores a task at times of its own choosing, so the sweep below must queue the
    # report for certain: it was queued seconds ago, sooner than the sweeper's
    # REPORT_SWEEP_AFTER_SECONDS (120 s) would otherwise allow.
    second, second_log = start_worker(
        REPORT_RECLAIM_AFTER_SECONDS="2", CELERY_VISIBILITY_TIMEOUT="2"
    )
    settings.REPORT_RECLAIM_AFTER_SECONDS = 2
    settings.REPORT_SWEEP_AFTER_SECONDS = 2
    time.sleep(2.5)
    reports_sweep()  # 0 when the restored task has built it already

    def ready():
        report.refresh_from_db()
        assert second.poll() is None, second_log.read_text()
        assert report.status != AcceptanceReport.Status.FAILED, report.error
        return report.status == AcceptanceReport.Status.READY

    wait_for(ready, "the restarted worker to build the report", second_log)
    wait_for(lambda: len(inbox.messages) >= 2, "the emails", second_log)
    wait_for(
        lambda: EmailDelivery.objects.filter(report=report, status="sent").count() == 2,
        "the delivery records",
        second_log,
    )
    time.sleep(3)  # room for a second, duplicate build or email to show up, if any did
    assert sorted(m["To"] for m in inbox.messages) == [stakeholder.email, sponsor.email]
    deliveries = EmailDelivery.objects.filter(report=report)
    assert sorted(deliveries.values_list("recipient", "status", "attempts")) == [
        (stakeholder.email, "sent", 1),
        (sponsor.email, "sent", 1),
    ]
    assert AcceptanceReport.objects.filter(plan=plan).count() == 1


def test_emails_the_broker_could_not_take_are_sent_once_by_a_worker_after_the_sweep(
    real_parts, request, plan, lead, stakeholder, smtp_server, start_worker, settings
):
    sponsor = UserFactory(email="sponsor@example.com", roles=[Role.STAKEHOLDER])
    plan.stakeholders.add(sponsor)
    _, inbox = smtp_server
    # A report built while the broker is down: its emails cannot be queued.
    with broker_down():
        report = AcceptanceReport.objects.create(plan=plan, fingerprint="x", requested_by=lead)
        report = report_build(report_id=report.pk)
    assert (report.status, report.emails) == ("ready", "wanted")

    # The broker is back; the sweeper queues the emails, twice over (two beats close
    # together, a task lost and found): each recipient still gets one email.
    request.getfixturevalue("broker")
    worker, log = start_worker(MEDIA_ROOT=str(settings.MEDIA_ROOT))  # the PDF built here
    settings.REPORT_SWEEP_AFTER_SECONDS = 0
    assert jobs_sweep()["emails"] == 1
    assert report_emails_enqueue(report=report)
    wait_for(lambda: len(inbox.messages) >= 2, "the emails", log)
    wait_for(
        lambda: AcceptanceReport.objects.filter(pk=report.pk, emails="done").exists(),
        "the emails to be marked done",
        log,
    )
    time.sleep(3)  # room for a duplicate email to show up, if any did
    assert worker.poll() is None, log.read_text()
    assert sorted(m["To"] for m in inbox.messages) == [stakeholder.email, sponsor.email]
    assert sorted(
        EmailDelivery.objects.filter(report=report).values_list("recipient", "status", "attempts")
    ) == [(stakeholder.email, "sent", 1), (sponsor.email, "sent", 1)]
    assert jobs_sweep()["emails"] == 0


def test_a_worker_killed_mid_build_leaves_a_package_the_sweep_and_a_restarted_worker_finish_once(
    real_parts, request, plan, lead, start_worker, settings, tmp_path
):
    request.getfixturevalue("broker")
    # The first worker claims the package, then waits: "the middle" of its build.
    first, first_log = start_worker(REPORT_BUILD_DELAY_SECONDS="120")
    package, created = evidence_package_request(release=plan.release, actor=lead)
    assert created

    def running():
        package.refresh_from_db()
        return package.status == "running"

    wait_for(running, "the first worker to claim the package", first_log)
    kill(first)
    package.refresh_from_db()
    assert package.status == "running" and not package.file

    # As for a report: Redis restores the dead worker's task after the visibility timeout,
    # and the sweeper queues the package again once its claim is older than the reclaim
    # age; whichever comes first builds it, the other finds it claimed or built. Both are
    # set low so the test takes seconds; the sweep must queue it for certain (see above).
    second, second_log = start_worker(
        EVIDENCE_PACKAGE_RECLAIM_AFTER_SECONDS="2", CELERY_VISIBILITY_TIMEOUT="2"
    )
    settings.EVIDENCE_PACKAGE_RECLAIM_AFTER_SECONDS = 2
    settings.REPORT_SWEEP_AFTER_SECONDS = 2
    time.sleep(2.5)
    jobs_sweep()  # evidence_packages is 0 when the restored task has claimed it already

    def ready():
        package.refresh_from_db()
        assert second.poll() is None, second_log.read_text()
        assert package.status != "failed", package.error
        return package.status == "ready"

    wait_for(ready, "the restarted worker to build the package", second_log)
    time.sleep(3)  # room for a second, duplicate build to show up, if any did
    zips = list((tmp_path / "worker-media" / "evidence-packages").iterdir())
    assert len(zips) == 1, zips  # built once
    assert zips[0].name == package.file.name.rsplit("/", 1)[-1]
    assert hashlib.sha256(zips[0].read_bytes()).hexdigest() == package.sha256
    assert EvidencePackage.objects.filter(release=plan.release).count() == 1
    assert jobs_sweep()["evidence_packages"] == 0


def test_a_report_asked_while_the_broker_is_down_is_built_once_by_a_worker_after_the_sweep(
    real_parts, request, plan, lead, stakeholder, smtp_server, start_worker, settings, tmp_path
):
    _, inbox = smtp_server
    with broker_down():
        report, created = report_request(plan=plan, actor=lead)
    assert created
    report.refresh_from_db()
    assert (report.status, report.error, report.queued_at) == ("pending", QUEUE_DOWN, None)

    # The broker is back; the sweeper queues the report, and a second task for it is
    # on the queue too (two beats close together) before any worker takes them.
    request.getfixturevalue("broker")
    settings.REPORT_SWEEP_AFTER_SECONDS = 0
    assert jobs_sweep()["reports"] == 1
    assert report_enqueue(report=report)
    worker, log = start_worker()

    def ready():
        report.refresh_from_db()
        assert worker.poll() is None, log.read_text()
        assert report.status != AcceptanceReport.Status.FAILED, report.error
        return report.status == AcceptanceReport.Status.READY

    wait_for(ready, "the worker to build the report", log)
    assert report.error == ""  # the note went with the queueing
    [message] = wait_for(lambda: inbox.messages, "the email", log)
    assert message["To"] == stakeholder.email
    wait_for(
        lambda: AcceptanceReport.objects.filter(pk=report.pk, emails="done").exists(),
        "the emails to be marked done",
        log,
    )
    time.sleep(3)  # room for a second, duplicate build to show up, if any did
    pdfs = list((tmp_path / "worker-media" / "reports").iterdir())
    assert [p.name for p in pdfs] == [report.pdf.name.rsplit("/", 1)[-1]]  # built once
    assert Event.objects.for_object(report).filter(verb="report.ready").count() == 1
    assert len(inbox.messages) == 1
    assert AcceptanceReport.objects.filter(plan=plan).count() == 1
    assert jobs_sweep() == {"reports": 0, "emails": 0, "webhooks": 0, "evidence_packages": 0}


def test_a_worker_killed_mid_send_leaves_report_emails_a_restarted_worker_sends_once(
    real_parts, request, plan, lead, stakeholder, smtp_server, start_worker, settings
):
    sponsor = UserFactory(email="sponsor@example.com", roles=[Role.STAKEHOLDER])
    plan.stakeholders.add(sponsor)
    request.getfixturevalue("broker")
    _, inbox = smtp_server
    # The SMTP server holds its answer to the first message: the worker is mid-send.
    inbox.hold = 120
    first, first_log = start_worker()
    report, _ = report_request(plan=plan, actor=lead)
    [held] = wait_for(lambda: inbox.held, "the first email to reach the server", first_log)
    kill(first)
    assert wait_for(lambda: inbox.cut_off, "the server to see the hang-up", first_log) == [held]
    assert not inbox.messages

    # The send ran in a transaction holding the delivery's row; PostgreSQL rolls it back
    # once the dead worker's connection drops, leaving the delivery pending, unattempted.
    def released():
        with transaction.atomic():
            rows = EmailDelivery.objects.select_for_update(skip_locked=True)
            return rows.filter(report=report, recipient=held["To"], status="pending").exists()

    wait_for(released, "the dead worker's claim on the email to be released", first_log)

    # As for a build: Redis restores the dead worker's task after the visibility timeout,
    # and the sweeper queues the emails again once not tried in REPORT_SWEEP_AFTER_SECONDS;
    # each delivery is claimed, so whichever comes second sends nothing.
    second, second_log = start_worker(CELERY_VISIBILITY_TIMEOUT="2")
    settings.REPORT_SWEEP_AFTER_SECONDS = 2
    time.sleep(2.5)
    jobs_sweep()  # emails is 0 when the restored task is at them already
    wait_for(
        lambda: AcceptanceReport.objects.filter(pk=report.pk, emails="done").exists(),
        "the restarted worker to send the emails",
        second_log,
    )
    time.sleep(3)  # room for a duplicate email to show up, if any did
    assert second.poll() is None, second_log.read_text()
    # Each recipient's email was accepted once; the copy cut off mid-send never was.
    assert sorted(m["To"] for m in inbox.messages) == [stakeholder.email, sponsor.email]
    assert sorted(
        EmailDelivery.objects.filter(report=report).values_list("recipient", "status", "attempts")
    ) == [(stakeholder.email, "sent", 1), (sponsor.email, "sent", 1)]
    assert jobs_sweep()["emails"] == 0


def test_webhook_deliveries_the_broker_could_not_take_are_made_once_by_a_worker_after_the_sweep(
    real_parts, request, plan, receiver, start_worker, settings
):
    product = plan.release.product
    hook = WebhookFactory(url=receiver.url, product=product)
    with broker_down():
        [delivery] = webhook_emit(topic="gate.changed", payload={"plan": plan.pk}, product=product)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.queued_at, delivery.attempts) == ("pending", None, 0)

    # The broker is back; the sweeper queues the delivery, and a second task for the same
    # attempt is on the queue too before any worker takes them.
    request.getfixturevalue("broker")
    settings.REPORT_SWEEP_AFTER_SECONDS = 0
    assert jobs_sweep()["webhooks"] == 1
    assert webhooks_enqueue(deliveries=[delivery]) == 1
    worker, log = start_worker()
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="sent").exists(),
        "the worker to deliver the webhook",
        log,
    )
    time.sleep(3)  # room for a duplicate POST to show up, if any did
    assert worker.poll() is None, log.read_text()
    [posted] = receiver.received
    assert posted["headers"]["X-Greenlight-Delivery"] == str(delivery.event_id)
    signature = webhook_signature(hook.secret, posted["body"])
    assert posted["headers"]["X-Greenlight-Signature"] == signature
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_status) == (1, 200)
    assert jobs_sweep()["webhooks"] == 0


def test_a_worker_killed_mid_attempt_leaves_a_webhook_delivery_the_sweep_makes_once(
    real_parts, request, plan, receiver, start_worker, settings
):
    product = plan.release.product
    WebhookFactory(url=receiver.url, product=product)
    request.getfixturevalue("broker")
    # The receiver holds its answer to the first POST: the worker is mid-attempt.
    receiver.holds = [120, 0]
    first, first_log = start_worker()
    [delivery] = webhook_emit(topic="gate.changed", payload={"plan": plan.pk}, product=product)
    wait_for(lambda: receiver.received, "the first attempt to reach the receiver", first_log)
    kill(first)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)  # attempt 0 was claimed

    # Redis restores the dead worker's task (attempt 0) after the visibility timeout; it
    # finds that attempt made and does nothing. The sweeper queues the next attempt once
    # the delivery was not tried in REPORT_SWEEP_AFTER_SECONDS, and it is made once.
    second, second_log = start_worker(CELERY_VISIBILITY_TIMEOUT="2")
    settings.REPORT_SWEEP_AFTER_SECONDS = 2
    time.sleep(2.5)
    assert jobs_sweep()["webhooks"] == 1
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="sent").exists(),
        "the restarted worker to deliver the webhook",
        second_log,
    )
    time.sleep(3)  # room for a duplicate POST to show up, if any did
    assert second.poll() is None, second_log.read_text()
    # The receiver saw the cut-off attempt and the one answered, with the same event id
    # and body, so it can drop the first should it have acted on it.
    cut_off, answered = receiver.received
    assert (cut_off["answered"], answered["answered"]) == (False, True)
    assert cut_off["body"] == answered["body"]
    ids = {r["headers"]["X-Greenlight-Delivery"] for r in receiver.received}
    assert ids == {str(delivery.event_id)}
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_status) == (2, 200)
    assert jobs_sweep()["webhooks"] == 0
