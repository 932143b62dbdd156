"""Celery tasks of reports: ids in, one service call. Safe to run twice — the services
claim their work with conditional updates and record every email they send.

Only mail is retried, with exponential backoff: a report that fails to build is marked
failed with its error (asking again builds a new one), because retrying a bug helps no
one, while an SMTP server that is down now may be up in a minute.
"""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import emails, services

MAIL_RETRIES = 6  # 1, 2, 4, 8, 16, 32 minutes: about an hour in all


def _backoff(retries: int) -> int:
    return settings.EMAIL_RETRY_DELAY * 2**retries


def _mail_task(task, send, retry_kwargs: dict | None = None, on_retry=None, **kwargs) -> int:
    """Run ``send``; on a transient failure retry with backoff, first telling ``on_retry``
    when the retry is due."""
    final = task.request.retries >= task.max_retries
    try:
        return send(final=final, **kwargs)
    except emails.MailUnavailable as error:
        countdown = _backoff(task.request.retries)
        if on_retry is not None:
            on_retry(timezone.now() + dt.timedelta(seconds=countdown))
        raise task.retry(exc=error, countdown=countdown, kwargs=retry_kwargs) from error


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def report_build_task(report_id: int) -> str:
    """Build a pending acceptance report."""
    return services.report_build(report_id=report_id).status


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def reports_sweep_task() -> dict[str, int]:
    """Queue again the report builds, report emails, webhook deliveries and evidence
    packages whose task was lost or never queued, or whose worker died (beat, every
    minute)."""
    return services.jobs_sweep()


@shared_task(
    bind=True, acks_late=True, max_retries=MAIL_RETRIES, time_limit=300, soft_time_limit=270
)
def report_emails_task(self, report_id: int) -> int:
    """Email a ready report to its plan's stakeholders, each exactly once."""

    def retry_at(due: dt.datetime) -> None:
        emails.report_emails_retry_at(report_id=report_id, due=due)

    return _mail_task(self, emails.report_emails_send, on_retry=retry_at, report_id=report_id)


def _day(day: str | None) -> str:
    """The day a beat run is about, fixed at its first run so its retries keep it."""
    return day or timezone.localdate().isoformat()


@shared_task(
    bind=True, acks_late=True, max_retries=MAIL_RETRIES, time_limit=1200, soft_time_limit=1140
)
def digest_task(self, day: str | None = None) -> int:
    """The daily digest of plans in execution (beat)."""
    day = _day(day)
    return _mail_task(self, emails.digest_send, {"day": day}, day=dt.date.fromisoformat(day))


@shared_task(
    bind=True, acks_late=True, max_retries=MAIL_RETRIES, time_limit=600, soft_time_limit=540
)
def reminders_task(self, day: str | None = None) -> int:
    """Reminders of assignments pending too long (beat)."""
    day = _day(day)
    return _mail_task(self, emails.reminders_send, {"day": day}, day=dt.date.fromisoformat(day))


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def evidence_package_build(package_id: int) -> None:
    """Build the evidence package ``package_id`` (does nothing unless it is pending, or
    running with its worker dead)."""
    from .evidence_packages import evidence_package_build_now

    evidence_package_build_now(package_id=package_id)


@shared_task(
    bind=True, acks_late=True, max_retries=MAIL_RETRIES, time_limit=600, soft_time_limit=540
)
def stale_signoffs_task(self) -> int:
    """Tell signers whose sign-off went stale that a new report is needed (beat)."""
    from .stale_notices import stale_signoffs_notify

    return _mail_task(self, stale_signoffs_notify)
