"""The release dashboard and the acceptance reports, for QA leads and the release's
stakeholders; everyone else gets 404. Each page runs a fixed number of queries."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from uat.access import sees_everything
from uat.audit import event_record
from uat.downloads import download_filename
from uat.models import Execution, Plan, Release, Requirement
from uat.policy import can_request_report, policy_require
from uat.views.access import require_member

from .charts import plan_charts
from .criteria import criteria_evaluate, decision_of
from .currency import CURRENT, STALE, report_state, report_states, signoffs_with_state
from .metrics import plan_metrics
from .models import AcceptanceReport, DeliveryStatus, EmailDelivery
from .services import report_html_signed, report_request
from .signoffs import roles_left_to_sign

# The dashboard's long tables (1,000 requirements, 300 testers at the benchmark's size)
# show a page at a time: rendering them whole was most of the page's time. The report
# keeps the full matrix.
DASHBOARD_ROWS = 50


def plans_for(user):
    """Plans of the releases ``user`` may see: QA leads all, stakeholders theirs."""
    return Plan.objects.filter(release__in=Release.objects.with_results_for(user)).select_related(
        "release__product"
    )


def plan_for(user, plan_id: int) -> Plan:
    return get_object_or_404(plans_for(user), pk=plan_id)


def report_for(user, uuid) -> AcceptanceReport:
    reports = AcceptanceReport.objects.filter(
        plan__release__in=Release.objects.with_results_for(user)
    ).select_related("plan__release__product", "requested_by")
    return get_object_or_404(reports, uuid=uuid)


def _latest_report(plan: Plan) -> tuple[AcceptanceReport | None, bool]:
    """The plan's newest report, and whether the data moved on since it was built."""
    # The stored HTML, metrics and criteria are the bulk of a report row; the panel
    # shows none of them.
    report = (
        plan.reports.select_related("requested_by")
        .defer("html", "metrics", "criteria")
        .order_by("-created_at", "-pk")
        .first()
    )
    # The latest report, when ready, is the plan's newest ready one.
    stale = bool(report) and report_state(report, newest={plan.pk: report.pk}) == STALE
    return report, stale


def _releases_of(plans: list[Plan], user) -> tuple[list[dict], list[dict]]:
    """The plans grouped by release, in order: the releases ``user`` runs (owns, or owns
    a plan of), then the others."""
    releases: dict[int, dict] = {}
    for plan in plans:
        entry = releases.setdefault(plan.release_id, {"release": plan.release, "plans": []})
        entry["plans"].append(plan)
    run, others = [], []
    for entry in releases.values():
        release = entry["release"]
        mine = release.owner_id == user.pk or any(p.owner_id == user.pk for p in entry["plans"])
        (run if mine else others).append(entry)
    return run, others


@login_required
@require_GET
def index(request):
    """The releases one may see, each with its plans: QA leads land here, on the
    releases they run first."""
    plans = list(
        plans_for(request.user).order_by("release__product__name", "-release__created_at", "stage")
    )
    if not plans and not sees_everything(request.user):
        raise Http404("No release to show.")
    run, others = _releases_of(plans, request.user)
    return render(request, "reports/index.html", {"plans": plans, "run": run, "others": others})


@login_required
@require_GET
def dashboard(request, plan_id: int):
    plan = plan_for(request.user, plan_id)
    metrics = plan_metrics(plan)
    criteria = criteria_evaluate(plan, metrics)
    report, stale = _latest_report(plan)
    tables = {}
    for name in ("requirements", "testers"):
        tables[name] = Paginator(metrics[name], DASHBOARD_ROWS).get_page(request.GET.get(name))
        others = request.GET.copy()  # a link to another page keeps the other table's page
        others.pop(name, None)
        tables[name].query = others.urlencode()
    failed_emails = []
    if sees_everything(request.user):
        failed_emails = list(
            EmailDelivery.objects.filter(report__plan=plan, status=DeliveryStatus.FAILED)
            .select_related("report")
            .order_by("-created_at")[:20]
        )
    return render(
        request,
        "reports/dashboard.html",
        {
            "plan": plan,
            "metrics": metrics,
            "criteria": criteria,
            "decision": decision_of(criteria),
            "charts": plan_charts(metrics),
            "report": report,
            "stale": stale,
            "can_request": can_request_report(request.user, plan),
            "failed_emails": failed_emails,
            "requirements": tables["requirements"],
            "testers": tables["testers"],
        },
    )


def _report_panel(request, plan: Plan, *, notice: str = ""):
    """The report panel alone, for htmx: polled while a report is built, and the answer
    to asking for one (its ``notice`` says what the asking did)."""
    report, stale = _latest_report(plan)
    return render(
        request,
        "reports/dashboard.html#report-panel",
        {
            "plan": plan,
            "report": report,
            "stale": stale,
            "can_request": can_request_report(request.user, plan),
            "notice": notice,
        },
    )


