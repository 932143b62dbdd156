"""Defects: a tester reports one from a failed step; testers follow theirs; QA leads
triage every defect and move it along its workflow (a fix queues retests)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.navigation import safe_next

from .. import services
from ..access import sees_everything
from ..models import Defect, DefectStatus, Evidence, Execution, StepStatus
from ..policy import can_triage, policy_require
from .access import defect_for, own_execution_for, require_lead, require_member
from .forms import DefectFilterForm, DefectReportForm, service_error_add

PAGE_SIZE = 50


def _failed_step(execution: Execution, results: dict, wanted: str) -> int | None:
    if wanted.isdigit() and int(wanted) in results:
        return int(wanted)
    failed = [n for n, r in sorted(results.items()) if r.status == StepStatus.FAILED]
    return failed[0] if failed else None


def _reproduction(execution: Execution, results: dict, upto: int | None) -> str:
    """The steps up to the failed one, with what actually happened against what was
    expected, then where it ran."""
    lines = []
    steps = execution.case_version.steps
    last = upto or len(steps)
    for position, step in enumerate(steps[:last], start=1):
        lines.append(f"{position}. {step['action']}")
        lines.append(f"   Expected: {step['expected']}")
        result = results.get(position)
        if result is not None and result.status != StepStatus.PASSED:
            lines.append(f"   Actual ({result.get_status_display().lower()}): ")
            lines[-1] += result.actual_result or "(not described)"
    lines.append("")
    environment = execution.environment
    lines.append(f"Environment: {environment.name if environment else 'not recorded'}")
    lines.append(f"Build: {execution.build or 'not recorded'}")
    lines.append(f"Case: {execution.case.key} v{execution.case_version.number}")
    return "\n".join(lines)


@login_required
def defect_new(request, uuid):
    """Report a defect from a run: prefilled from the failed step, severity required."""
    execution = own_execution_for(request.user, uuid)
    results = {result.position: result for result in execution.step_results.all()}
    step = _failed_step(execution, results, request.GET.get("step", request.POST.get("step", "")))
    initial = {"steps_to_reproduce": _reproduction(execution, results, step)}
    if step is not None:
        actual = results[step].actual_result
        initial["title"] = f"{execution.case_version.title}: step {step} — {actual}"[:300]
    form = DefectReportForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                defect = services.defect_report(
                    execution=execution,
                    actor=request.user,
                    title=data["title"],
                    severity=data["severity"],
                    steps_to_reproduce=data["steps_to_reproduce"],
                    step_position=step,
                    submission_key=data["submission"],
                )
                if data["file"] and not getattr(defect, "resubmitted", False):
                    services.evidence_attach(
                        execution=execution,
                        actor=request.user,
                        upload=data["file"],
                        step_position=step,
                    )
        except ValidationError as error:
            service_error_add(form, error)
        else:
            if getattr(defect, "resubmitted", False):
                messages.info(request, f"{defect.reference} was reported already; here it is.")
            else:
                messages.success(request, f"Reported {defect.reference}. Thank you!")
            return redirect("uat:defect", pk=defect.pk)
    context = {
        "execution": execution,
        "form": form,
        "step": step,
        "evidence": list(execution.evidence.all()),
    }
    return render(request, "uat/defect_form.html", context)


@login_required
def defect_detail(request, pk: int):
    defect = defect_for(request.user, pk)
    runs = list(
        Execution.objects.visible_to(request.user)
        .filter(defects=defect)
        .select_related("case", "tester")
        .order_by("pk")
    )
    retests = list(
        Execution.objects.visible_to(request.user)
        .filter(retest_of__in=[run.pk for run in runs])
        .exclude(pk__in=[run.pk for run in runs])
        .select_related("case", "tester")
    )
    evidence = list(
        Evidence.objects.filter(execution__in=[run.pk for run in runs]).select_related("execution")
    )
    is_lead = sees_everything(request.user)
    context = {
        "defect": defect,
        "runs": runs,
        "retests": retests,
        "evidence": evidence,
        "is_lead": is_lead,
        "moves": [(status, DefectStatus(status).label) for status in defect.allowed_statuses],
    }
    return render(request, "uat/defect_detail.html", context)


@login_required
def my_defects(request):
    """The defects the tester reported, and where each stands."""
    require_member(request.user)
    defects = Defect.objects.filter(reported_by=request.user).with_details()
    page = Paginator(defects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "uat/my_defects.html", {"page": page})


@login_required
def defect_list(request):
    """Triage for QA leads: every defect, filtered by severity, status, release, cohort."""
    require_lead(request.user)
    form = DefectFilterForm(request.GET or None)
    defects = form.filter(Defect.objects.visible_to(request.user).with_details())
    page = Paginator(defects.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for defect in page.object_list:
        defect.moves = [(s, DefectStatus(s).label) for s in defect.allowed_statuses]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "uat/defect_list.html", context)


@login_required
@require_POST
def defect_transition(request, pk: int):
    """A QA lead moves a defect: confirm, start, fix (queues retests), verify, close…"""
    defect = defect_for(request.user, pk)
    policy_require(can_triage(request.user, defect), "triage")
    status = request.POST.get("status", "")
    try:
        defect = services.defect_transition(
            defect=defect, status=status, actor=request.user, note=request.POST.get("note", "")
        )
    except ValidationError as error:
        messages.error(request, f"{defect.reference}: {' '.join(error.messages)}")
    else:
        messages.success(
            request, f"{defect.reference} is now {defect.get_status_display().lower()}."
        )
    return redirect(safe_next(request) or reverse("uat:defect", args=[defect.pk]))
