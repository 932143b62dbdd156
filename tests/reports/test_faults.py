"""Reports survive faults: a broker that is down when a report is asked for, a report left
behind by a dead worker, and work whose transaction rolled back (which must send nothing).

The worker killed in the middle of a build is in test_integration.py, with real parts."""

import datetime as dt
import logging
import socket

import kombu.pools
import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from reports import services
from reports.models import AcceptanceReport, EmailDelivery, WebhookDelivery
from reports.services import QUEUE_DOWN, report_build, report_request, reports_sweep
from tests.factories import WebhookFactory
from uat.celery import app


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _forget_connections() -> None:
    """Drop pooled broker connections, so the next task connects to the broker now set
    (kombu keeps its pools in a registry of its own, which must go too)."""
    if app._pool is not None:
        app._pool.force_close_all()
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """Send tasks to a Redis that is not there, as when the broker is down."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=f"redis://127.0.0.1:{closed_port()}/0", task_always_eager=False)
    _forget_connections()
    yield
    app.conf.update(saved)
    _forget_connections()


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
