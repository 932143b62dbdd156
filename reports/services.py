"""The state changes of acceptance reports: asking for one, building it, and mailing it.

Views, the API, the admin action and the Celery tasks all call these. A report moves
pending → running → ready (or failed, with the error); each step is claimed with a
conditional update, so a task delivered twice or retried never builds a report twice.
"""

import datetime as dt
import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from uat.audit import event_record
from uat.downloads import download_filename
from uat.models import Plan
from uat.policy import can_request_report, policy_require

from .charts import plan_charts
from .criteria import criteria_evaluate, decision_of
from .currency import report_is_current
from .emails import report_emails_abandon
from .evidence_packages import EVIDENCE_PACKAGE
from .fingerprint import plan_fingerprint
from .gate import gate_refresh
from .jobs import Job, job_claim, job_enqueue, job_sweep
from .metrics import plan_metrics
from .models import AcceptanceReport
from .webhooks import report_ready_payload, webhook_emit, webhooks_sweep

logger = logging.getLogger(__name__)

UNBUILT = (AcceptanceReport.Status.PENDING, AcceptanceReport.Status.RUNNING)


@transaction.atomic
def report_request(*, plan: Plan, actor) -> tuple[AcceptanceReport, bool]:
    """The report of ``plan``'s current data, one that can be signed once ready: the
    newest ready report while it is current, or one being built on the same data after
    it; else a new pending one whose build is queued after commit. (An older report
    whose fingerprint the data came back to — a waiver granted, then expired — is stale
    for good and never handed out again.) Returns it and whether it is new."""
    policy_require(can_request_report(actor, plan), "request_report")
    # Lock the plan so two people asking at once get one report, not two.
    plan = Plan.objects.select_for_update().select_related("release").get(pk=plan.pk)
    fingerprint = plan_fingerprint(plan)
    if existing := _report_for_data(plan, fingerprint):
        return existing, False
    report = AcceptanceReport.objects.create(
        plan=plan, fingerprint=fingerprint, requested_by=actor if actor else None
    )
    event_record(
        actor=actor,
        verb="report.requested",
        obj=report,
        after={"fingerprint": fingerprint},
        release=plan.release,
    )
    transaction.on_commit(lambda: report_enqueue(report=report))
    return report, True


def _report_for_data(plan: Plan, fingerprint: str) -> AcceptanceReport | None:
    newest = plan.reports.filter(status=AcceptanceReport.Status.READY).order_by(
        "-created_at", "-pk"
    )
    newest = newest.defer("html", "metrics", "criteria").first()
    if newest is not None:
        known = {"fingerprints": {plan.pk: fingerprint}, "newest": {plan.pk: newest.pk}}
        if report_is_current(newest, **known):
            return newest
    building = plan.reports.filter(fingerprint=fingerprint, status__in=UNBUILT)
    if newest is not None:
        building = building.filter(created_at__gt=newest.created_at)
    return building.order_by("-created_at", "-pk").first()


QUEUE_DOWN = (
    "The job queue cannot be reached just now: the report will be built as soon as it is back."
)

GAVE_UP = (
    "Not sent: the report's email job kept failing or getting lost; see the worker's log "
    "around the time the report was built."
)

# A report's build: pending → running (claimed) → ready or failed. A report the broker
# could not take stays pending with QUEUE_DOWN, for the QA lead; queueing clears it.
REPORT_BUILD = Job(
    what="acceptance report",
    lost="acceptance report(s) nobody was building",
    model=AcceptanceReport,
    task="reports.tasks.report_build_task",
    waiting=Q(status=AcceptanceReport.Status.PENDING),
    on_queue={"error": ""},
    on_down={"error": QUEUE_DOWN},
    running=Q(status=AcceptanceReport.Status.RUNNING),
    claimed={"status": AcceptanceReport.Status.RUNNING, "error": ""},
)

# A ready report's emails: the ``emails`` marker goes wanted → queued → done. The email
# task refreshes ``emails_queued_at`` while it runs and sets it to a retry's due time, so
# the sweeper leaves alone emails tried or due lately; each delivery claims itself.
REPORT_EMAILS = Job(
    what="the emails of report",
    lost="report email job(s) lost or never queued",
    model=AcceptanceReport,
    task="reports.tasks.report_emails_task",
    waiting=Q(
        status=AcceptanceReport.Status.READY,
        emails__in=[AcceptanceReport.Emails.WANTED, AcceptanceReport.Emails.QUEUED],
    ),
    queued_at="emails_queued_at",
    otherwise="finished_at",
    on_queue={"emails": AcceptanceReport.Emails.QUEUED},
    on_down={"emails": AcceptanceReport.Emails.WANTED},
)


