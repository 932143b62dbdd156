"""The report email against a real SMTP server on loopback that misbehaves: one that
answers 451 (try later) before it takes the message, one that refuses the address for
good (550), and one that is not there at all."""

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.urls import reverse

from config.celery import app
from reports import tasks
from reports.models import AcceptanceReport, EmailDelivery
from reports.services import report_build

from .test_faults import closed_port


class Moody:
    """An aiosmtpd handler answering ``data_answers`` in turn to each message's data (the
    last one ever after) and ``rcpt_answer`` to each recipient; it keeps what it takes."""

    def __init__(self, data_answers=("250 OK",), rcpt_answer="250 OK"):
        self.data_answers, self.rcpt_answer = list(data_answers), rcpt_answer
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_answer

    async def handle_DATA(self, server, session, envelope):
        answer = self.data_answers.pop(0) if len(self.data_answers) > 1 else self.data_answers[0]
        if answer.startswith("250"):
            self.received.append(envelope.rcpt_tos)
        return answer


def smtp_at(settings, port: int) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def serve(settings):
    controllers = []

    def start(handler) -> Moody:
        controller = Controller(handler, hostname="127.0.0.1", port=closed_port())
        controller.start()
        controllers.append(controller)
        smtp_at(settings, controller.port)
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def ready(plan, lead, settings):
    """A built report whose email has not been sent yet."""
    settings.EMAIL_RETRY_DELAY = 0
    report = AcceptanceReport.objects.create(plan=plan, fingerprint="x", requested_by=lead)
    report_build(report_id=report.pk)  # its email task waits for a commit that never comes
    report.refresh_from_db()
    assert report.status == "ready" and not EmailDelivery.objects.exists()
    return report


def run(report):
    """Run the email task here, its retries too: ``apply`` runs each at once, in turn, and
    with errors not propagated they end in the result, as on a worker."""
    saved = app.conf.task_eager_propagates
    app.conf.update(task_eager_propagates=False)
    try:
        return tasks.report_emails_task.apply(args=[report.pk])
    finally:
        app.conf.update(task_eager_propagates=saved)


def test_a_server_saying_try_later_gets_the_email_on_the_retry(serve, ready, stakeholder):
    server = serve(Moody(data_answers=["451 4.3.0 Try again later", "250 OK"]))
    result = run(ready)
    assert result.successful(), result.traceback
    delivery = EmailDelivery.objects.get()
    assert (delivery.recipient, delivery.status, delivery.attempts) == (
        stakeholder.email,
        "sent",
        2,
    )
    assert server.received == [[stakeholder.email]]
    assert mail.outbox == []  # it went through SMTP, not the test outbox


def test_a_refused_address_is_failed_at_once_without_retry(serve, ready, stakeholder):
    server = serve(Moody(rcpt_answer="550 5.1.1 No such user"))
    result = run(ready)
    assert result.successful() and result.result == 0
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "No such user" in delivery.last_error
    assert server.received == []


def test_a_server_that_is_not_there_is_retried_then_recorded_as_failed(
    settings, ready, lead, client
):
    smtp_at(settings, closed_port())
    result = run(ready)
    assert result.successful() and result.result == 0
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", tasks.MAIL_RETRIES + 1)
    assert "ConnectionRefusedError" in delivery.last_error
    # The QA lead sees the failure on the plan's dashboard.
    client.force_login(lead)
    page = client.get(reverse("reports:dashboard", args=[ready.plan.pk])).content.decode()
    assert f"to {delivery.recipient} after {tasks.MAIL_RETRIES + 1} attempts" in page
