"""The tester's inbox and the execution page: mark steps (with htmx, or plain form posts
when JavaScript is off), finish with a note, attach evidence, go on to the next case.

Nothing typed on the page is lost: every post from it carries all its texts (the
actual results and the note) and keeps them as drafts before anything else can fail or
take the tester away; with JavaScript they are kept as they type too. The page shows
the drafts in place of what is saved, and beside it where the two differ."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from .. import services
from ..downloads import download_filename_of
from ..models import (
    FINAL_STATUSES,
    Defect,
    Event,
    Execution,
    ExecutionDraft,
    ExecutionStatus,
    StepStatus,
)
from ..services.drafts import draft_fields
from .access import execution_for, own_execution_for, require_member

PAGE_SIZE = 50
FILTERS = {
    "todo": ("To do", Q(status=ExecutionStatus.PENDING)),
    "in_progress": ("In progress", Q(status=ExecutionStatus.IN_PROGRESS)),
    "done": ("Done", Q(status__in=FINAL_STATUSES)),
    "failed": ("Failed", Q(status=ExecutionStatus.FAILED)),
    "retest": ("Retests", Q(retest_of__isnull=False)),
}
# The time one opening of the page can add: a tab left open overnight is not work.
MAX_SESSION_SECONDS = 4 * 60 * 60
OPENED_SALT = "uat.execution.opened"


@login_required
def inbox(request):
    """ "My work": the tester's assignments by release and plan, with counts by state."""
    require_member(request.user)
    mine = Execution.objects.for_tester(request.user)
    chosen = request.GET.get("show", "")
    listed = mine.filter(FILTERS[chosen][1]) if chosen in FILTERS else mine
    page = Paginator(listed.in_inbox_order(), PAGE_SIZE).get_page(request.GET.get("page"))
    summaries = mine.counts_by_plan()
    for summary in summaries:
        summary["percent"] = round(100 * summary["done"] / summary["total"])
    by_plan = {summary["plan_id"]: summary for summary in summaries}
    groups: list[dict] = []
    for execution in page.object_list:
        if not groups or groups[-1]["plan"]["plan_id"] != execution.plan_id:
            groups.append({"plan": by_plan[execution.plan_id], "executions": []})
        groups[-1]["executions"].append(execution)
    context = {
        "page": page,
        "groups": groups,
        "summaries": summaries,
        "filters": [(key, label) for key, (label, _) in FILTERS.items()],
        "chosen": chosen if chosen in FILTERS else "",
    }
    return render(request, "uat/inbox.html", context)


@login_required
def next_case(request):
    """Onward to the tester's next case to run, or back to the inbox when all is done."""
    require_member(request.user)
    upcoming = Execution.objects.next_for(request.user)
    if upcoming is None:
        messages.success(request, "Nothing left to run. Thank you!")
        return redirect("uat:inbox")
    return redirect("uat:execution", uuid=upcoming.uuid)


def _opened_token(request) -> str:
    """A signed 'page opened at' timestamp, kept across the no-JavaScript redirects so
    the time since the tester opened the case counts when they finish."""
    token = request.GET.get("opened", "")
    if token and _seconds_since(token) is not None:
        return token
    return signing.dumps(int(time.time()), salt=OPENED_SALT)


def _seconds_since(token: str) -> int | None:
    try:
        opened = signing.loads(token, salt=OPENED_SALT, max_age=MAX_SESSION_SECONDS)
    except signing.BadSignature:
        return None
    return max(0, min(int(time.time()) - int(opened), MAX_SESSION_SECONDS))


def _typed(saved: str, draft: str | None) -> dict:
    """What a text box shows: the draft when there is one, else what is saved; and
    whether the two differ (the page then shows what is saved beside it)."""
    return {
        "text": saved if draft is None else draft,
        "saved": saved,
        "unsaved": draft is not None and draft.strip() != saved,
    }


