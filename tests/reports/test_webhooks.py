"""Webhooks, delivered to a real HTTP server on the loopback interface: signed, retried
on transient failures only, and never delivered twice."""

import datetime as dt
import hashlib
import hmac
import json
import socket

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from reports import webhooks
from reports.models import WebhookDelivery
from reports.webhooks import (
    MAX_ATTEMPTS,
    report_ready_payload,
    signoff_recorded_payload,
    webhook_attempt,
    webhook_deliver,
    webhook_emit,
    webhooks_sweep,
)
from tests.factories import (
    AcceptanceReportFactory,
    ProductFactory,
    SignOffFactory,
    WebhookDeliveryFactory,
    WebhookFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "webhook-shared-secret"


@pytest.fixture
def product():
    return ProductFactory()


@pytest.fixture
def hook(receiver, product):
    return WebhookFactory(url=receiver.url, secret=SECRET, product=product)


def deliver(delivery) -> str:
    """Run the task as a worker would, retries included (eagerly, without the waits)."""
    return webhook_deliver.apply(args=(delivery.pk,)).get()


def test_an_event_is_posted_signed_with_the_webhooks_secret(
    receiver, hook, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_emit(topic="gate.changed", payload={"decision": "go"}, product=product)
    [request] = receiver.received
    headers, body = request["headers"], request["body"]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Greenlight-Signature"] == expected
    assert headers["X-Greenlight-Event"] == "gate.changed"
    assert headers["X-Greenlight-Delivery"] == str(delivery.event_id)
    assert headers["Content-Type"] == "application/json"
    event = json.loads(body)
    assert event["id"] == str(delivery.event_id)
    assert event["topic"] == "gate.changed"
    assert event["data"] == {"decision": "go"}
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert (delivery.attempts, delivery.response_status) == (1, 200)
    assert delivery.delivered_at is not None


def test_a_signature_under_another_secret_does_not_match(receiver, hook, product):
    [delivery] = webhook_emit(topic="report.ready", payload={}, product=product)
    deliver(delivery)
    request = receiver.received[0]
    forged = "sha256=" + hmac.new(b"guess", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Greenlight-Signature"] != forged


def test_one_event_gets_one_delivery_per_listening_webhook(receiver, hook, product):
    everyone = WebhookFactory(url=receiver.url, product=None, topics=[])
    WebhookFactory(url=receiver.url, product=product, topics=["report.ready"])
    WebhookFactory(url=receiver.url, product=ProductFactory())
    WebhookFactory(url=receiver.url, product=product, is_active=False)
    deliveries = webhook_emit(topic="gate.changed", payload={}, product=product)
    assert {d.webhook for d in deliveries} == {hook, everyone}
    assert len({d.event_id for d in deliveries}) == 1


def test_an_unknown_topic_is_refused(product):
    with pytest.raises(ValueError, match="Unknown webhook topic"):
        webhook_emit(topic="release.exploded", payload={}, product=product)


def test_a_sent_delivery_is_never_sent_again(receiver, hook, product):
    [delivery] = webhook_emit(topic="gate.changed", payload={}, product=product)
    assert deliver(delivery) == "sent"
    assert deliver(delivery) == "skipped"
    assert webhook_attempt(delivery_id=delivery.pk, attempt=1) == "skipped"
    assert len(receiver.received) == 1


def test_an_attempt_already_claimed_is_not_made_twice(receiver, hook, product):
    receiver.statuses = [503]
    [delivery] = webhook_emit(topic="gate.changed", payload={}, product=product)
    assert webhook_attempt(delivery_id=delivery.pk, attempt=0) == "retry"
    # The same task message delivered twice by the broker: the second finds it taken.
    assert webhook_attempt(delivery_id=delivery.pk, attempt=0) == "skipped"
    assert len(receiver.received) == 1


def test_server_errors_are_retried_until_the_url_answers(receiver, hook, product):
    receiver.statuses = [500, 503, 200]
    [delivery] = webhook_emit(topic="gate.changed", payload={}, product=product)
    assert deliver(delivery) == "sent"
    assert len(receiver.received) == 3
    assert len({r["headers"]["X-Greenlight-Delivery"] for r in receiver.received}) == 1
    assert len({r["body"] for r in receiver.received}) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")


def test_retries_stop_after_the_last_attempt(receiver, hook, product):
    receiver.statuses = [502]
    [delivery] = webhook_emit(topic="gate.changed", payload={}, product=product)
    assert deliver(delivery) == "failed"
    assert len(receiver.received) == MAX_ATTEMPTS
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", MAX_ATTEMPTS)
    assert delivery.response_status == 502
    assert "HTTP 502" in delivery.last_error


@pytest.mark.parametrize("status", [400, 401, 404, 410, 302])
def test_a_client_error_or_redirect_fails_at_once(receiver, hook, product, status):
    receiver.statuses = [status, 200]
    [delivery] = webhook_emit(topic="gate.changed", payload={}, product=product)
    assert deliver(delivery) == "failed"
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == ("failed", status)


def test_too_many_requests_is_retried(receiver, hook, product):
    receiver.statuses = [429, 200]
    [delivery] = webhook_emit(topic="gate.changed", payload={}, product=product)
    assert deliver(delivery) == "sent"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_is_retried_then_recorded(product):
    hook = WebhookFactory(url=f"http://127.0.0.1:{_closed_port()}/", product=product)
    delivery = WebhookDeliveryFactory(webhook=hook)
    assert deliver(delivery) == "failed"
    delivery.refresh_from_db()
    assert delivery.attempts == MAX_ATTEMPTS
    assert delivery.response_status is None
    assert "refused" in delivery.last_error.lower()


def test_retries_back_off_exponentially(receiver, hook, product, monkeypatch):
    receiver.statuses = [500]
    delivery = WebhookDeliveryFactory(webhook=hook)
    asked = []

    def retry(**kwargs):
        asked.append(kwargs)
        return RuntimeError("retrying")

    monkeypatch.setattr(webhook_deliver, "retry", retry)
    for attempt in range(2):
        with pytest.raises(RuntimeError, match="retrying"):
            webhook_deliver.run(delivery.pk, attempt=attempt)
    # The sweeper waits for the retry: it is due after its backoff.
    delivery.refresh_from_db()
    assert delivery.queued_at > timezone.now() + dt.timedelta(seconds=webhooks.BACKOFF_SECONDS)
    assert [a["countdown"] for a in asked] == [
        webhooks.BACKOFF_SECONDS,
        webhooks.BACKOFF_SECONDS * 2,
    ]
    assert asked[1]["kwargs"] == {"attempt": 2}


def test_a_webhook_switched_off_before_delivery_gets_nothing(receiver, hook, product):
    [delivery] = webhook_emit(topic="gate.changed", payload={}, product=product)
    hook.is_active = False
    hook.save()
    assert deliver(delivery) == "failed"
    assert receiver.received == []


def test_only_http_urls_receive_webhooks(product):
    hook = WebhookFactory(url="file:///etc/passwd", product=product)
    delivery = WebhookDeliveryFactory(webhook=hook)
    assert deliver(delivery) == "failed"
    delivery.refresh_from_db()
    assert "http" in delivery.last_error


def test_report_and_signoff_payloads_name_the_release_and_report():
    report = AcceptanceReportFactory(ready=True)
    payload = report_ready_payload(report)
    release = report.plan.release
    assert payload["release"] == {
        "id": release.pk,
        "product": release.product.slug,
        "version": release.version,
        "kind": release.kind,
        "stage": release.stage,
    }
    assert payload["report"]["uuid"] == str(report.uuid)
    assert payload["report"]["decision"] == "go"
    signoff = SignOffFactory(report=report)
    signed = signoff_recorded_payload(signoff)
    assert signed["signoff"]["decision"] == "approve"
    assert signed["report"] == payload["report"]
    WebhookFactory(product=release.product)
    [delivery] = webhook_emit(topic="report.ready", payload=payload, product=release.product)
    sent_at = delivery.payload["report"]["finished_at"]
    assert sent_at.startswith(payload["report"]["finished_at"].strftime("%Y-%m-%dT%H:%M:%S"))


# ---------------------------------------------------------------------------- the sweeper


def long_ago(settings) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.REPORT_SWEEP_AFTER_SECONDS + 1)


def test_an_event_emitted_while_the_broker_is_down_is_delivered_once_by_the_sweeper(
    receiver, hook, product, monkeypatch, settings, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:9. Connection refused.")

    with monkeypatch.context() as down:
        down.setattr(webhook_deliver, "delay", broker_down)
        # The change the event announces goes through: nothing raises after its commit.
        with django_capture_on_commit_callbacks(execute=True):
            [delivery] = webhook_emit(topic="gate.changed", payload={}, product=product)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.queued_at) == ("pending", None)
    assert "Could not queue webhook delivery" in caplog.text
    assert webhooks_sweep() == 0  # just emitted: its task may be on its way
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=long_ago(settings))
    assert webhooks_sweep() == 1  # the broker is back (eager)
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(queued_at=long_ago(settings))
    assert webhooks_sweep() == 0 and len(receiver.received) == 1


def test_a_lost_delivery_is_queued_again_at_its_next_attempt_but_not_a_fresh_one(
    hook, monkeypatch, settings
):
    queued = []
    monkeypatch.setattr(webhook_deliver, "delay", lambda pk, attempt: queued.append(attempt))
    delivery = WebhookDeliveryFactory(webhook=hook, attempts=2)
    old = long_ago(settings)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=old, queued_at=timezone.now())
    assert webhooks_sweep() == 0  # queued (or tried) just now
    due = timezone.now() + dt.timedelta(minutes=4)  # a retry waiting for its backoff
    WebhookDelivery.objects.filter(pk=delivery.pk).update(queued_at=due)
    assert webhooks_sweep() == 0
    WebhookDelivery.objects.filter(pk=delivery.pk).update(queued_at=old)
    assert webhooks_sweep() == 1
    assert queued == [2]  # the attempt it was waiting for, claimed once whoever runs it
    assert webhooks_sweep() == 0  # queued again just now
