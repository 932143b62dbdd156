"""Webhooks: signed JSON events POSTed to the URLs QA leads register in the admin.

``webhook_emit`` records one ``WebhookDelivery`` per matching active webhook and
enqueues its delivery after the transaction commits; ``webhook_deliver`` (the Celery
task) POSTs it. A delivery whose task could not be queued (the broker was down) or was
lost is queued again by the sweeper (``webhooks_sweep``, beat every minute). Every POST carries

- ``X-Greenlight-Event``: the topic (``report.ready``, ``signoff.recorded``,
  ``gate.changed``);
- ``X-Greenlight-Delivery``: the event id, the same on every retry, so a receiver can
  drop an event it has already seen;
- ``X-Greenlight-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body under
  the webhook's secret.

The body is ``{"id", "topic", "created_at", "data"}`` where ``data`` is the payload the
emitter gave. A 2xx answer marks the delivery sent; a 5xx, 408, 429, timeout or refused
connection is retried with exponential backoff, up to ``MAX_ATTEMPTS`` attempts; any other
answer (4xx, a redirect) fails at once. A delivery is never sent again once it was sent.

Here rather than in ``reports/services.py`` and ``reports/tasks.py`` so that the
report job and the webhooks can grow apart; the Celery app discovers this module too.
"""

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import socket
import ssl
import uuid

from celery import shared_task
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from uat.audit import event_record
from uat.policy import can_rotate_webhook_secret, policy_require

from .jobs import Job, job_enqueue, job_sweep
from .models import AcceptanceReport, DeliveryStatus, Webhook, WebhookDelivery
from .outbound import Target, TargetRefused, TargetUnresolved, target_resolve

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TIMEOUT_SECONDS = 10
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min between the five attempts
RETRIED_STATUSES = {408, 429}

SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"

# What a delivery shows after a network failure, whichever it was.
CONNECTION_FAILED = "Connection failed: no HTTP answer (refused, unreachable or timed out)."


# ---------------------------------------------------------------------------- payloads


def release_data(release) -> dict:
    return {
        "id": release.pk,
        "product": release.product.slug,
        "version": release.version,
        "kind": release.kind,
        "stage": release.stage,
    }


def report_data(report: AcceptanceReport) -> dict:
    """The report as every event names it (the plan and its release are loaded)."""
    return {
        "uuid": str(report.uuid),
        "plan": report.plan_id,
        "plan_stage": report.plan.stage,
        "status": report.status,
        "decision": report.decision,
        "fingerprint": report.fingerprint,
        "created_at": report.created_at,
        "finished_at": report.finished_at,
    }


def report_ready_payload(report: AcceptanceReport) -> dict:
    """The ``data`` of a ``report.ready`` event: ``{"release": {...}, "report": {...}}``."""
    return {"release": release_data(report.plan.release), "report": report_data(report)}


def signoff_recorded_payload(signoff) -> dict:
    """The ``data`` of a ``signoff.recorded`` event: the release, the report and the
    sign-off (role, decision, signer's printed name, when, the fingerprint signed)."""
    return {
        **report_ready_payload(signoff.report),
        "signoff": {
            "id": signoff.pk,
            "role": signoff.role,
            "decision": signoff.decision,
            "printed_name": signoff.printed_name,
            "meaning": signoff.meaning,
            "reason": signoff.reason,
            "fingerprint": signoff.fingerprint,
            "signed_at": signoff.signed_at,
        },
    }


# ---------------------------------------------------------------------------- webhooks


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _described(hook: Webhook) -> dict:
    """What the audit trail says of a webhook: everything but its secret."""
    return {
        "name": hook.name,
        "url": hook.url,
        "topics": hook.topics,
        "product": hook.product_id,
        "is_active": hook.is_active,
    }


