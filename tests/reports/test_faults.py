"""Background jobs survive faults: a broker that is down when a job is queued, a job left
behind by a dead worker, and work whose transaction rolled back (which must send nothing).
Every kind of job — report builds, report emails, webhook deliveries, evidence packages —
goes through one mechanism (reports/jobs.py) and is tested here against each fault.

The worker killed in the middle of a build is in test_integration.py, with real parts."""

import datetime as dt
import logging
import smtplib
import socket

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app
from reports import evidence_packages as evidence
from reports import services
from reports.evidence_packages import evidence_package_build_now, evidence_package_request
from reports.models import AcceptanceReport, EmailDelivery, EvidencePackage, WebhookDelivery
from reports.services import (
    QUEUE_DOWN,
    jobs_sweep,
    report_build,
    report_emails_enqueue,
    report_emails_sweep,
    report_request,
    reports_sweep,
)
from reports.webhooks import SKIPPED, webhook_attempt, webhook_emit
from tests.factories import UserFactory, WebhookDeliveryFactory, WebhookFactory
from tests.reports.conftest import broker_connections_forget
from uat.models import Event


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker_down():
    """Send tasks to a Redis that is not there, as when the broker is down."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=f"redis://127.0.0.1:{closed_port()}/0", task_always_eager=False)
    broker_connections_forget()
    yield
    app.conf.update(saved)
    broker_connections_forget()


def backdate(report: AcceptanceReport, seconds: int, **fields) -> None:
    then = timezone.now() - dt.timedelta(seconds=seconds)
    AcceptanceReport.objects.filter(pk=report.pk).update(created_at=then, **fields)


def test_asking_while_the_broker_is_down_saves_the_report_and_says_so(
    broker_down, plan, lead, client, caplog, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with (
        caplog.at_level(logging.ERROR, logger="reports.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("reports:report_request", args=[plan.pk]))
    assert response.status_code == 302
    report = AcceptanceReport.objects.get()
    assert (report.status, report.error) == ("pending", QUEUE_DOWN)
    assert any("Could not queue acceptance report" in r.message for r in caplog.records)
    page = client.get(response.url)
    assert QUEUE_DOWN in page.content.decode()


def test_the_sweeper_builds_a_report_left_pending_once_the_broker_is_back(
    broker_down, plan, lead, stakeholder, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    assert report.status == "pending"
    app.conf.update(task_always_eager=True)  # the broker is back (eager stands in for it)
    assert reports_sweep() == 0  # too young: its task may still be on its way
    backdate(report, settings.REPORT_SWEEP_AFTER_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert reports_sweep() == 1
    report.refresh_from_db()
    assert (report.status, report.error) == ("ready", "")
    assert [m.to for m in mail.outbox] == [[stakeholder.email]]
    assert reports_sweep() == 0  # nothing left behind


def test_the_sweeper_rebuilds_a_report_whose_worker_died_but_not_one_being_built(
    plan, lead, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_RECLAIM_AFTER_SECONDS = 60
    report = AcceptanceReport.objects.create(plan=plan, fingerprint="x", requested_by=lead)
    busy = timezone.now() - dt.timedelta(seconds=30)
    AcceptanceReport.objects.filter(pk=report.pk).update(status="running", started_at=busy)
    assert reports_sweep() == 0
    assert report_build(report_id=report.pk).status == "running"  # its worker owns it
    dead = timezone.now() - dt.timedelta(seconds=61)
    AcceptanceReport.objects.filter(pk=report.pk).update(started_at=dead)
    with django_capture_on_commit_callbacks(execute=True):
        assert reports_sweep() == 1
    report.refresh_from_db()
    assert report.status == "ready"


def test_the_sweeper_runs_every_minute_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["report-sweeper"]
    assert entry["task"] == "reports.tasks.reports_sweep_task"
    assert entry["schedule"].minute == set(range(60))


def test_reclaim_defaults_to_the_task_time_limit_and_the_build_never_waits(settings):
    assert settings.REPORT_RECLAIM_AFTER_SECONDS == settings.CELERY_TASK_TIME_LIMIT
    assert settings.REPORT_BUILD_DELAY_SECONDS == 0


class Undone(Exception):
    pass


def test_a_request_rolled_back_queues_nothing(plan, lead, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Undone),
        transaction.atomic(),
    ):
        report_request(plan=plan, actor=lead)
        raise Undone
    assert callbacks == []
    assert not AcceptanceReport.objects.exists()


def test_a_build_rolled_back_sends_no_email_webhook_or_task(
    plan, lead, monkeypatch, django_capture_on_commit_callbacks
):
    WebhookFactory(product=plan.release.product, url="http://127.0.0.1:9/hook")
    report = AcceptanceReport.objects.create(
        plan=plan, fingerprint="x", requested_by=lead, status="running"
    )

    def fail_after_the_webhook(**kwargs):
        raise Undone

    monkeypatch.setattr(services, "gate_refresh", fail_after_the_webhook)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Undone),
        transaction.atomic(),
    ):
        services._build(AcceptanceReport.objects.get(pk=report.pk))
    assert callbacks == []
    assert not WebhookDelivery.objects.exists()
    assert not EmailDelivery.objects.exists()
    assert mail.outbox == []


# ---------------------------------------------------------------------------- the sweeper's
# markers: a report remembers when its build and its emails were last queued, so the
# sweeper finds work whose task was lost without sending anything twice or flooding the
# queue while workers are merely slow.


class SlowQueue:
    """A broker that takes every task (unless ``down``), with no worker getting to any:
    ``queued`` lists the ids queued, per task."""

    def __init__(self):
        self.down = False
        self.queued = {"build": [], "emails": []}

    def taker(self, name: str):
        def delay(report_id: int) -> None:
            if self.down:
                raise OperationalError("Error 111 connecting to 127.0.0.1:9. Connection refused.")
            self.queued[name].append(report_id)

        return delay


@pytest.fixture
def slow_queue(monkeypatch):
    from reports import tasks

    queue = SlowQueue()
    monkeypatch.setattr(tasks.report_build_task, "delay", queue.taker("build"))
    monkeypatch.setattr(tasks.report_emails_task, "delay", queue.taker("emails"))
    return queue


def test_a_pending_report_is_queued_again_only_when_its_last_queueing_is_old(
    plan, lead, slow_queue, settings, django_capture_on_commit_callbacks
):
    slow_queue.down = True
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    report.refresh_from_db()
    assert (report.queued_at, report.error) == (None, QUEUE_DOWN)
    slow_queue.down = False
    backdate(report, settings.REPORT_SWEEP_AFTER_SECONDS + 1)
    assert reports_sweep() == 1  # never queued: queued now
    report.refresh_from_db()
    assert report.queued_at is not None and report.error == ""  # the QA lead's note is gone
    # Queued just now and still pending: the workers are slow, the task is not lost.
    assert reports_sweep() == 0
    assert reports_sweep() == 0
    assert slow_queue.queued["build"] == [report.pk]
    old = timezone.now() - dt.timedelta(seconds=settings.REPORT_SWEEP_AFTER_SECONDS + 1)
    AcceptanceReport.objects.filter(pk=report.pk).update(queued_at=old)
    assert reports_sweep() == 1
    assert slow_queue.queued["build"] == [report.pk, report.pk]


def test_a_report_queued_when_asked_for_is_left_alone_until_its_queueing_is_old(
    plan, lead, slow_queue, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    backdate(report, settings.REPORT_SWEEP_AFTER_SECONDS + 1)  # old, but queued lately
    assert reports_sweep() == 0
    assert slow_queue.queued["build"] == [report.pk]


def built(plan, lead, capture, *, queue_emails: bool = True) -> AcceptanceReport:
    """A report built by a worker, which queues its emails after commit (or whose task
    for them is lost before it was queued, unless ``queue_emails``)."""
    report = AcceptanceReport.objects.create(plan=plan, fingerprint="x", requested_by=lead)
    with capture(execute=queue_emails):
        report = report_build(report_id=report.pk)
    assert report.status == "ready"
    return report


def finished_long_ago(report: AcceptanceReport, settings) -> None:
    then = timezone.now() - dt.timedelta(seconds=settings.REPORT_SWEEP_AFTER_SECONDS + 1)
    AcceptanceReport.objects.filter(pk=report.pk).update(finished_at=then)


def test_emails_not_queued_while_the_broker_was_down_are_sent_once_by_the_sweeper(
    broker_down, plan, lead, stakeholder, settings, caplog, django_capture_on_commit_callbacks
):
    sponsor = UserFactory(email="sponsor@example.com")
    plan.stakeholders.add(sponsor)
    with caplog.at_level(logging.ERROR, logger="reports.services"):
        report = built(plan, lead, django_capture_on_commit_callbacks)
    assert (report.emails, report.emails_queued_at) == ("wanted", None)
    assert any("Could not queue the emails" in r.message for r in caplog.records)
    assert mail.outbox == [] and not EmailDelivery.objects.exists()
    app.conf.update(task_always_eager=True)  # the broker is back
    assert jobs_sweep()["emails"] == 0  # just built: its task may be on its way
    finished_long_ago(report, settings)
    with caplog.at_level(logging.WARNING, logger="reports.services"):
        assert jobs_sweep() == {"reports": 0, "emails": 1, "webhooks": 0, "evidence_packages": 0}
    assert "The sweeper queued again 1 report email job(s)" in caplog.text
    assert sorted(m.to[0] for m in mail.outbox) == [stakeholder.email, sponsor.email]
    report.refresh_from_db()
    assert report.emails == "done"
    assert jobs_sweep()["emails"] == 0
    assert len(mail.outbox) == 2


def test_a_lost_email_task_is_queued_again_and_nobody_gets_an_email_twice(
    plan, lead, stakeholder, settings, django_capture_on_commit_callbacks
):
    sponsor = UserFactory(email="sponsor@example.com")
    plan.stakeholders.add(sponsor)
    report = built(plan, lead, django_capture_on_commit_callbacks, queue_emails=False)
    # The lost task had mailed the stakeholder before its worker died.
    EmailDelivery.objects.create(
        kind="report", key=str(report.uuid), recipient=stakeholder.email, report=report,
        status="sent", attempts=1,
    )  # fmt: skip
    now = timezone.now()
    AcceptanceReport.objects.filter(pk=report.pk).update(emails="queued", emails_queued_at=now)
    finished_long_ago(report, settings)
    assert report_emails_sweep() == 0  # queued just now
    later = now + dt.timedelta(minutes=8)  # a retry waiting for its backoff
    AcceptanceReport.objects.filter(pk=report.pk).update(emails_queued_at=later)
    assert report_emails_sweep() == 0
    lost = now - dt.timedelta(seconds=settings.REPORT_SWEEP_AFTER_SECONDS + 1)
    AcceptanceReport.objects.filter(pk=report.pk).update(emails_queued_at=lost)
    assert report_emails_sweep() == 1
    assert [m.to for m in mail.outbox] == [[sponsor.email]]
    assert EmailDelivery.objects.filter(report=report, status="sent").count() == 2
    report.refresh_from_db()
    assert report.emails == "done"


def test_emails_outstanding_for_a_day_are_given_up_instead_of_queued_again_forever(
    plan, lead, stakeholder, client, settings, caplog, django_capture_on_commit_callbacks
):
    # An email job that fails on every run (a bug, say) leaves its report's emails
    # queued; the sweeper would queue it again every few minutes, forever.
    report = built(plan, lead, django_capture_on_commit_callbacks, queue_emails=False)
    key = {"kind": "report", "key": str(report.uuid), "report": report}
    EmailDelivery.objects.create(
        recipient=stakeholder.email, attempts=2, last_error="SMTPServerDisconnected: down", **key
    )
    EmailDelivery.objects.create(recipient="sponsor@example.com", **key)
    EmailDelivery.objects.create(recipient="done@example.com", status="sent", attempts=1, **key)
    day = dt.timedelta(seconds=settings.REPORT_EMAILS_GIVE_UP_AFTER_SECONDS)
    AcceptanceReport.objects.filter(pk=report.pk).update(
        emails="queued", emails_queued_at=timezone.now() - day, finished_at=timezone.now() - day
    )
    with caplog.at_level(logging.ERROR, logger="reports.services"):
        assert report_emails_sweep() == 0
    assert f"Gave up on the emails of acceptance report {report.uuid}" in caplog.text
    deliveries = {d.recipient: d for d in EmailDelivery.objects.filter(report=report)}
    assert {r: d.status for r, d in deliveries.items()} == {
        stakeholder.email: "failed",
        "sponsor@example.com": "failed",
        "done@example.com": "sent",
    }
    assert deliveries[stakeholder.email].last_error == "SMTPServerDisconnected: down"
    assert deliveries["sponsor@example.com"].last_error == services.GAVE_UP
    report.refresh_from_db()
    assert report.emails == "done"
    assert report_emails_sweep() == 0 and mail.outbox == []
    # QA leads see the given-up emails on the dashboard, with why.
    client.force_login(lead)
    page = client.get(reverse("reports:dashboard", args=[plan.pk])).text
    assert f"to sponsor@example.com: {services.GAVE_UP}" in page.replace("&#x27;", "'")
    assert f"to {stakeholder.email} after 2 attempts: SMTPServerDisconnected" in page


def test_an_email_retry_tells_the_sweeper_when_it_is_due_and_giving_up_is_done(
    plan, lead, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from reports import emails, tasks

    def smtp_down(**kwargs):
        raise smtplib.SMTPServerDisconnected("down")

    monkeypatch.setattr(emails, "email_send", smtp_down)
    report = built(plan, lead, django_capture_on_commit_callbacks, queue_emails=False)
    with pytest.raises(Retry):  # queued (eagerly): the first try fails
        report_emails_enqueue(report=report)
    before = timezone.now()
    with pytest.raises(Retry):
        tasks.report_emails_task.apply(args=[report.pk], retries=3, throw=True)
    report.refresh_from_db()
    backoff = dt.timedelta(seconds=8 * settings.EMAIL_RETRY_DELAY)
    assert report.emails == "queued" and report.emails_queued_at >= before + backoff
    lost = timezone.now() - dt.timedelta(seconds=settings.REPORT_SWEEP_AFTER_SECONDS + 1)
    AcceptanceReport.objects.filter(pk=report.pk).update(finished_at=lost)
    assert report_emails_sweep() == 0  # the retry is not due yet
    tasks.report_emails_task.apply(args=[report.pk], retries=tasks.MAIL_RETRIES)
    report.refresh_from_db()
    assert report.emails == "done"
    assert EmailDelivery.objects.get(report=report).status == "failed"


@pytest.fixture(scope="module")
def _leave_the_database_as_found(django_db_setup, django_db_blocker):
    """A transactional test ends by emptying every table, the roles the migrations made
    included; tests that run after it expect them. Put the migrated rows back."""
    yield
    with django_db_blocker.unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents:
            connection.creation.deserialize_db_from_string(contents)


# Committed for real, so the build is queued (and fails to be) when report_request's
# transaction commits, before the answer is written, as in production.
@pytest.mark.usefixtures("_leave_the_database_as_found")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_answer_to_a_request_says_the_report_waits_for_the_job_queue(
    broker_down, plan, lead, client
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(lead)
    response = api.post(f"/api/v1/plans/{plan.pk}/reports/")
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["error"]) == ("pending", QUEUE_DOWN)
    assert api.get(response.json()["url"]).json()["error"] == QUEUE_DOWN
    # On the page: the report panel says it, and no message claims it is being built.
    AcceptanceReport.objects.all().delete()
    client.force_login(lead)
    page = client.post(reverse("reports:report_request", args=[plan.pk]), follow=True)
    text = page.content.decode()
    assert QUEUE_DOWN in text and "is being built." not in text


# ---------------------------------------------------------------------------- every kind of
# job meets the same faults: the broker down when it is queued (saved and marked, then
# swept once the broker is back, done once), and a worker that died with the job claimed
# (reclaimed after the reclaim age and finished once), while one at work now is left alone.


def long_ago(settings) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.REPORT_SWEEP_AFTER_SECONDS + 1)


def test_a_report_whose_worker_died_is_built_once_and_mailed_once(
    plan, lead, stakeholder, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_RECLAIM_AFTER_SECONDS = 60
    report = AcceptanceReport.objects.create(plan=plan, fingerprint="x", requested_by=lead)
    dead = timezone.now() - dt.timedelta(seconds=61)
    AcceptanceReport.objects.filter(pk=report.pk).update(
        status="running", started_at=dead, queued_at=long_ago(settings)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_sweep()["reports"] == 1
        assert jobs_sweep()["reports"] == 0  # claimed again just now: its worker is alive
    assert report_build(report_id=report.pk).status == "ready"  # the lost task, redelivered
    assert Event.objects.filter(verb="report.ready").count() == 1
    assert [m.to for m in mail.outbox] == [[stakeholder.email]]


def test_a_webhook_emitted_while_the_broker_is_down_is_swept_and_delivered_once(
    broker_down, receiver, plan, settings, caplog, django_capture_on_commit_callbacks
):
    WebhookFactory(product=plan.release.product, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_emit(topic="gate.changed", payload={}, product=plan.release.product)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.queued_at) == ("pending", 0, None)
    assert "Could not queue webhook delivery" in caplog.text
    app.conf.update(task_always_eager=True)  # the broker is back
    assert jobs_sweep()["webhooks"] == 0  # just emitted: its task may be on its way
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=long_ago(settings))
    assert jobs_sweep()["webhooks"] == 1
    assert jobs_sweep()["webhooks"] == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len(receiver.received) == 1


def test_a_webhook_attempt_whose_worker_died_is_made_again_once_but_not_one_in_flight(
    receiver, plan, settings
):
    hook = WebhookFactory(product=plan.release.product, url=receiver.url)
    delivery = WebhookDeliveryFactory(webhook=hook)
    # A worker claimed the first attempt moments ago, before its POST: it may be at it.
    busy = timezone.now() - dt.timedelta(seconds=settings.REPORT_SWEEP_AFTER_SECONDS - 30)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=1, queued_at=busy, created_at=long_ago(settings)
    )
    assert jobs_sweep()["webhooks"] == 0
    # ... then it died: the sweeper queues the next attempt, made once.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(queued_at=long_ago(settings))
    assert jobs_sweep()["webhooks"] == 1
    assert webhook_attempt(delivery_id=delivery.pk, attempt=0) == SKIPPED  # the dead one
    assert jobs_sweep()["webhooks"] == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(receiver.received) == 1


@pytest.fixture
def zips(monkeypatch):
    """How many evidence-package zips were written."""
    written = []
    close = evidence._Package.close

    def counted(self, release):
        written.append(release.pk)
        close(self, release)

    monkeypatch.setattr(evidence._Package, "close", counted)
    return written


def test_asking_for_a_package_while_the_broker_is_down_saves_it_and_says_so(
    broker_down, plan, lead, client, caplog, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("uat:evidence_package_create", args=[plan.release.pk]))
    assert response.status_code == 302
    package = EvidencePackage.objects.get()
    assert (package.status, package.error) == ("pending", evidence.QUEUE_DOWN)
    assert package.queued_at is None
    assert "Could not queue evidence package" in caplog.text
    assert evidence.QUEUE_DOWN in client.get(response.url).content.decode()


def test_the_sweeper_builds_a_package_left_pending_once_the_broker_is_back(
    broker_down, plan, lead, settings, zips, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        package, created = evidence_package_request(release=plan.release, actor=lead)
    assert created and package.status == "pending"
    app.conf.update(task_always_eager=True)  # the broker is back
    assert jobs_sweep()["evidence_packages"] == 0  # too young: its task may be on its way
    EvidencePackage.objects.filter(pk=package.pk).update(created_at=long_ago(settings))
    with caplog.at_level(logging.WARNING):
        assert jobs_sweep()["evidence_packages"] == 1
    assert "The sweeper queued again 1 evidence package(s)" in caplog.text
    package.refresh_from_db()
    assert (package.status, package.error) == ("ready", "")
    assert package.sha256 and package.queued_at and package.started_at
    assert jobs_sweep()["evidence_packages"] == 0
    assert zips == [plan.release.pk]


def test_a_package_whose_worker_died_is_built_again_once_but_not_one_being_built(
    plan, lead, settings, zips
):
    settings.EVIDENCE_PACKAGE_RECLAIM_AFTER_SECONDS = 60
    package = EvidencePackage.objects.create(release=plan.release, requested_by=lead)
    busy = timezone.now() - dt.timedelta(seconds=30)
    EvidencePackage.objects.filter(pk=package.pk).update(
        status="running", started_at=busy, queued_at=long_ago(settings)
    )
    assert jobs_sweep()["evidence_packages"] == 0
    assert evidence_package_build_now(package_id=package.pk) is None  # its worker owns it
    dead = timezone.now() - dt.timedelta(seconds=61)
    EvidencePackage.objects.filter(pk=package.pk).update(started_at=dead)
    assert jobs_sweep()["evidence_packages"] == 1
    package.refresh_from_db()
    assert package.status == "ready"
    assert evidence_package_build_now(package_id=package.pk) is None  # the lost task
    assert jobs_sweep()["evidence_packages"] == 0
    assert zips == [plan.release.pk]


def test_a_package_is_reclaimed_only_after_its_task_time_limit(settings):
    from reports.tasks import evidence_package_build

    # A build still inside its time limit is alive: no second worker may claim it.
    reclaim_after = settings.EVIDENCE_PACKAGE_RECLAIM_AFTER_SECONDS
    assert reclaim_after == evidence_package_build.time_limit


@pytest.mark.usefixtures("_leave_the_database_as_found")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_answer_to_a_package_request_says_it_waits_for_the_job_queue(
    broker_down, plan, lead, client
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(lead)
    url = f"/api/v1/releases/{plan.release.pk}/evidence-package/"
    response = api.post(url)
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["error"]) == ("pending", evidence.QUEUE_DOWN)
    again = api.post(url)  # asking again while it waits: the same package
    assert again.status_code == 202 and again.json()["id"] == body["id"]
    assert EvidencePackage.objects.count() == 1
    # On the page: the message says it waits, and none claims it is being built.
    EvidencePackage.objects.all().delete()
    client.force_login(lead)
    page = client.post(reverse("uat:evidence_package_create", args=[plan.release.pk]), follow=True)
    text = page.content.decode()
    assert text.count(evidence.QUEUE_DOWN) == 2  # the message and the package's line
    assert "Building the evidence package" not in text
