"""Asking for, building and mailing acceptance reports."""

import datetime as dt
import io
import smtplib

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from reports import emails, tasks
from reports.models import AcceptanceReport, EmailDelivery
from reports.services import report_build, report_request
from tests.factories import ExecutionFactory, RequirementFactory, UserFactory
from uat.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(plan, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    report.refresh_from_db()
    return report


def test_asking_queues_a_pending_report_built_after_commit(
    plan, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report, created = report_request(plan=plan, actor=lead)
    assert created and report.status == AcceptanceReport.Status.PENDING
    assert len(callbacks) == 1
    assert Event.objects.filter(verb="report.requested").count() == 1


def test_asking_twice_for_unchanged_data_returns_the_same_report(built, plan, lead):
    again, created = report_request(plan=plan, actor=lead)
    assert not created and again.pk == built.pk
    ExecutionFactory(plan=plan, case=plan.cases.get(key="C-4"), passed=True, is_latest=False)
    changed, created = report_request(plan=plan, actor=lead)
    assert created and changed.pk != built.pk


def test_a_built_report_is_ready_with_decision_criteria_html_and_a_pdf(built):
    assert built.status == AcceptanceReport.Status.READY
    assert built.decision == "no-go"
    assert built.started_at and built.finished_at
    assert {c["key"] for c in built.criteria} >= {"execution_coverage", "pass_rate"}
    assert built.metrics["progress"]["overall"]["total"] == 4
    assert "Acceptance report" in built.html and "<svg" in built.html
    with built.pdf.open("rb") as handle:
        pdf = PdfReader(io.BytesIO(handle.read()))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "No-go" in text and "Business Owner" in text and "Signature" in text
    assert Event.objects.filter(verb="report.ready").count() == 1


def test_the_pdf_lists_the_requirements_not_covered_and_the_page_the_full_matrix(
    plan, lead, django_capture_on_commit_callbacks
):
    covered = RequirementFactory(product=plan.release.product, key="R-OK")
    plan.cases.get(key="C-1").requirements.add(covered)  # C-1 passed
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    report.refresh_from_db()
    with report.pdf.open("rb") as handle:
        text = "".join(page.extract_text() for page in PdfReader(handle).pages)
    assert "3 requirements covered by the scope: 1 covered" in text
    assert "R-1" in text and "R-2" in text and "Not covered" in text
    assert "R-OK" not in text and "Tester participation" in text
    assert "R-OK" in report.html and "<table>" in report.html


def test_building_twice_builds_once(built):
    html = built.html
    again = report_build(report_id=built.pk)
    assert again.status == AcceptanceReport.Status.READY and again.html == html
    assert Event.objects.filter(verb="report.ready").count() == 1


def test_a_build_that_breaks_marks_the_report_failed_with_the_error(plan, lead, monkeypatch):
    report, _ = report_request(plan=plan, actor=lead)

    def broken(**kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr("reports.services.report_pdf", broken)
    report = report_build(report_id=report.pk)
    assert report.status == AcceptanceReport.Status.FAILED
    assert report.error == "RuntimeError: no fonts"
    # A failed report is not reused: asking again makes a new one.
    again, created = report_request(plan=plan, actor=lead)
    assert created and again.pk != report.pk


def test_an_abandoned_running_report_is_claimed_again(plan, lead):
    report, _ = report_request(plan=plan, actor=lead)
    AcceptanceReport.objects.filter(pk=report.pk).update(
        status="running", started_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert report_build(report_id=report.pk).status == AcceptanceReport.Status.READY


def test_a_running_report_is_left_to_its_worker(plan, lead):
    report, _ = report_request(plan=plan, actor=lead)
    AcceptanceReport.objects.filter(pk=report.pk).update(
        status="running", started_at=timezone.now()
    )
    assert report_build(report_id=report.pk).status == AcceptanceReport.Status.RUNNING


def test_each_stakeholder_gets_the_report_once_with_the_pdf(built, stakeholder):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [stakeholder.email]
    assert message.subject.startswith("No-go: acceptance report for")
    assert f"/reports/{built.uuid}/" in message.body
    assert "Overall pass rate" in message.body  # a failing criterion
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Review and sign" in html
    [(filename, content, kind)] = message.attachments
    assert filename.endswith(".pdf") and kind == "application/pdf" and content.startswith(b"%PDF")
    # The task delivered again, or retried, sends nothing more.
    tasks.report_emails_task.apply(args=[built.pk])
    emails.report_emails_send(report_id=built.pk)
    assert len(mail.outbox) == 1
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.recipient) == (
        "sent",
        1,
        stakeholder.email,
    )


def fail_with(error):
    def send(**kwargs):
        raise error

    return send


def test_a_transient_smtp_failure_is_retried_then_recorded_as_failed(built, monkeypatch):
    EmailDelivery.objects.all().delete()
    mail.outbox.clear()
    monkeypatch.setattr(emails, "email_send", fail_with(smtplib.SMTPServerDisconnected("gone")))
    with pytest.raises(emails.MailUnavailable):
        emails.report_emails_send(report_id=built.pk)
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "gone" in delivery.last_error
    # The last retry gives up and records the failure for the QA lead.
    assert emails.report_emails_send(report_id=built.pk, final=True) == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 2)


def test_the_task_retries_with_backoff_and_gives_up_after_its_retries(built, monkeypatch, settings):
    EmailDelivery.objects.all().delete()
    monkeypatch.setattr(emails, "email_send", fail_with(smtplib.SMTPServerDisconnected("down")))
    with pytest.raises(Retry) as retry:
        tasks.report_emails_task.apply(args=[built.pk], retries=2, throw=True)
    assert retry.value.when == 4 * settings.EMAIL_RETRY_DELAY
    assert EmailDelivery.objects.get().status == "pending"
    tasks.report_emails_task.apply(args=[built.pk], retries=tasks.MAIL_RETRIES)
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 2)


def test_a_refused_address_fails_at_once(built, monkeypatch):
    EmailDelivery.objects.all().delete()
    refused = smtplib.SMTPRecipientsRefused({"owner@example.com": (550, b"no such user")})
    monkeypatch.setattr(emails, "email_send", fail_with(refused))
    assert emails.report_emails_send(report_id=built.pk) == 0
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)


def test_digest_goes_to_leads_and_stakeholders_who_want_it(plan, lead, stakeholder):
    UserFactory(email="quiet@example.com", roles=["QA lead"], receives_digests=False)
    today = timezone.localdate()
    assert emails.digest_send(day=today) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [lead.email, stakeholder.email]
    assert (
        plan.name in mail.outbox[0].body and "New defects in the last day: 1" in mail.outbox[0].body
    )
    assert emails.digest_send(day=today) == 0  # once per person per day
    assert len(mail.outbox) == 2


def test_reminders_name_old_pending_assignments_of_testers_who_want_them(plan, tester, settings):
    settings.REMINDER_AFTER_DAYS = 3
    today = timezone.localdate()
    assert emails.reminders_send(day=today) == 0  # assigned just now
    plan.executions.update(created_at=timezone.now() - dt.timedelta(days=4))
    assert emails.reminders_send(day=today) == 1
    [message] = mail.outbox
    assert message.to == [tester.email] and "C-4" in message.body and "C-1" not in message.body
    tomorrow = today + dt.timedelta(days=1)
    tester.receives_reminders = False
    tester.save()
    assert emails.reminders_send(day=tomorrow) == 0
