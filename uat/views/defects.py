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
from ..models import Defect, DefectStatus, Evidence, Execution, StepStatus
from ..policy import can_comment, can_triage, policy_require
from .access import defect_for, own_execution_for, require_lead, require_member
from .forms import (
    DefectCommentForm,
    DefectFilterForm,
    DefectMoveForm,
    DefectReportForm,
    service_error_add,
)

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


def _detail_context(request, defect: Defect, **extra) -> dict:
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
    may_comment = can_comment(request.user, defect)
    return {
        "defect": defect,
        "runs": runs,
        "retests": retests,
        "evidence": evidence,
        "is_lead": can_triage(request.user, defect),
        "moves": [(status, DefectStatus(status).label) for status in defect.allowed_statuses],
        "may_fix": defect.can_move_to(DefectStatus.FIXED),
        "move_form": extra.pop("move_form", None) or DefectMoveForm(),
        "history": defect.history(),
        "may_comment": may_comment,
        "comment_form": extra.pop("comment_form", None) or DefectCommentForm(),
        **extra,
    }


@login_required
def defect_detail(request, pk: int):
    """A defect: where it stands, its history (every move with who, when and why, and
    the comments), the runs that found it and their retests."""
    defect = defect_for(request.user, pk)
    return render(request, "uat/defect_detail.html", _detail_context(request, defect))


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


def _is_htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


@login_required
@require_POST
def defect_transition(request, pk: int):
    """A QA lead moves a defect: confirm, start, fix (in a build; queues retests),
    verify, close… With htmx the page's defect part is swapped in place; a refusal keeps
    the note and build typed (400 without JavaScript)."""
    defect = defect_for(request.user, pk)
    policy_require(can_triage(request.user, defect), "triage")
    status = request.POST.get("status", "")
    form = DefectMoveForm(request.POST)
    if form.is_valid():
        try:
            defect = services.defect_transition(
                defect=defect,
                status=status,
                actor=request.user,
                note=form.cleaned_data["note"],
                # The build is the fix's: the other buttons of the same form leave it.
                fixed_in_build=form.cleaned_data["fixed_in_build"] if status == "fixed" else "",
            )
        except ValidationError as error:
            service_error_add(form, error)
    if form.errors:
        defect = defect_for(request.user, pk)
        context = _detail_context(request, defect, move_form=form)
        if _is_htmx(request):
            return render(request, "uat/defect_detail.html#defect-main", context)
        return render(request, "uat/defect_detail.html", context, status=400)
    notice = f"{defect.reference} is now {defect.get_status_display().lower()}."
    if _is_htmx(request):
        defect = defect_for(request.user, pk)
        context = _detail_context(request, defect, notice=notice)
        return render(request, "uat/defect_detail.html#defect-main", context)
    messages.success(request, notice)
    return redirect(safe_next(request) or reverse("uat:defect", args=[defect.pk]))


@login_required
@require_POST
def defect_comment(request, pk: int):
    """Add a comment to the defect's conversation (reporter, QA leads, developers). With
    htmx the history is swapped in place; an empty comment keeps nothing lost."""
    defect = defect_for(request.user, pk)
    policy_require(can_comment(request.user, defect), "comment")
    form = DefectCommentForm(request.POST)
    if form.is_valid():
        try:
            services.defect_comment_add(
                defect=defect, actor=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            service_error_add(form, error)
    if form.errors:
        context = _detail_context(request, defect, comment_form=form)
        if _is_htmx(request):
            return render(request, "uat/defect_detail.html#conversation", context)
        return render(request, "uat/defect_detail.html", context, status=400)
    if _is_htmx(request):
        context = _detail_context(request, defect, comment_notice="Your comment is added.")
        return render(request, "uat/defect_detail.html#conversation", context)
    messages.success(request, "Your comment is added.")
    return redirect(reverse("uat:defect", args=[defect.pk]) + "#conversation")
