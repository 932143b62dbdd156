"""Greenlight's email deliveries: the report-ready email to stakeholders, the daily
digest, and reminders of pending assignments.

Each email to each recipient is an ``EmailDelivery`` row, unique on (kind, key,
recipient) and made with ``get_or_create``; it is sent only by whoever claims the
pending row (locked for the send, its attempts counted with a conditional update) and
marked sent in the same transaction. A retried or twice-delivered task therefore never
sends an email again. A transient SMTP failure leaves the row pending with its error for
the task to retry with backoff; a permanent one (the server refused the address), or the
last retry, marks it failed with ``last_error`` — shown in the admin and, to QA leads,
on the release dashboard.
"""

import datetime as dt
import smtplib
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.mail import Attachment, email_send
from accounts.models import Role, User
from uat.downloads import download_filename
from uat.models import Defect, Execution, Plan

from .currency import signoffs_with_state
from .metrics import plan_metrics
from .models import AcceptanceReport, DeliveryStatus, EmailDelivery


class MailUnavailable(Exception):
    """The mail server could not take a message now; trying later may work."""


def _permanent(error: Exception) -> bool:
    """A 5xx answer means the server will never take this message as it is."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def delivery_send(
    *,
    delivery: EmailDelivery,
    name: str,
    context: dict,
    attachments: list[Attachment] = (),
) -> bool:
    """Send one recorded email unless it was sent already or someone else is sending it.

    Returns whether it was sent now. Raises ``MailUnavailable`` on a transient failure,
    after recording the attempt and the error."""
    failure = None
    with transaction.atomic():
        # skip_locked: a twin task busy with this row already owns it.
        claimed = (
            EmailDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery.pk, status=DeliveryStatus.PENDING)
            .first()
        )
        if claimed is None:
            return False
        rows = EmailDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING)
        rows.update(attempts=F("attempts") + 1)
        try:
            email_send(name=name, context=context, to=[delivery.recipient], attachments=attachments)
        except (smtplib.SMTPException, OSError) as error:
            message = f"{type(error).__name__}: {error}"[:2000]
            if _permanent(error):
                rows.update(status=DeliveryStatus.FAILED, last_error=message)
                return False
            rows.update(last_error=message)
            failure = message
        else:
            rows.update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
            return True
    raise MailUnavailable(failure)


def deliveries_give_up(*, deliveries: list[EmailDelivery]) -> int:
    """After the last retry: mark what is still pending failed, keeping its error."""
    return (
        EmailDelivery.objects.filter(
            pk__in=[d.pk for d in deliveries], status=DeliveryStatus.PENDING
        )
        .exclude(attempts=0)
        .update(status=DeliveryStatus.FAILED)
    )


def deliveries_send(deliveries: list[EmailDelivery], send, *, final: bool) -> int:
    """Send each delivery with ``send(delivery)``; raise ``MailUnavailable`` at the end
    if any failed transiently, unless this is the last try, which gives up on them.

    The one send loop of every email batch: report-ready, digests, reminders and the
    stale sign-off notices (``reports.stale``)."""
    sent, failures = 0, []
    for delivery in deliveries:
        try:
            sent += send(delivery)
        except MailUnavailable as error:
            failures.append(str(error))
    if failures:
        if final:
            deliveries_give_up(deliveries=deliveries)
        else:
            raise MailUnavailable(f"{len(failures)} email(s) not sent: {failures[0]}")
    return sent


# ---------------------------------------------------------------------------- report ready


def report_recipients(plan: Plan) -> list[User]:
    """The plan's stakeholders and the named signers of its required sign-offs."""
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(stakeholder_plans=plan) | Q(signoff_roles__plan=plan))
        .distinct()
        .order_by("email")
    )


def report_email_context(report: AcceptanceReport) -> dict:
    overall = report.metrics["progress"]["overall"]
    return {
        "report": report,
        "plan": report.plan,
        "decision": report.get_decision_display(),
        "overall": overall,
        "open_defects": report.metrics["defects"]["open_total"],
        "failing": [c for c in report.criteria if not c["passed"]],
        "review_url": settings.SITE_URL + reverse("reports:report", args=[report.uuid]),
        "sign_url": settings.SITE_URL + reverse("reports:report_sign", args=[report.uuid]),
        "waivers": report.metrics["defects"].get("waivers", []),
        "signoff_roles": report.metrics.get("signoff_roles", []),
        "signoffs": signoffs_with_state(
            report.signoffs.select_related("report").order_by("signed_at", "pk")
        ),
    }


def report_emails_send(*, report_id: int, final: bool = False) -> int:
    """Email a ready report, PDF attached, to each stakeholder of its plan: exactly once
    per recipient per report however often this runs. Returns how many were sent now.
    Once no delivery is left pending, the report's emails are marked done."""
    report = AcceptanceReport.objects.select_related("plan__release__product").get(pk=report_id)
    if not report.is_ready:
        return 0
    # Still at it: the sweeper leaves alone emails tried in the last few minutes.
    AcceptanceReport.objects.filter(pk=report.pk, emails=AcceptanceReport.Emails.QUEUED).update(
        emails_queued_at=timezone.now()
    )
    deliveries = [
        EmailDelivery.objects.get_or_create(
            kind=EmailDelivery.Kind.REPORT,
            key=str(report.uuid),
            recipient=user.email,
            defaults={"report": report},
        )[0]
        for user in report_recipients(report.plan)
    ]
    pending = [d for d in deliveries if d.status == DeliveryStatus.PENDING]
    if not pending:
        report_emails_done(report=report)
        return 0
    context = report_email_context(report)
    with report.pdf.open("rb") as handle:
        pdf = Attachment(
            filename=download_filename(
                "acceptance-report", report.plan.release.version, report.plan.stage, ext="pdf"
            ),
            content=handle.read(),
            mimetype="application/pdf",
        )

    def send(delivery: EmailDelivery) -> bool:
        return delivery_send(
            delivery=delivery, name="report_ready", context=context, attachments=[pdf]
        )

    sent = deliveries_send(pending, send, final=final)
    report_emails_done(report=report)
    return sent