@transaction.atomic
def webhook_create(
    *, actor, name: str, url: str, topics: list[str], product=None, is_active: bool = True
) -> tuple[Webhook, str]:
    """Register a webhook with a new random secret and audit it (``webhook.created``,
    without the secret). Returns it with the secret, which is shown this once: nobody
    reads it again, and an administrator can only rotate it. The URL must be a public
    target (``Webhook.clean``)."""
    secret = _new_secret()
    hook = Webhook(
        name=name,
        url=url,
        secret=secret,
        topics=topics,
        product=product,
        is_active=is_active,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    unknown = sorted(set(topics) - set(Webhook.Topic.values))
    if unknown:
        raise ValidationError({"topics": f"Unknown topics: {', '.join(unknown)}."})
    hook.full_clean(exclude=["topics"])  # an empty list (every topic) is not blank here
    hook.save()
    event_record(actor=actor, verb="webhook.created", obj=hook, after=_described(hook))
    return hook, secret


@transaction.atomic
def webhook_secret_rotate(*, webhook: Webhook, actor) -> str:
    """Give ``webhook`` a new secret (administrators only) and audit it
    (``webhook.secret_rotated``, without either secret); return it, shown this once.
    Deliveries not yet made are signed with the new one."""
    policy_require(can_rotate_webhook_secret(actor), "rotate_webhook_secret")
    secret = _new_secret()
    Webhook.objects.filter(pk=webhook.pk).update(secret=secret)
    webhook.secret = secret
    event_record(actor=actor, verb="webhook.secret_rotated", obj=webhook)
    return secret


# ---------------------------------------------------------------------------- emitting


@transaction.atomic
def webhook_emit(*, topic: str, payload: dict, product) -> list[WebhookDelivery]:
    """Record the event ``topic`` with ``payload`` for every active webhook that wants
    the topic and listens to ``product`` (or to every product), and enqueue each
    delivery once the transaction commits. All deliveries of one event share its id.

    Callers: the report job (``report.ready``, ``report_ready_payload(report)``), sign-off
    (``signoff.recorded``, ``signoff_recorded_payload(signoff)``) and the gate
    (``gate.changed``). Two queries, whatever the number of webhooks."""
    if topic not in Webhook.Topic.values:
        raise ValueError(f"Unknown webhook topic {topic!r}.")
    hooks = Webhook.objects.filter(is_active=True).filter(
        Q(product=product) | Q(product__isnull=True)
    )
    event_id = uuid.uuid4()
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, event_id=event_id, topic=topic, payload=data)
        for hook in hooks
        if hook.wants(topic)
    )
    if deliveries:
        transaction.on_commit(lambda: webhooks_enqueue(deliveries=deliveries))
    return deliveries


# A delivery waits while pending; each attempt claims itself (``webhook_attempt``), and
# its task is sent the attempt it is to make. ``queued_at`` is refreshed by each attempt
# and set to a retry's due time, so the sweeper leaves alone deliveries tried or due lately.
WEBHOOK_DELIVERY = Job(
    what="webhook delivery",
    lost="webhook delivery(ies) lost or never queued",
    model=WebhookDelivery,
    task="reports.webhooks.webhook_deliver",
    waiting=Q(status=DeliveryStatus.PENDING),
    fields=("attempts",),
    kwargs=lambda delivery: {"attempt": delivery.attempts},
)


def webhooks_enqueue(*, deliveries: list[WebhookDelivery]) -> int:
    """Queue each delivery's next attempt (``jobs.job_enqueue``). When the broker cannot
    be reached, the rest are left unqueued for the sweeper and the caller goes on: an
    event must never fail the change it announces. Returns how many were queued."""
    return job_enqueue(WEBHOOK_DELIVERY, deliveries)


def webhooks_sweep() -> int:
    """Queue again the pending deliveries whose task was lost or never queued: not queued,
    tried or due in the last ``REPORT_SWEEP_AFTER_SECONDS``. Each attempt is claimed once,
    so one queued twice is still made once."""
    return job_sweep(WEBHOOK_DELIVERY)


# ---------------------------------------------------------------------------- delivering


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (and signed); the same on every attempt."""
    envelope = {
        "id": str(delivery.event_id),
        "topic": delivery.topic,
        "created_at": delivery.created_at,
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, sort_keys=True).encode()


def _connection(target: Target) -> http.client.HTTPConnection:
    """A connection to ``target.address``, the address that was checked, naming
    ``target.host`` in the Host header and (over HTTPS) as the TLS server name that the
    certificate is verified against: a second DNS lookup cannot switch the target."""
    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    options = {"context": ssl.create_default_context()} if target.scheme == "https" else {}
    connection = kind(target.host, target.port, timeout=TIMEOUT_SECONDS, **options)

    def connect_to_checked_address(address, timeout, source_address=None):
        return socket.create_connection((target.address, address[1]), timeout, source_address)

    connection._create_connection = connect_to_checked_address
    return connection


def _post(target: Target, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the HTTP status; raise ``OSError`` when there is no answer.
    Redirects are not followed: a redirected POST would be replayed somewhere else, so
    a 3xx is an answer like any other."""
    connection = _connection(target)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        return connection.getresponse().status
    except http.client.HTTPException as error:
        raise ConnectionError("not an HTTP answer") from error
    finally:
        connection.close()


