"""Currency: whether an acceptance report, and a sign-off on it, still speak for the
plan's data. The one home of the rule; the gate, the signing page and the signing
service, the report page and the dashboard, the API, the evidence package, the emails
and the stale notices all ask here.

A ready report is *current* while it is the newest ready report of its plan and the
plan's fingerprint now equals the report's; otherwise it is *stale* — results, defects,
waivers, criteria or scope changed since, or a newer report exists. (Both halves matter:
revoking a waiver can bring the plan's fingerprint back to an older report's, and that
older report must not become current again over the newer one.) A sign-off is current
while its report is current and it was given on the report's fingerprint. A report not
ready has no state: it is neither.

The states of any number of reports or sign-offs cost a fixed number of queries (the
plans' fingerprints in one batch, plus one for the newest ready report of each plan),
so lists in the API and on pages stay flat.
"""

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from uat.models import Plan

from .fingerprint import plans_fingerprints
from .models import AcceptanceReport, SignOff

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


NEWER_REPORT = "A newer report of this plan exists; sign that one."
DATA_CHANGED = (
    "Results, defects, waivers, criteria or scope changed after this report was "
    "built, so it no longer shows the current state. Request a new report and sign it."
)


SIGNERS_CHANGED = (
    "The signers of the {role} sign-off were changed by {who} on {when}, after this "
    "report was built, so it cannot be signed as {role}. Request a new report and sign "
    "that one."
)


def signers_changed_reason(report: AcceptanceReport, required) -> str | None:
    """Why ``report`` cannot be signed for the required sign-off role ``required`` (a
    ``PlanSignoffRole`` with ``configured_by`` loaded): its signers were named after the
    report was asked for, so the report does not show them. None when they were not.
    (The role's configuration is in the plan's fingerprint too, so such a report is also
    stale; this says which role and who changed it.)"""
    configured_at = required.configured_at
    if configured_at is None or configured_at <= report.created_at:
        return None
    who = required.configured_by
    return SIGNERS_CHANGED.format(
        role=required.get_role_display(),
        who=(who.full_name or who.email) if who else "someone",
        when=f"{timezone.localtime(configured_at):%d %B %Y, %H:%M %Z}",
    )


def _why_stale(report: AcceptanceReport, *, newest: int | None, fingerprint: str | None):
    """The rule itself, given the plan's newest ready report and fingerprint now: None
    when ``report`` is current, else why not."""
    if newest != report.pk:
        return NEWER_REPORT
    if fingerprint != report.fingerprint:
        return DATA_CHANGED
    return None


def _state(report: AcceptanceReport, **now) -> str:
    return STALE if _why_stale(report, **now) else CURRENT


def report_states(
    reports, *, fingerprints: dict[int, str] | None = None, newest: dict | None = None
) -> dict[int, str]:
    """``{report id: "current" | "stale"}`` for ready reports (a report not ready is
    left out). 4 queries whatever the number of reports; fewer when the caller already
    holds the plans' ``fingerprints`` (3 fewer) or ``newest`` ready reports (1 fewer)."""
    reports = [report for report in reports if report.is_ready]
    plan_ids = {report.plan_id for report in reports}
    if not plan_ids:
        return {}
    if fingerprints is None or not plan_ids <= fingerprints.keys():
        fingerprints = plans_fingerprints(plan_ids)
    if newest is None or not plan_ids <= newest.keys():
        newest = newest_ready_reports(plan_ids)
    return {
        report.pk: _state(
            report, newest=newest.get(report.plan_id), fingerprint=fingerprints.get(report.plan_id)
        )
        for report in reports
    }


def report_state(report: AcceptanceReport, **known) -> str | None:
    """``"current"`` or ``"stale"`` for a ready report; None while it is not ready.
    ``known`` as for ``report_states``."""
    return report_states([report], **known).get(report.pk)


def report_is_current(report: AcceptanceReport, **known) -> bool:
    """Whether ``report`` is ready and still speaks for its plan's data."""
    return report_state(report, **known) == CURRENT


def report_stale_reason(report: AcceptanceReport) -> str | None:
    """Why a ready report no longer speaks for its plan's data (a newer report, or the
    data changed), for a person; None while it is current. 4 queries."""
    plan_id = report.plan_id
    return _why_stale(
        report,
        newest=newest_ready_reports([plan_id]).get(plan_id),
        fingerprint=plans_fingerprints([plan_id]).get(plan_id),
    )


def signoff_state(signoff: SignOff, report_state: str | None) -> str:
    """A sign-off's state, given the state of its report."""
    on_report = signoff.fingerprint == signoff.report.fingerprint
    return CURRENT if report_state == CURRENT and on_report else STALE


def signoff_states(signoffs, *, known: dict[int, str] | None = None) -> dict[int, str]:
    """``{sign-off id: "current" | "stale"}``; the sign-offs come with their report
    (``select_related("report")``). 4 queries whatever their number, none when the
    states of their reports are ``known`` already."""
    signoffs = list(signoffs)
    reports = {signoff.report_id: signoff.report for signoff in signoffs}
    if known is not None and set(reports) <= set(known):
        states = known
    else:
        states = report_states(reports.values())
    return {
        signoff.pk: signoff_state(signoff, states.get(signoff.report_id)) for signoff in signoffs
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