def report_enqueue(*, report: AcceptanceReport) -> bool:
    """Queue the build of a pending report (``jobs.job_enqueue``). When the broker cannot
    be reached the report stays pending, saved, with QUEUE_DOWN for the QA lead, until
    the sweeper queues it. Returns whether it was queued."""
    return job_enqueue(REPORT_BUILD, [report]) == 1


def reports_sweep() -> int:
    """Queue again the reports nobody is building: pending (task lost or never queued) or
    running past ``REPORT_RECLAIM_AFTER_SECONDS`` (worker died); see ``jobs.job_sweep``."""
    return job_sweep(REPORT_BUILD)


def report_emails_enqueue(*, report: AcceptanceReport) -> bool:
    """Queue the emails of a ready report whose emails are outstanding (wanted or queued).
    When the broker cannot be reached they go back to wanted, for the sweeper. Returns
    whether they were queued (not when they are done already)."""
    return job_enqueue(REPORT_EMAILS, [report]) == 1


def report_emails_sweep() -> int:
    """Queue again the emails of ready reports that are still outstanding: never queued
    (the broker was down when the report was built) or queued, or last tried, longer than
    ``REPORT_SWEEP_AFTER_SECONDS`` ago (the task was lost). A retry waiting for its
    backoff is not touched: its due time is its ``emails_queued_at``. Each recipient's
    delivery is recorded, so no one gets an email twice. Emails outstanding longer than
    ``REPORT_EMAILS_GIVE_UP_AFTER_SECONDS`` are given up first (``report_emails_give_up``)."""
    report_emails_give_up(
        before=timezone.now() - dt.timedelta(seconds=settings.REPORT_EMAILS_GIVE_UP_AFTER_SECONDS)
    )
    return job_sweep(REPORT_EMAILS)


def report_emails_give_up(*, before: dt.datetime) -> int:
    """Stop sending the emails of reports built before ``before`` whose emails are still
    outstanding — a job that fails on every run (a bug, a lost PDF) would otherwise be
    queued again by the sweeper forever (``emails.report_emails_abandon``). Logs an ERROR
    naming each report; returns how many were given up."""
    stuck = AcceptanceReport.objects.filter(REPORT_EMAILS.waiting, finished_at__lt=before).only(
        "pk", "uuid"
    )
    given_up = 0
    for report in stuck:
        report_emails_abandon(report=report, reason=GAVE_UP)
        logger.error("Gave up on the emails of acceptance report %s: %s", report.uuid, GAVE_UP)
        given_up += 1
    return given_up


def jobs_sweep() -> dict[str, int]:
    """The sweeper's round (beat, every minute): queue again every kind of job whose task
    was lost or never queued, or whose worker died. Returns how many of each."""
    return {
        "reports": reports_sweep(),
        "emails": report_emails_sweep(),
        "webhooks": webhooks_sweep(),
        "evidence_packages": job_sweep(EVIDENCE_PACKAGE),
    }


def report_render(*, report: AcceptanceReport, metrics: dict, criteria: list[dict]) -> str:
    """The report's body as HTML: the same fragment the page shows and the PDF prints."""
    return render_to_string(
        "reports/report_body.html",
        {
            "report": report,
            "plan": report.plan,
            "metrics": metrics,
            "criteria": criteria,
            "failing": [c for c in criteria if not c["passed"]],
            "charts": plan_charts(metrics),
            "requirements": _requirement_totals(metrics),
            "signatures": _signature_lines(report, metrics),
        },
    )


def _requirement_totals(metrics: dict) -> dict:
    rows = metrics["requirements"]
    uncovered = [row for row in rows if not row["satisfied"]]
    return {"total": len(rows), "covered": len(rows) - len(uncovered), "uncovered": uncovered}


def _signature_lines(report: AcceptanceReport, metrics: dict, signoffs=None) -> list[dict]:
    """One line per required role: the sign-offs given on this report (``signoffs``,
    else those so far), or an empty line to sign on paper for a role nobody signed."""
    given = {}
    if signoffs is None:
        signoffs = report.signoffs.all() if report.pk else []
    for signoff in signoffs:
        given.setdefault(signoff.role, []).append(signoff)
    return [
        {
            **role,
            "signoffs": given.get(role["role"], []),
            # When its signers were named, as a time the template can format.
            "configured_on": parse_datetime(role.get("configured_at") or ""),
        }
        for role in metrics.get("signoff_roles", [])
    ]


# The stored report's sign-off section (the same markup in every report ever built).
SIGNATURES = re.compile(r'<section class="signatures">.*?</section>', re.DOTALL)


def report_html_signed(*, report: AcceptanceReport, signoffs) -> str:
    """The report's stored HTML with its sign-off section printed again for the
    ``signoffs`` given so far (each with ``is_stale``): the signatures where a role is
    signed, the blank lines only for the roles nobody has. The rest is as built."""
    if "signoff_roles" not in (report.metrics or {}):
        return report.html  # nothing to print the lines from
    section = render_to_string(
        "reports/report_body.html#signatures",
        {
            "report": report,
            "signatures": _signature_lines(report, report.metrics, signoffs),
        },
    )
    return SIGNATURES.sub(lambda _: section.strip(), report.html, count=1)


