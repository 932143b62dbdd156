"""Current or stale: whether a sign-off (and the report it signs) still speaks for the
plan's data.

A sign-off is *current* while its report is the newest ready report of its plan and the
plan's fingerprint now equals both the report's and the sign-off's; otherwise it is
*stale* — results, defects, waivers, criteria or scope changed since, or a newer report
exists. The gate never counts a stale sign-off (see ``reports.gate``).

The states of any number of sign-offs cost a fixed number of queries (the plans'
fingerprints in one batch, plus one for the newest ready report of each plan), so lists
in the API and on pages stay flat.
"""

from django.db.models import OuterRef, Subquery

from uat.models import Plan, SignOff

from .fingerprint import plans_fingerprints
from .models import AcceptanceReport

CURRENT, STALE = "current", "stale"
SIGNOFF_STATES = [(CURRENT, "Current"), (STALE, "Stale")]


def newest_ready_reports(plan_ids) -> dict[int, int | None]:
    """The id of each plan's newest ready report. 1 query."""
    newest = (
        AcceptanceReport.objects.filter(
            plan_id=OuterRef("pk"), status=AcceptanceReport.Status.READY
        )
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    return dict(
        Plan.objects.filter(pk__in=set(plan_ids))
        .annotate(newest=Subquery(newest))
        .values_list("pk", "newest")
    )


def report_states(reports) -> dict[int, str]:
    """``{report id: "current" | "stale"}`` for ready reports (a report not ready is
    left out). 9 queries whatever the number of reports."""
    reports = [report for report in reports if report.is_ready]
    plan_ids = {report.plan_id for report in reports}
    if not plan_ids:
        return {}
    fingerprints = plans_fingerprints(plan_ids)
    newest = newest_ready_reports(plan_ids)
    return {
        report.pk: CURRENT
        if newest.get(report.plan_id) == report.pk
        and fingerprints.get(report.plan_id) == report.fingerprint
        else STALE
        for report in reports
    }


def report_state(report: AcceptanceReport) -> str | None:
    """``"current"`` or ``"stale"`` for a ready report; None while it is not ready."""
    return report_states([report]).get(report.pk)


def signoff_states(signoffs, *, known: dict[int, str] | None = None) -> dict[int, str]:
    """``{sign-off id: "current" | "stale"}``; the sign-offs come with their report
    (``select_related("report")``). 9 queries whatever their number, none when the
    states of their reports are ``known`` already."""
    signoffs = list(signoffs)
    reports = {signoff.report_id: signoff.report for signoff in signoffs}
    if known is not None and set(reports) <= set(known):
        states = known
    else:
        states = report_states(reports.values())
    return {
        signoff.pk: CURRENT
        if states.get(signoff.report_id) == CURRENT
        and signoff.fingerprint == reports[signoff.report_id].fingerprint
        else STALE
        for signoff in signoffs
    }


def signoffs_with_state(queryset, *, known: dict[int, str] | None = None) -> list[SignOff]:
    """The sign-offs of ``queryset``, each with ``state`` and ``is_stale`` set (reports'
    states ``known`` already are not worked out again)."""
    signoffs = list(queryset)
    states = signoff_states(signoffs, known=known)
    for signoff in signoffs:
        signoff.state = states[signoff.pk]
        signoff.is_stale = signoff.state == STALE
    return signoffs