def _steps(execution: Execution, errors: dict, drafts: dict, defects: list[Defect], evidence):
    recorded = {result.position: result for result in execution.step_results.all()}
    attached: dict[int, list] = {}
    for item in evidence:
        if item.step_position is not None:
            attached.setdefault(item.step_position, []).append(item)
    found: dict[int, list[Defect]] = {}
    for defect in defects:  # a defect found on a step is linked there, not invited again
        if defect.step_position is not None:
            found.setdefault(defect.step_position, []).append(defect)
    not_run = set(execution.steps_not_run())
    steps = []
    for position, step in enumerate(execution.case_version.steps, start=1):
        result = recorded.get(position)
        actual = _typed(
            result.actual_result if result else "", drafts.get(ExecutionDraft.step_field(position))
        )
        # What is saved shows beside the box only where there is a result to show.
        actual["beside"] = result is not None and actual["unsaved"]
        steps.append(
            {
                "position": position,
                "action": step["action"],
                "expected": step["expected"],
                "result": result,
                "actual": actual,
                "errors": errors.get(position, []),
                "not_run": position in not_run,
                "defects": found.get(position, []),
                "evidence": attached.get(position, []),
            }
        )
    return steps


def _last_time(execution: Execution) -> dict | None:
    """For a retest: the defect whose fix queued it, and what failed last time — the
    earlier run's results, note and evidence. Four queries, on retests only."""
    if not execution.is_retest:
        return None
    earlier = (
        Execution.objects.select_related("tester")
        .prefetch_related("step_results", "evidence")
        .get(pk=execution.retest_of_id)
    )
    queued = (
        Event.objects.for_object(execution)
        .filter(verb="execution.retest_queued")
        .values_list("after", flat=True)
        .first()
    )
    defect_id = (queued or {}).get("defect")
    fixed = Defect.objects.filter(pk=defect_id).first() if defect_id else None
    steps = earlier.case_version_id == execution.case_version_id
    return {
        "earlier": earlier,
        "defect": fixed,
        "results": [r for r in earlier.step_results.all() if r.status != StepStatus.PASSED],
        "same_steps": steps,
        "evidence": list(earlier.evidence.all()),
    }


def _posted_texts(request, execution: Execution) -> dict[str, str]:
    """The texts of the execution form this post carries."""
    return {name: request.POST[name] for name in draft_fields(execution) if name in request.POST}


def _keep_typed(request, execution: Execution) -> None:
    """Keep every text this post carries as a draft, before what it asks for can fail or
    take the tester elsewhere. A finished run has no text boxes left to restore."""
    texts = _posted_texts(request, execution)
    if texts and not execution.is_finished:
        services.execution_drafts_save(execution=execution, actor=request.user, texts=texts)


def _context(request, execution: Execution, errors=None, **extra) -> dict:
    is_owner = execution.tester_id == request.user.pk
    can_edit = is_owner and not execution.is_finished
    if can_edit:  # one query, only on the tester's own open run
        drafts = ExecutionDraft.objects.texts_of(execution, request.user)
    elif is_owner and request.method == "POST":
        # Finished meanwhile (in another tab): what they typed is shown, to copy.
        drafts = _posted_texts(request, execution)
    else:
        drafts = {}
    defects = list(execution.defects.all())
    evidence = list(execution.evidence.all())
    steps = _steps(execution, errors or {}, drafts, defects, evidence)
    marked = [step["result"].status for step in steps if step["result"]]
    return {
        "execution": execution,
        "version": execution.case_version,
        "steps": steps,
        "notes": _typed(execution.notes, drafts.get(ExecutionDraft.NOTES)),
        "implied": Execution.result_from_steps(marked),
        "marked": len(marked),
        "not_run": [step["position"] for step in steps if step["not_run"]],
        "can_edit": can_edit,
        "is_owner": is_owner,
        "opened": _opened_token(request),
        "evidence": evidence,
        "defects": defects,
        "statuses": StepStatus.choices,
        "evidence_limit": settings.EVIDENCE_MAX_BYTES,
        "last_time": _last_time(execution),
        **extra,
    }