# Parts of the body only the HTML view shows: the full requirement matrix and the
# per-tester table. WeasyPrint spent ~10 ms laying out each table row (17 s for the
# 1,000-row matrix at the benchmark's size), and even rows hidden with CSS cost their
# style cascade, so they are cut from the document before printing; the PDF prints
# the not-covered requirements as a list and the totals instead (``.print-only``).
SCREEN_ONLY = re.compile(r"<!-- screen-only -->.*?<!-- /screen-only -->", re.DOTALL)


def report_document(*, html: str, report: AcceptanceReport):
    """The report body laid out in pages by WeasyPrint (a ``weasyprint.Document``). It
    loads only Greenlight's static files (the print stylesheet), never anything the
    report's content names."""
    from weasyprint import CSS, HTML

    from .pdf_fetcher import StaticOnlyFetcher
    from .pdf_fetcher import base_url as pdf_base_url

    body = SCREEN_ONLY.sub("", html)
    document = render_to_string("reports/report_pdf.html", {"report": report, "body": body})
    fetcher = StaticOnlyFetcher()
    stylesheet = CSS(url=f"{pdf_base_url()}css/report-print.css", url_fetcher=fetcher)
    return HTML(string=document, base_url=pdf_base_url(), url_fetcher=fetcher).render(
        stylesheets=[stylesheet]
    )


def report_pdf(*, html: str, report: AcceptanceReport) -> bytes:
    """Print the report body to PDF (``report_document``)."""
    return report_document(html=html, report=report).write_pdf()


def report_build(*, report_id: int) -> AcceptanceReport:
    """Build a pending report: metrics, criteria, decision, HTML and PDF, stored once.

    Safe to run twice: only the run that claims the report builds it. Any error marks
    the report failed with the error, for the QA lead to see; asking again builds anew.
    """
    if not job_claim(REPORT_BUILD, report_id):
        return AcceptanceReport.objects.get(pk=report_id)
    report = AcceptanceReport.objects.select_related("plan__release__product").get(pk=report_id)
    try:
        _build(report)
    except Exception as error:
        logger.exception("Acceptance report %s failed", report.uuid)
        _fail(report, f"{type(error).__name__}: {error}")
    report.refresh_from_db()
    return report


def _build(report: AcceptanceReport) -> None:
    plan, at = report.plan, timezone.now()
    # The fingerprint is taken before the metrics: if data changes in between, the
    # report looks stale (safe), never fresh over data it did not see.
    fingerprint = plan_fingerprint(plan, at=at)
    metrics = plan_metrics(plan, at=at)
    criteria = criteria_evaluate(plan, metrics)
    decision = decision_of(criteria)
    report.fingerprint, report.decision = fingerprint, decision
    html = report_render(report=report, metrics=metrics, criteria=criteria)
    pdf = report_pdf(html=html, report=report)
    with transaction.atomic():
        report.pdf.save(download_filename(report.uuid, ext="pdf"), ContentFile(pdf), save=False)
        updated = AcceptanceReport.objects.filter(
            pk=report.pk, status=AcceptanceReport.Status.RUNNING
        ).update(
            status=AcceptanceReport.Status.READY,
            fingerprint=fingerprint,
            metrics=metrics,
            criteria=criteria,
            decision=decision,
            html=html,
            pdf=report.pdf.name,
            finished_at=timezone.now(),
            emails=AcceptanceReport.Emails.WANTED,
        )
        if not updated:
            raise ValidationError("The report was no longer being built.")
        event_record(
            actor=None,
            verb="report.ready",
            obj=report,
            after={"decision": decision, "fingerprint": fingerprint},
            release=plan.release,
        )
        # The emails are wanted from the commit on (the marker above); should queueing
        # them fail, the sweeper queues them later. Robust: nothing here may undo a
        # built report.
        transaction.on_commit(lambda: report_emails_enqueue(report=report), robust=True)
        report.refresh_from_db()
        webhook_emit(
            topic="report.ready", payload=report_ready_payload(report), product=plan.release.product
        )
        gate_refresh(release=plan.release)


@transaction.atomic
def _fail(report: AcceptanceReport, error: str) -> None:
    failed = AcceptanceReport.objects.filter(
        pk=report.pk, status=AcceptanceReport.Status.RUNNING
    ).update(status=AcceptanceReport.Status.FAILED, error=error, finished_at=timezone.now())
    if not failed:
        return
    event_record(
        actor=None,
        verb="report.failed",
        obj=report,
        after={"error": error[:500]},
        release=report.plan.release,
    )
    gate_refresh(release=report.plan.release)
