"""Defects: reporting, moving through the workflow, queueing retests of a fix."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..audit import event_record, events_record_many
from ..models import (
    RESOLVED_STATUSES,
    CaseVersion,
    Defect,
    DefectStatus,
    Environment,
    Execution,
    ExecutionStatus,
    ExecutionTally,
    Release,
    Severity,
)
from ..models.defects import is_web_address
from ..policy import (
    can_log_defect,
    can_record,
    can_report_escaped_defect,
    can_triage,
    policy_require,
)
from .defect_comments import defect_reporter_notify


def _defect_errors(title: str, severity: str, external_url: str = "") -> dict[str, str]:
    errors = {}
    if external_url and not is_web_address(external_url):
        errors["external_url"] = "Give the tracker link as an http:// or https:// address."
    if not title.strip():
        errors["title"] = "Give the defect a title."
    if severity not in Severity.values:
        errors["severity"] = "Choose a severity: critical, major, minor or trivial."
    return errors


@transaction.atomic
def _submitted_before(actor, submission_key: str) -> Defect | None:
    if not submission_key:
        return None
    earlier = Defect.objects.filter(reported_by=actor, submission_key=submission_key).first()
    if earlier is not None:
        earlier.resubmitted = True
    return earlier


def defect_report(
    *,
    execution: Execution,
    actor,
    title: str,
    severity: str,
    steps_to_reproduce: str = "",
    step_position: int | None = None,
    external_key: str = "",
    external_url: str = "",
    submission_key: str = "",
) -> Defect:
    """Report a defect found while running ``execution`` and link the two.

    ``submission_key`` names the reporter's submission (the form's hidden key, the API's
    ``Idempotency-Key``): sent again — a double click, a resent request — it gives back
    the defect the first one made, with ``resubmitted`` set, and makes no second one."""
    policy_require(can_record(actor, execution), "record")
    errors = _defect_errors(title, severity, external_url)
    if step_position is not None and not 1 <= step_position <= execution.case_version.step_count:
        errors["step_position"] = f"This case has no step {step_position}."
    if errors:
        raise ValidationError(errors)
    if earlier := _submitted_before(actor, submission_key):
        return earlier
    try:
        with transaction.atomic():
            defect = Defect.objects.create(
                release=execution.plan.release,
                title=title.strip(),
                severity=severity,
                steps_to_reproduce=steps_to_reproduce,
                step_position=step_position,
                environment=execution.environment,
                build=execution.build,
                reported_by=actor,
                external_key=external_key,
                external_url=external_url,
                submission_key=submission_key or None,
            )
    except IntegrityError:
        # The same submission, committed meanwhile by a concurrent request.
        if earlier := _submitted_before(actor, submission_key):
            return earlier
        raise
    defect.executions.add(execution)
    event_record(
        actor=actor,
        verb="defect.reported",
        obj=defect,
        after={"severity": severity, "execution": execution.pk, "title": defect.title},
    )
    return defect


def _found_in_uat_errors(
    release: Release,
    executions: list[Execution],
    step_position: int | None,
    environment: Environment | None,
) -> dict[str, str]:
    errors = {}
    stray = [
        f"#{execution.pk}" for execution in executions if execution.plan.release_id != release.pk
    ]
    if stray:
        errors["executions"] = f"Not executions of {release}: {', '.join(stray)}."
    if step_position is not None:
        if not executions:
            errors["step_position"] = "Link the execution whose step this is."
        elif not 1 <= step_position <= executions[0].case_version.step_count:
            errors["step_position"] = f"This case has no step {step_position}."
    if environment is not None and environment.product_id != release.product_id:
        errors["environment"] = f"Choose an environment of {release.product}."
    return errors


@transaction.atomic
def defect_record(
    *,
    release: Release,
    actor,
    title: str,
    severity: str,
    executions: Iterable[Execution] = (),
    steps_to_reproduce: str = "",
    step_position: int | None = None,
    environment: Environment | None = None,
    build: str = "",
    external_key: str = "",
    external_url: str = "",
) -> Defect:
    """A QA lead logs a defect found in UAT on behalf of its testers (from a call, a
    feedback thread, a run they watched), linked to the executions that found it, if
    any. ``step_position`` is a step of the first of them (by id), whose environment and
    build the defect takes unless given."""
    policy_require(can_log_defect(actor, release), "log_defect")
    executions = list(
        Execution.objects.filter(pk__in=[execution.pk for execution in executions])
        .select_related("plan", "case_version", "environment")
        .order_by("pk")
    )
    errors = _defect_errors(title, severity, external_url)
    errors |= _found_in_uat_errors(release, executions, step_position, environment)
    if errors:
        raise ValidationError(errors)
    first = executions[0] if executions else None
    defect = Defect.objects.create(
        release=release,
        title=title.strip(),
        severity=severity,
        steps_to_reproduce=steps_to_reproduce,
        step_position=step_position,
        environment=environment or (first.environment if first else None),
        build=build.strip() or (first.build if first else ""),
        reported_by=actor,
        external_key=external_key,
        external_url=external_url,
    )
    defect.executions.add(*executions)
    event_record(
        actor=actor,
        verb="defect.reported",
        obj=defect,
        after={
            "severity": severity,
            "found_in": "uat",
            "executions": [execution.pk for execution in executions],
            "title": defect.title,
        },
    )
    return defect


@transaction.atomic
def defect_report_escaped(
    *,
    release: Release,
    actor,
    title: str,
    severity: str,
    build: str,
    steps_to_reproduce: str = "",
    external_key: str = "",
    external_url: str = "",
) -> Defect:
    """Record a defect found in production: it escaped UAT and counts against the
    release that let it through."""
    policy_require(can_report_escaped_defect(actor, release), "report_escaped_defect")
    errors = _defect_errors(title, severity, external_url)
    if release.stage != Release.Stage.PRODUCTION:
        errors["release"] = f"{release} has not reached production; report it from UAT."
    if not build.strip():
        errors["build"] = "Say which production build shows the defect."
    if errors:
        raise ValidationError(errors)
    defect = Defect.objects.create(
        release=release,
        title=title.strip(),
        severity=severity,
        steps_to_reproduce=steps_to_reproduce,
        found_in=Defect.FoundIn.PRODUCTION,
        build=build.strip(),
        reported_by=actor,
        external_key=external_key,
        external_url=external_url,
    )
    event_record(
        actor=actor,
        verb="defect.reported",
        obj=defect,
        after={"severity": severity, "found_in": "production", "title": defect.title},
    )
    return defect


FIXED_IN_BUILD_MAX = 100


def _retest_environment(failed: Execution) -> Environment | None:
    # The retest runs where the plan runs now.
    return failed.plan.environment or failed.environment


def _fixed_in_build(defect: Defect, fixed_in_build: str) -> str:
    """The build the fix of ``defect`` is in, which its retests run on: the one the QA
    lead names, or else the UAT environment's build where it moved on since every
    failure. Refused when it did not (the retests would run on the build that failed)
    and when the named build is the one a retested run failed on."""
    build = fixed_in_build.strip()
    if len(build) > FIXED_IN_BUILD_MAX:
        raise ValidationError(
            {"fixed_in_build": f"A build is at most {FIXED_IN_BUILD_MAX} characters."}
        )
    failed = list(
        defect.executions.filter(status=ExecutionStatus.FAILED, retests__isnull=True)
        .select_related("plan__environment", "environment")
        .order_by("pk")
    )
    if build:
        if build in {execution.build for execution in failed}:
            raise ValidationError(
                {
                    "fixed_in_build": f"{defect.reference} failed on build {build}; name the "
                    "build that has the fix."
                }
            )
        return build
    unchanged = sorted(
        {
            execution.build or "(not recorded)"
            for execution in failed
            if (environment := _retest_environment(execution)) is None
            or environment.build == execution.build
        }
    )
    if unchanged:
        raise ValidationError(
            {
                "fixed_in_build": f"The UAT environment still runs build {', '.join(unchanged)}, "
                f"where {defect.reference} failed. Say which build has the fix, or update the "
                "environment's build first."
            }
        )
    builds = {_retest_environment(execution).build for execution in failed}
    return builds.pop() if len(builds) == 1 else ""


@transaction.atomic
def defect_transition(
    *, defect: Defect, status: str, actor, note: str = "", fixed_in_build: str = ""
) -> Defect:
    """Move a defect along its workflow. Marking it fixed says which build has the fix
    (``fixed_in_build``; needed while the UAT environment still runs the build that
    failed) and queues retests of the failed executions it blocks on that build;
    verifying it needs a passing retest where UAT found it. The reporter is emailed
    (``defect_reporter_notify``)."""
    policy_require(can_triage(actor, defect), "triage")
    # NO KEY: a failed retest that links this defect holds its plan's counter, which
    # this transition waits for, and its link's foreign key check needs KEY SHARE on
    # this row at commit; a full FOR UPDATE here would deadlock with it.
    defect = Defect.objects.select_for_update(no_key=True).get(pk=defect.pk)
    if status not in DefectStatus.values:
        raise ValidationError(f"Unknown defect status {status!r}.")
    if not defect.can_move_to(status):
        allowed = ", ".join(DefectStatus(s).label.lower() for s in defect.allowed_statuses)
        raise ValidationError(
            f"A {defect.get_status_display().lower()} defect cannot become "
            f"{DefectStatus(status).label.lower()}; it can become: {allowed}."
        )
    if status == DefectStatus.VERIFIED and not defect.retest_passed:
        raise ValidationError("A defect found in UAT is verified by a passing retest first.")
    if status != DefectStatus.FIXED and fixed_in_build.strip():
        raise ValidationError(
            {"fixed_in_build": "Only marking a defect fixed names the build with the fix."}
        )
    fields = ["status", "resolved_at", "fixed_at", "updated_at"]
    if status == DefectStatus.FIXED:
        build = _fixed_in_build(defect, fixed_in_build)
        _lock_retested_plans(defect)
        defect.fixed_in_build = build or None
        fields.append("fixed_in_build")
    before = {"status": defect.status}
    now = timezone.now()
    defect.status = status
    defect.resolved_at = now if status in RESOLVED_STATUSES else None
    if status == DefectStatus.FIXED:
        defect.fixed_at = now
    defect.save(update_fields=fields)
    after = {"status": status, "note": note}
    if status == DefectStatus.FIXED:
        after["fixed_in_build"] = defect.fixed_in_build or ""
    event_record(actor=actor, verb="defect.status_changed", obj=defect, before=before, after=after)
    if status == DefectStatus.FIXED:
        defect_retests_queue(defect=defect, actor=actor)
    defect_reporter_notify(
        defect=defect,
        actor=actor,
        name="defect_status_changed",
        context={"before": DefectStatus(before["status"]).label, "note": note},
    )
    return defect


def _lock_retested_plans(defect: Defect) -> None:
    """Take the execution counters of the plans a fix queues retests in, in plan order,
    before the defect's own write takes its release's defect counter: the order every
    transaction writing executions and defects keeps (a failed retest records its
    execution, then links the defect), so two of them never wait for each other."""
    plans = defect.executions.filter(status=ExecutionStatus.FAILED).values("plan_id")
    locked = ExecutionTally.objects.filter(plan_id__in=plans).select_for_update()
    list(locked.order_by("plan_id").values_list("plan_id", flat=True))


def _retest(failed: Execution, versions: dict[int, CaseVersion], actor, build: str) -> Execution:
    # The retest runs where the plan runs now, on the build with the fix: the one the
    # lead named, else the environment's current build.
    environment = _retest_environment(failed)
    return Execution(
        plan_id=failed.plan_id,
        case_id=failed.case_id,
        case_version=versions[failed.case_id],
        tester_id=failed.tester_id,
        cohort_id=failed.cohort_id,
        environment=environment,
        build=build or (environment.build if environment else failed.build),
        is_latest=True,
        retest_of=failed,
        assigned_by=actor,
    )


@transaction.atomic
def defect_retests_queue(*, defect: Defect, actor) -> list[Execution]:
    """Give each failed execution the defect blocks a retest for its original tester,
    against the case's current version, on the build the fix is in
    (``defect.fixed_in_build``, else the environment's); the retest becomes the run that
    counts for its case until it is done. An execution already retested gets none, so
    calling this twice queues nothing new. A fixed number of queries."""
    failed = list(
        defect.executions.filter(status=ExecutionStatus.FAILED, retests__isnull=True)
        .select_related("plan__environment", "case")
        .order_by("pk")
    )
    if not failed:
        return []
    versions = CaseVersion.objects.current_by_case(execution.case_id for execution in failed)
    pairs = {(execution.plan_id, execution.case_id) for execution in failed}
    same_case = Q()
    for plan_id, case_id in pairs:
        same_case |= Q(plan_id=plan_id, case_id=case_id)
    # Locked in id order before the first write, which also locks each plan's
    # ExecutionTally row (see execution_record).
    counted_now = list(
        Execution.objects.filter(same_case, is_latest=True)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Execution.objects.filter(pk__in=counted_now).update(is_latest=False)
    retests, counted = [], set()
    for execution in failed:
        retest = _retest(execution, versions, actor, defect.fixed_in_build or "")
        # Two testers who failed the same case both retest it; one run counts at a time.
        retest.is_latest = (execution.plan_id, execution.case_id) not in counted
        counted.add((execution.plan_id, execution.case_id))
        retests.append(retest)
    Execution.objects.bulk_create(retests)
    by_id = {execution.pk: execution for execution in failed}
    events_record_many(
        actor=actor,
        verb="execution.retest_queued",
        entries=[
            (
                retest,
                f"Retest of {by_id[retest.retest_of_id].case.key}",
                {"retest_of": retest.retest_of_id, "defect": defect.pk},
            )
            for retest in retests
        ],
        release=defect.release,
    )
    return retests
