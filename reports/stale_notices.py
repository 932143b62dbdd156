"""Telling signers that their sign-off went stale and a new report is needed.

A beat task (``stale_signoffs_task``, every few minutes) looks for sign-offs whose
report no longer speaks for the plan's data — results, defects, waivers, criteria or
scope changed, or a newer report exists — and emails each signer once per report
(``EmailDelivery`` kind ``stale``, unique per report and recipient), through the same
claimed-and-recorded delivery as every other email. A signer who already signed a newer
report of the plan is not told again. Polling instead of hooking every change keeps one
place for the rule, and also catches what no service call announces (a waiver expiring).
"""

from collections import defaultdict

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse

from .currency import STALE, newest_ready_reports, report_states, signoffs_with_state
from .emails import deliveries_send, delivery_send
from .models import AcceptanceReport, DeliveryStatus, EmailDelivery, SignOff


def _unnotified_signoffs() -> list[SignOff]:
    """Sign-offs on ready reports whose signer was not told yet about that report and
    has not signed a newer report of the plan since."""
    told = EmailDelivery.objects.filter(
        kind=EmailDelivery.Kind.STALE,
        report_id=OuterRef("report_id"),
        recipient=OuterRef("signer__email"),
    )
    signed_later = SignOff.objects.filter(
        signer_id=OuterRef("signer_id"),
        report__plan_id=OuterRef("report__plan_id"),
        report__created_at__gt=OuterRef("report__created_at"),
    )
    return list(
        SignOff.objects.filter(report__status=AcceptanceReport.Status.READY, signer__is_active=True)
        .exclude(Exists(told))
        .exclude(Exists(signed_later))
        .select_related("report__plan__release__product", "signer")
    )


def _context(report: AcceptanceReport, newer: bool, signoffs: list[SignOff], name: str) -> dict:
    plan = report.plan
    return {
        "name": name,
        "report": report,
        "plan": plan,
        "newer_report": newer,
        "signoffs": signoffs,
        "report_url": settings.SITE_URL + reverse("reports:report", args=[report.uuid]),
        "dashboard_url": settings.SITE_URL + reverse("reports:dashboard", args=[plan.pk]),
    }


def stale_signoffs_notify(*, final: bool = False) -> int:
    """Email every signer of a report gone stale that a new report is needed: exactly
    once per recipient per report however often this runs. Returns how many were sent."""
    candidates = _unnotified_signoffs()
    reports = {signoff.report_id: signoff.report for signoff in candidates}
    states = report_states(reports.values())
    stale_reports = {pk: report for pk, report in reports.items() if states.get(pk) == STALE}
    if not stale_reports:
        return 0
    newest = newest_ready_reports({report.plan_id for report in stale_reports.values()})
    blocks = defaultdict(list)
    for signoff in signoffs_with_state(
        SignOff.objects.filter(report_id__in=stale_reports)
        .select_related("report")
        .order_by("signed_at", "pk"),
        known=states,
    ):
        blocks[signoff.report_id].append(signoff)
    contexts, deliveries = {}, []
    for signoff in candidates:
        report = stale_reports.get(signoff.report_id)
        if report is None:
            continue
        delivery, _ = EmailDelivery.objects.get_or_create(
            kind=EmailDelivery.Kind.STALE,
            key=f"stale:{report.uuid}",
            recipient=signoff.signer.email,
            defaults={"report": report},
        )
        if delivery.status == DeliveryStatus.PENDING and delivery.pk not in contexts:
            newer = newest.get(report.plan_id) != report.pk
            contexts[delivery.pk] = _context(report, newer, blocks[report.pk], signoff.printed_name)
            deliveries.append(delivery)

    def send(delivery: EmailDelivery) -> bool:
        return delivery_send(delivery=delivery, name="signoff_stale", context=contexts[delivery.pk])

    return deliveries_send(deliveries, send, final=final)