def report_emails_done(*, report: AcceptanceReport) -> bool:
    """Mark the report's emails done if none of its deliveries is pending any more (each
    was sent, or failed for good). Returns whether it was marked now."""
    pending = EmailDelivery.objects.filter(
        kind=EmailDelivery.Kind.REPORT, report_id=OuterRef("pk"), status=DeliveryStatus.PENDING
    )
    return bool(
        AcceptanceReport.objects.filter(pk=report.pk)
        .exclude(emails=AcceptanceReport.Emails.DONE)
        .exclude(Exists(pending))
        .update(emails=AcceptanceReport.Emails.DONE)
    )


def report_emails_abandon(*, report: AcceptanceReport, reason: str) -> None:
    """Give up on the report's emails for good: each delivery still pending fails,
    keeping its last error or else saying ``reason``, and the emails are done."""
    pending = EmailDelivery.objects.filter(
        kind=EmailDelivery.Kind.REPORT, report=report, status=DeliveryStatus.PENDING
    )
    pending.filter(last_error="").update(last_error=reason)
    pending.update(status=DeliveryStatus.FAILED)
    report_emails_done(report=report)


def report_emails_retry_at(*, report_id: int, due: dt.datetime) -> None:
    """A retry of the report's emails is due at ``due``: the sweeper waits for it."""
    AcceptanceReport.objects.filter(pk=report_id, emails=AcceptanceReport.Emails.QUEUED).update(
        emails_queued_at=due
    )


# ---------------------------------------------------------------------------- digest


def _plan_digest(plan: Plan, since: dt.datetime) -> dict:
    metrics = plan_metrics(plan)
    new_defects = dict(
        Defect.objects.filter(release_id=plan.release_id, created_at__gte=since)
        .values_list("severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "plan": plan,
        "overall": metrics["progress"]["overall"],
        "open_defects": metrics["defects"]["open_total"],
        "new_defects": sum(new_defects.values()),
        "new_by_severity": new_defects,
        "url": settings.SITE_URL + reverse("reports:dashboard", args=[plan.pk]),
    }


def digest_send(*, day: dt.date, final: bool = False) -> int:
    """The daily digest of every plan in execution — progress and the defects of the
    last day — to QA leads (all plans) and stakeholders (their plans) who take digests.
    One email per person per day."""
    since = timezone.now() - dt.timedelta(days=1)
    plans = list(
        Plan.objects.in_execution()
        .select_related("release__product")
        .prefetch_related("stakeholders")
        .order_by("release__product__name", "release__version", "stage")
    )
    if not plans:
        return 0
    summaries = {plan.pk: _plan_digest(plan, since) for plan in plans}
    wants = User.objects.filter(is_active=True, receives_digests=True)
    recipients: dict[str, list[dict]] = defaultdict(list)
    for lead in wants.with_role(Role.QA_LEAD).order_by("email"):
        recipients[lead.email] = list(summaries.values())
    for plan in plans:
        for person in plan.stakeholders.all():
            wanted = person.is_active and person.receives_digests
            if wanted and summaries[plan.pk] not in recipients[person.email]:
                recipients[person.email].append(summaries[plan.pk])
    deliveries = {
        email: EmailDelivery.objects.get_or_create(
            kind=EmailDelivery.Kind.DIGEST, key=f"digest:{day.isoformat()}", recipient=email
        )[0]
        for email in recipients
    }

    def send(delivery: EmailDelivery) -> bool:
        context = {"day": day, "plans": recipients[delivery.recipient]}
        return delivery_send(delivery=delivery, name="digest", context=context)

    pending = [d for d in deliveries.values() if d.status == DeliveryStatus.PENDING]
    return deliveries_send(pending, send, final=final)


# ---------------------------------------------------------------------------- reminders


def reminders_send(*, day: dt.date, final: bool = False) -> int:
    """Remind each tester who takes reminders of the assignments waiting for them longer
    than ``REMINDER_AFTER_DAYS`` in plans in execution. One email per tester per day."""
    cutoff = timezone.now() - dt.timedelta(days=settings.REMINDER_AFTER_DAYS)
    rows = (
        Execution.objects.pending()
        .filter(
            plan__status=Plan.Status.IN_EXECUTION,
            created_at__lt=cutoff,
            tester__is_active=True,
            tester__receives_reminders=True,
        )
        .values(
            "tester__email",
            "tester__full_name",
            "plan__name",
            "case__key",
            "case__title",
            "created_at",
        )
        .order_by("tester__email", "created_at")
    )
    waiting: dict[str, list[dict]] = defaultdict(list)
    names = {}
    for row in rows:
        waiting[row["tester__email"]].append(row)
        names[row["tester__email"]] = row["tester__full_name"]
    deliveries = [
        EmailDelivery.objects.get_or_create(
            kind=EmailDelivery.Kind.REMINDER, key=f"reminder:{day.isoformat()}", recipient=email
        )[0]
        for email in waiting
    ]

    def send(delivery: EmailDelivery) -> bool:
        context = {
            "name": names[delivery.recipient],
            "assignments": waiting[delivery.recipient],
            "days": settings.REMINDER_AFTER_DAYS,
        }
        return delivery_send(delivery=delivery, name="reminder", context=context)

    pending = [d for d in deliveries if d.status == DeliveryStatus.PENDING]
    return deliveries_send(pending, send, final=final)