@login_required
@require_GET
def report_status(request, plan_id: int):
    """The report panel alone: htmx polls it while a report is being built."""
    return _report_panel(request, plan_for(request.user, plan_id))


ASKED_NEW = "The acceptance report is being built."
ASKED_AGAIN = "Nothing changed since the last report: here it is."


@login_required
@require_POST
def report_ask(request, plan_id: int):
    plan = plan_for(request.user, plan_id)
    policy_require(can_request_report(request.user, plan), "request_report")
    report, created = report_request(plan=plan, actor=request.user)
    # A new report with an error could not be queued: the report panel says so (and stops
    # saying it once the sweeper has queued it), so no "being built" here.
    notice = ASKED_AGAIN if not created else "" if report.error else ASKED_NEW
    if request.headers.get("HX-Request"):
        # The panel itself says it; a message would wait for the next full page.
        return _report_panel(request, plan, notice=notice)
    if notice:
        (messages.info if notice == ASKED_AGAIN else messages.success)(request, notice)
    return redirect("reports:dashboard", plan_id=plan.pk)


@login_required
@require_GET
def requirement(request, plan_id: int, requirement_id: int):
    """One row of the coverage matrix: the requirement's cases in scope, the execution
    that counts for each, and the defects found on the plan's executions of them."""
    plan = plan_for(request.user, plan_id)
    requirement = get_object_or_404(
        Requirement.objects.filter(cases__plans=plan).distinct(), pk=requirement_id
    )
    cases = list(
        plan.cases.filter(requirements=requirement)
        .order_by("key")
        .values("id", "key", "title", "priority")
    )
    latest = {
        execution.case_id: execution
        for execution in Execution.objects.filter(
            plan=plan, is_latest=True, case__in=[case["id"] for case in cases]
        ).select_related("tester", "cohort")
    }
    defects = (
        Execution.defects.through.objects.filter(
            execution__plan=plan, execution__case__requirements=requirement
        )
        .select_related("defect", "execution__case")
        .order_by("defect_id")
    )
    found: dict[int, list] = {}
    for link in defects:
        listed = found.setdefault(link.execution.case_id, [])
        if link.defect not in listed:
            listed.append(link.defect)
    rows = [
        {**case, "execution": latest.get(case["id"]), "defects": found.get(case["id"], [])}
        for case in cases
    ]
    return render(
        request,
        "reports/requirement.html",
        {"plan": plan, "requirement": requirement, "rows": rows},
    )


@login_required
@require_GET
def report(request, uuid):
    """The report as built, and below it, live, every sign-off on it with its state."""
    report = report_for(request.user, uuid)
    states = report_states([report])
    state = states.get(report.pk)
    signoffs = signoffs_with_state(
        report.signoffs.select_related("report").order_by("signed_at", "pk"), known=states
    )
    # Offered while a role is left that the user may sign on this current report: gone
    # once they signed every role they may.
    left = roles_left_to_sign(request.user, report, states=states, signoffs=signoffs)
    context = {
        "report": report,
        "stale": state == STALE,
        "signoffs": signoffs,
        "can_sign": bool(left),
        "signed_all": state == CURRENT
        and not left
        and any(s.signer_id == request.user.pk for s in signoffs),
        # As built, but its sign-off lines show who signed (blanks for the others).
        "report_html": report_html_signed(report=report, signoffs=signoffs),
    }
    return render(request, "reports/report.html", context)


@login_required
@require_GET
def report_pdf(request, uuid):
    report = report_for(request.user, uuid)
    if not report.is_ready or not report.pdf:
        raise Http404("This report has no PDF yet.")
    plan = report.plan
    return FileResponse(
        report.pdf.open("rb"),
        as_attachment=True,
        filename=download_filename(
            "acceptance-report", plan.release.version, plan.stage, report.uuid.hex[:8], ext="pdf"
        ),
        content_type="application/pdf",
    )


class EmailSettingsForm(forms.Form):
    receives_digests = forms.BooleanField(
        label="Send me the daily digest of plans in execution", required=False
    )
    receives_reminders = forms.BooleanField(
        label="Remind me of assignments waiting for me", required=False
    )
    receives_defect_updates = forms.BooleanField(
        label="Tell me when a defect I reported changes status or gets a comment",
        required=False,
    )


@login_required
@require_http_methods(["GET", "POST"])
def email_settings(request):
    """Each person opts in or out of digests, reminders and their defects' updates."""
    user = request.user
    require_member(user)  # someone with no role in Greenlight gets nothing from it
    names = list(EmailSettingsForm.base_fields)
    initial = {name: getattr(user, name) for name in names}
    form = EmailSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        for name in names:
            setattr(user, name, form.cleaned_data[name])
        with transaction.atomic():
            user.save(update_fields=names)
            event_record(
                actor=user,
                verb="user.email_settings_changed",
                obj=user,
                before=initial,
                after=form.cleaned_data,
            )
        messages.success(request, "Your email settings are saved.")
        return redirect("reports:email_settings")
    return render(request, "reports/email_settings.html", {"form": form})