def _attempt_post(target: Target, delivery: WebhookDelivery, secret: str):
    """POST the delivery: (status or None, the error people see, the raw error for the
    log). The error shown is the same words for every network failure — which socket
    error it was would tell a QA lead which internal ports are open."""
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Greenlight-Webhook/1",
        "X-Greenlight-Event": delivery.topic,
        "X-Greenlight-Delivery": str(delivery.event_id),
        "X-Greenlight-Signature": webhook_signature(secret, body),
    }
    try:
        return _post(target, body, headers), "", ""
    except OSError as exc:  # refused, unreachable, timed out, not HTTP
        return None, CONNECTION_FAILED, f"({type(exc).__name__}: {exc})"


def _transient(status: int | None) -> bool:
    return status is None or status >= 500 or status in RETRIED_STATUSES


# Not atomic: no transaction is held open across the network call. The claim is one
# conditional update, and each outcome another.
def webhook_attempt(*, delivery_id: int, attempt: int) -> str:
    """Make attempt number ``attempt`` (0-based) of a delivery, if nobody made it yet and
    the delivery is still pending; return sent, retry, failed or skipped."""
    # queued_at: at it now, so the sweeper leaves it alone for a while.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt
    ).update(attempts=attempt + 1, queued_at=timezone.now())
    if not claimed:
        return SKIPPED  # sent, failed, or this attempt ran already
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    done = WebhookDelivery.objects.filter(pk=delivery_id)
    hook = delivery.webhook
    if not hook.is_active:
        done.update(status=DeliveryStatus.FAILED, last_error="The webhook was deactivated.")
        return FAILED
    try:
        target = target_resolve(hook.url)  # resolved now, and connected to as checked
    except TargetUnresolved as unresolved:
        target, status, error, detail = None, None, str(unresolved), ""
    except TargetRefused as refused:
        done.update(status=DeliveryStatus.FAILED, last_error=str(refused))
        logger.warning("Webhook delivery %s refused: %s", delivery_id, refused)
        return FAILED
    if target is not None:
        status, error, detail = _attempt_post(target, delivery, hook.secret)
    if status is not None and 200 <= status < 300:
        done.update(
            status=DeliveryStatus.SENT,
            response_status=status,
            delivered_at=timezone.now(),
            last_error="",
        )
        return SENT
    error = error or f"The URL answered HTTP {status}."
    if _transient(status) and attempt + 1 < MAX_ATTEMPTS:
        done.update(response_status=status, last_error=error)
        return RETRY
    done.update(status=DeliveryStatus.FAILED, response_status=status, last_error=error)
    logger.warning("Webhook delivery %s failed: %s %s", delivery_id, error, detail)
    return FAILED


@shared_task(bind=True, acks_late=True, max_retries=MAX_ATTEMPTS)
def webhook_deliver(self, delivery_id: int, attempt: int = 0) -> str:
    """POST one recorded delivery. Safe to run twice: each attempt is claimed once, and a
    sent delivery is never sent again. Transient failures retry with backoff."""
    outcome = webhook_attempt(delivery_id=delivery_id, attempt=attempt)
    if outcome == RETRY and self.request.is_eager:
        # In-process (no broker, the local default): try again at once, because an eager
        # retry would raise out of whatever request emitted the event.
        return webhook_deliver.run(delivery_id, attempt=attempt + 1)
    if outcome == RETRY:
        countdown = BACKOFF_SECONDS * 2**attempt
        # The retry is due then: the sweeper waits for it before queueing another.
        due = timezone.now() + dt.timedelta(seconds=countdown)
        WebhookDelivery.objects.filter(pk=delivery_id).update(queued_at=due)
        raise self.retry(args=(delivery_id,), kwargs={"attempt": attempt + 1}, countdown=countdown)
    return outcome