def _page(request, execution: Execution, status: int = 200, **extra):
    return render(
        request, "uat/execution.html", _context(request, execution, **extra), status=status
    )


@login_required
def execution_page(request, uuid):
    """Run one case: its steps with controls to mark each; every mark is saved at once."""
    if request.method != "POST":
        return _page(request, execution_for(request.user, uuid))
    execution = own_execution_for(request.user, uuid)
    _keep_typed(request, execution)
    if "mark" in request.POST:
        return _mark(request, execution)
    if "finish" in request.POST:
        return _finish(request, execution)
    if "pass_remaining" in request.POST:
        return _pass_remaining(request, execution)
    # The page's ways out are buttons of its form, so they keep what was typed first.
    if request.POST.get("report_defect", "").isdigit():
        url = reverse("uat:defect_new", args=[execution.uuid])
        return redirect(f"{url}?{_query(step=request.POST['report_defect'])}")
    if "next" in request.POST:
        return redirect("uat:next_case")
    return HttpResponseBadRequest("Nothing to save.")


@login_required
@require_POST
def execution_draft(request, uuid):
    """Keep what the tester is typing (htmx, as they type): the actual results and the
    note, restored whenever the page is shown again, until the step is marked or the
    run finished."""
    execution = own_execution_for(request.user, uuid)
    texts = _posted_texts(request, execution)
    try:
        services.execution_drafts_save(execution=execution, actor=request.user, texts=texts)
    except ValidationError as error:
        if request.headers.get("HX-Request"):
            return HttpResponse(" ".join(error.messages), status=409, content_type="text/plain")
        messages.error(request, " ".join(error.messages))
    else:
        if request.headers.get("HX-Request"):
            context = {"saved_at": timezone.localtime()}
            return render(request, "uat/execution.html#draft-status", context)
        messages.success(request, "Draft saved.")
    return redirect(reverse("uat:execution", args=[execution.uuid]) + "#execution-form")


def _lock_version(request) -> int | None:
    value = request.POST.get("lock_version", "")
    return int(value) if value.isdigit() else None


def _conflict(request, current: Execution, error: ValidationError):
    """The later of two saves is refused; show the current state with the reason."""
    current = Execution.objects.with_details().get(pk=current.pk)
    context = _context(request, current, conflict=error.messages[0])
    if request.headers.get("HX-Request"):
        response = render(request, "uat/execution.html#execution-form", context)
        response["HX-Retarget"] = "#execution-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "uat/execution.html", context, status=409)


def _mark(request, execution: Execution):
    position_text, _, status = request.POST["mark"].partition(":")
    if not position_text.isdigit():
        return HttpResponseBadRequest("Which step?")
    position = int(position_text)
    if not 1 <= position <= execution.case_version.step_count:
        return HttpResponseBadRequest(f"This case has no step {position}.")
    actual = request.POST.get(f"actual_{position}", "")
    is_htmx = bool(request.headers.get("HX-Request"))
    try:
        services.execution_step_record(
            execution=execution,
            position=position,
            status=status,
            actual_result=actual,
            actor=request.user,
            lock_version=_lock_version(request),
        )
    except services.ConcurrentEditError as conflict:
        return _conflict(request, conflict.current, conflict)
    except ValidationError as error:
        context = _context(request, execution, errors={position: error.messages})
        if is_htmx:
            context["step"] = context["steps"][position - 1]
            return render(request, "uat/execution.html#step-saved", context)
        return _page(request, execution, status=400, errors={position: error.messages})
    if is_htmx:
        context = _context(request, execution, focus=True)
        context["step"] = context["steps"][position - 1]
        return render(request, "uat/execution.html#step-saved", context)
    messages.success(request, f"Step {position} saved as {StepStatus(status).label.lower()}.")
    opened = request.POST.get("opened", "")
    url = reverse("uat:execution", args=[execution.uuid])
    return redirect(f"{url}?{_query(opened=opened)}#step-{position}")


def _pass_remaining(request, execution: Execution):
    """*Pass all remaining steps*: every step not marked yet, as passed, at once."""
    typed = {
        position: request.POST.get(f"actual_{position}", "")
        for position in range(1, execution.case_version.step_count + 1)
    }
    is_htmx = bool(request.headers.get("HX-Request"))
    try:
        passed = services.execution_steps_pass_remaining(
            execution=execution,
            actor=request.user,
            actual_results=typed,
            lock_version=_lock_version(request),
        )
    except services.ConcurrentEditError as conflict:
        return _conflict(request, conflict.current, conflict)
    except ValidationError as error:
        if is_htmx:
            context = _context(request, execution, finish_errors=error.messages)
            return render(request, "uat/execution.html#execution-form", context, status=400)
        return _page(request, execution, status=400, finish_errors=error.messages)
    said = f"{len(passed)} remaining step{'s' if len(passed) != 1 else ''} saved as passed."
    if is_htmx:
        context = _context(request, execution, passed_message=said)
        return render(request, "uat/execution.html#execution-form", context)
    messages.success(request, said)
    opened = request.POST.get("opened", "")
    url = reverse("uat:execution", args=[execution.uuid])
    return redirect(f"{url}?{_query(opened=opened)}#result-heading")


def _query(**params) -> str:
    return urlencode({key: value for key, value in params.items() if value})


def _finish(request, execution: Execution):
    seconds = _seconds_since(request.POST.get("opened", "")) or 0
    try:
        services.execution_record(
            execution=execution,
            actor=request.user,
            notes=request.POST.get("notes", "").strip(),
            time_spent_seconds=seconds,
            lock_version=_lock_version(request),
        )
    except services.ConcurrentEditError as conflict:
        return _conflict(request, conflict.current, conflict)
    except ValidationError as error:
        return _page(request, execution, status=400, finish_errors=error.messages)
    said = f"Saved: {execution.case.key} {execution.get_status_display()}."
    if not_run := execution.steps_not_run():
        said += f" Not run: step {', '.join(map(str, not_run))}."
    messages.success(request, said)
    return redirect("uat:execution", uuid=execution.uuid)


@login_required
@require_POST
def evidence_upload(request, uuid):
    """Attach a screenshot or file to the tester's own execution."""
    execution = own_execution_for(request.user, uuid)
    _keep_typed(request, execution)
    # From a step itself (its own file input and button), or from the evidence section.
    from_step = request.POST.get("upload_step", "")
    if from_step.isdigit():
        step, upload = from_step, request.FILES.get(f"file_{from_step}")
    else:
        step, upload = request.POST.get("step_position", ""), request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a file to upload.")
    else:
        try:
            services.evidence_attach(
                execution=execution,
                actor=request.user,
                upload=upload,
                step_position=int(step) if step.isdigit() else None,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Attached {upload.name}.")
    place = f"#step-{from_step}" if from_step.isdigit() else "#evidence"
    return redirect(reverse("uat:execution", args=[execution.uuid]) + place)


@login_required
def evidence_download(request, uuid, pk: int):
    """Hand out an evidence file, only to people who may see its execution, as a
    download: an uploaded file is never rendered by the browser in our origin. The one
    exception is ``?view=1`` on a PNG or JPEG (judged from its content at upload, never
    from its name), shown inline for the thumbnails and their full size view: an image
    runs no code, and a sandboxing policy keeps it so even when opened as a page."""
    execution = execution_for(request.user, uuid)
    evidence = execution.evidence.filter(pk=pk).first()
    if evidence is None:
        raise Http404
    inline = request.GET.get("view") == "1" and evidence.is_image
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=not inline,
        filename=download_filename_of(evidence.original_name),
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if inline:
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
