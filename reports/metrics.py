"""The numbers of a plan, from aggregate queries: one plain, JSON-ready dict that the
release dashboard, the acceptance report, its PDF and the emails all read.

``plan_metrics`` runs a fixed number of queries whatever the number of cases, executions
or defects: every count is a GROUP BY in the database, and the rows that come back are
one per group (cohort, priority, requirement, tester, day, release) — but for the open
defects per requirement, counted in Python from the release's open defect links and the
scope's (case, requirement) pairs, a few thousand short rows (see
``_open_defects_by_requirement``). What counts for
a case is its latest execution in the plan (``Execution.is_latest``); the plan's scope is
its cases, and its requirements are those its cases cover — the same inputs the
fingerprint (``reports.fingerprint``) digests.
"""

import datetime as dt

from django.db import models
from django.db.models import Count, FilteredRelation, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from uat.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Case,
    Cohort,
    Defect,
    DefectStatus,
    Execution,
    ExecutionHourTally,
    ExecutionStatus,
    ExecutionTesterTally,
    Plan,
    Priority,
    Release,
    Requirement,
    Severity,
    Waiver,
    WaiverState,
)


class CoverageVerdict(models.TextChoices):
    """How a requirement stands in the coverage matrix, from its cases' latest results."""

    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    PARTIAL = "partial", "Partly run"
    BLOCKED = "blocked", "Blocked"
    NOT_RUN = "not_run", "Not run"


# The buckets of progress: a pending or started execution has not run yet.
RESULTS = ("passed", "failed", "blocked", "not_run")
BUCKET = {
    ExecutionStatus.PASSED: "passed",
    ExecutionStatus.FAILED: "failed",
    ExecutionStatus.BLOCKED: "blocked",
    ExecutionStatus.PENDING: "not_run",
    ExecutionStatus.IN_PROGRESS: "not_run",
}
TREND_RELEASES = 6  # earlier releases shown in the escaped-defects trend
LISTED_DEFECTS = 25  # open critical and major defects listed by name


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, to one decimal; None when there is no whole."""
    return round(100 * part / whole, 1) if whole else None


def _counts() -> dict[str, int]:
    return dict.fromkeys(RESULTS, 0)


def _summary(counts: dict[str, int]) -> dict:
    """Progress numbers of a group of cases: executed, coverage and pass rate."""
    executed = counts["passed"] + counts["failed"] + counts["blocked"]
    total = executed + counts["not_run"]
    return {
        **counts,
        "total": total,
        "executed": executed,
        "coverage": percent(executed, total),
        "pass_rate": percent(counts["passed"], executed),
    }


def _latest(plan: Plan):
    """The execution that counts for each case of the plan's current scope."""
    return Execution.objects.filter(plan=plan, is_latest=True, case__plans=plan)


def _progress(plan: Plan) -> dict:
    """Overall, by priority and by cohort: 2 queries."""
    scope = dict(plan.cases.values_list("priority").annotate(n=Count("id")).order_by())
    rows = (
        _latest(plan)
        .values("cohort_id", "cohort__name", "cohort__kind", "case__priority", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_priority = {priority: _counts() for priority in Priority.values}
    cohorts: dict[int, dict] = {}
    for row in rows:
        bucket, n = BUCKET[row["status"]], row["n"]
        by_priority[row["case__priority"]][bucket] += n
        cohort = cohorts.setdefault(
            row["cohort_id"],
            {"name": row["cohort__name"], "kind": row["cohort__kind"], "counts": _counts()},
        )
        cohort["counts"][bucket] += n
    # A case in scope that nobody holds yet has not run either.
    for priority, counts in by_priority.items():
        counts["not_run"] += scope.get(priority, 0) - sum(counts.values())
    overall = _counts()
    for counts in by_priority.values():
        for bucket in RESULTS:
            overall[bucket] += counts[bucket]
    return {
        "overall": _summary(overall),
        "by_priority": [
            {"priority": p, "label": label, **_summary(by_priority[p])}
            for p, label in Priority.choices
        ],
        "by_cohort": sorted(
            (
                {"id": pk, "name": c["name"], "kind": c["kind"], **_summary(c["counts"])}
                for pk, c in cohorts.items()
            ),
            key=lambda cohort: cohort["name"],
        ),
    }


def _requirements(plan: Plan) -> list[dict]:
    """The coverage matrix: each requirement the scope covers by its cases' latest
    results, and the open defects found on them. 3 queries."""

    def result(status: str) -> Count:
        return Count("latest", filter=Q(latest__status=status), distinct=True)

    rows = (
        Requirement.objects.filter(cases__plans=plan)
        # Join only the latest execution of each case in this plan: a filter inside the
        # counts instead would join every run of every case in every plan first (ten
        # per case and plan at 100,000 executions) and throw most of them away.
        .annotate(
            latest=FilteredRelation(
                "cases__executions",
                condition=Q(cases__executions__plan=plan, cases__executions__is_latest=True),
            )
        )
        .annotate(
            cases_in_scope=Count("cases", distinct=True),
            passed=result(ExecutionStatus.PASSED),
            failed=result(ExecutionStatus.FAILED),
            blocked=result(ExecutionStatus.BLOCKED),
        )
        .values(
            "id", "key", "title", "criticality", "cases_in_scope", "passed", "failed", "blocked"
        )
        .order_by("key")
    )
    defects = _open_defects_by_requirement(plan)
    matrix = []
    for row in rows:
        not_run = row["cases_in_scope"] - row["passed"] - row["failed"] - row["blocked"]
        if row["failed"]:
            verdict = CoverageVerdict.FAILED
        elif row["passed"] and not row["blocked"] and not not_run:
            verdict = CoverageVerdict.PASSED
        elif row["passed"]:
            verdict = CoverageVerdict.PARTIAL
        else:
            verdict = CoverageVerdict.NOT_RUN if not row["blocked"] else CoverageVerdict.BLOCKED
        matrix.append(
            {
                **row,
                "not_run": not_run,
                "open_defects": defects.get(row["id"], 0),
                "verdict": verdict.value,
                # The criterion: at least one passing latest execution and none failing.
                "satisfied": bool(row["passed"]) and not row["failed"],
            }
        )
    return matrix


def _open_defects_by_requirement(plan: Plan) -> dict[int, int]:
    """How many open defects of the release were found on each requirement's cases in
    this plan. 2 queries: the open defects' links with the case of each linked run of
    this plan, looked up by the run's id (the open links are a few thousand where the
    plan's runs, history included, are tens of thousands: joined, the database read
    every run of the plan), and the (case, requirement) pairs of the scope."""
    case_of_run = Execution.objects.filter(pk=OuterRef("execution_id"), plan=plan).order_by()
    found = (
        Defect.executions.through.objects.filter(
            defect__release_id=plan.release_id, defect__status__in=OPEN_STATUSES
        )
        .annotate(case=Subquery(case_of_run.values("case_id")))
        .values_list("case", "defect_id")
    )
    defects_of_case: dict[int, set[int]] = {}
    for case_id, defect_id in found:
        if case_id is not None:  # a run of another plan
            defects_of_case.setdefault(case_id, set()).add(defect_id)
    scope = Plan.cases.through.objects.filter(plan=plan).values("case_id")
    pairs = Case.requirements.through.objects.filter(case_id__in=scope).values_list(
        "requirement_id", "case_id"
    )
    by_requirement: dict[int, set[int]] = {}
    for requirement_id, case_id in pairs:
        if case_id in defects_of_case:
            by_requirement.setdefault(requirement_id, set()).update(defects_of_case[case_id])
    return {requirement_id: len(defects) for requirement_id, defects in by_requirement.items()}


def _defects(plan: Plan, at: dt.datetime) -> dict:
    """The release's defects by severity and status, open ones with and without an
    active waiver, the waivers themselves, and the open critical and major ones by
    name. 3 queries."""
    waived_ids = Waiver.objects.filter(release_id=plan.release_id).active(at).values("defect_id")
    rows = (
        Defect.objects.filter(release_id=plan.release_id)
        .values("severity", "status")
        .annotate(n=Count("id"), waived=Count("id", filter=Q(pk__in=waived_ids)))
        .order_by()
    )
    by_severity = {
        severity: {"severity": severity, "label": label, "open": 0, "waived": 0, "total": 0}
        for severity, label in Severity.choices
    }
    by_status = dict.fromkeys(DefectStatus.values, 0)
    for row in rows:
        entry = by_severity[row["severity"]]
        entry["total"] += row["n"]
        by_status[row["status"]] += row["n"]
        if row["status"] in OPEN_STATUSES:
            entry["waived"] += row["waived"]
            entry["open"] += row["n"] - row["waived"]
    waivers = [
        {
            "defect": f"DEF-{w['defect_id']}",
            "title": w["defect__title"],
            "severity": w["defect__severity"],
            "status": w["defect__status"],
            "reason": w["reason"],
            "expires_at": w["expires_at"].isoformat(),
            "granted_by": w["granted_by__full_name"] or w["granted_by__email"],
            "state": _waiver_state(w, at),
        }
        for w in Waiver.objects.filter(release_id=plan.release_id)
        .values(
            "revoked_at",
            "defect_id",
            "defect__title",
            "defect__severity",
            "defect__status",
            "reason",
            "expires_at",
            "granted_by__full_name",
            "granted_by__email",
        )
        .order_by("defect_id")
    ]
    listed = [
        {"reference": f"DEF-{d['id']}", **d}
        for d in Defect.objects.filter(
            release_id=plan.release_id,
            status__in=OPEN_STATUSES,
            severity__in=[Severity.CRITICAL, Severity.MAJOR],
        )
        .exclude(pk__in=waived_ids)
        .values("id", "title", "severity", "status", "external_key", "external_url")
        .order_by("severity", "id")[:LISTED_DEFECTS]
    ]
    return {
        "by_severity": list(by_severity.values()),
        "by_status": [
            {"status": status, "label": label, "n": by_status[status]}
            for status, label in DefectStatus.choices
        ],
        "open_total": sum(entry["open"] for entry in by_severity.values()),
        "waivers": waivers,
        "open_blocking": listed,
    }


def _waiver_state(waiver: dict, at: dt.datetime) -> str:
    """Active, revoked or expired at ``at``: the report lists every waiver of the release."""
    if waiver["revoked_at"] is not None and waiver["revoked_at"] <= at:
        return WaiverState.REVOKED.value
    return (WaiverState.ACTIVE if waiver["expires_at"] > at else WaiverState.EXPIRED).value


def _testers(plan: Plan) -> list[dict]:
    """Who ran what: one row per tester and cohort, retests included. 3 queries.

    The counts come from ``ExecutionTesterTally``, which database triggers keep per
    (tester, cohort, state), so the table costs the same however long the history;
    names join the few resulting rows after."""

    def runs(*statuses) -> Sum:
        return Sum("runs", filter=Q(status__in=statuses), default=0)

    rows = list(
        ExecutionTesterTally.objects.filter(plan_id=plan.pk, runs__gt=0)
        .values("tester_id", "cohort_id")
        .annotate(
            assigned=Sum("runs"),
            finished=runs(*FINAL_STATUSES),
            passed=runs(ExecutionStatus.PASSED),
            failed=runs(ExecutionStatus.FAILED),
            blocked=runs(ExecutionStatus.BLOCKED),
        )
        .order_by()
    )
    users = (
        User.objects.filter(pk__in={row["tester_id"] for row in rows})
        .only("full_name", "email")
        .in_bulk()
    )
    cohorts = Cohort.objects.filter(pk__in={row["cohort_id"] for row in rows}).in_bulk()
    testers = []
    for row in sorted(
        rows,
        key=lambda row: (
            cohorts[row["cohort_id"]].name,
            users[row["tester_id"]].full_name,
            row["tester_id"],
        ),
    ):
        user, cohort = users[row["tester_id"]], cohorts[row["cohort_id"]]
        testers.append(
            {
                "name": user.full_name or user.email,
                "cohort": cohort.name,
                "kind": cohort.kind,
                "assigned": row["assigned"],
                "finished": row["finished"],
                "passed": row["passed"],
                "failed": row["failed"],
                "blocked": row["blocked"],
                "pending": row["assigned"] - row["finished"],
            }
        )
    return testers


def _per_day(plan: Plan) -> list[dict]:
    """Results recorded per day (in ``TIME_ZONE``), retests included, from the hourly
    ``ExecutionHourTally`` the database keeps. 1 query."""

    def results(status: str) -> Sum:
        return Sum("results", filter=Q(status=status), default=0)

    rows = (
        ExecutionHourTally.objects.filter(plan_id=plan.pk, results__gt=0)
        .annotate(day=TruncDate("hour"))
        .values("day")
        .annotate(
            passed=results(ExecutionStatus.PASSED),
            failed=results(ExecutionStatus.FAILED),
            blocked=results(ExecutionStatus.BLOCKED),
        )
        .order_by("day")
    )
    return [{**row, "day": row["day"].isoformat()} for row in rows]


def _escaped(plan: Plan) -> list[dict]:
    """Defects that escaped to production from earlier releases of the product: the
    quality trend this release is heading into. 1 query."""
    release = plan.release
    rows = (
        Release.objects.filter(product_id=release.product_id, created_at__lt=release.created_at)
        .annotate(
            escaped=Count("defects", filter=Q(defects__found_in=Defect.FoundIn.PRODUCTION)),
            escaped_critical=Count(
                "defects",
                filter=Q(
                    defects__found_in=Defect.FoundIn.PRODUCTION,
                    defects__severity=Severity.CRITICAL,
                ),
            ),
        )
        .values("version", "escaped", "escaped_critical")
        .order_by("-created_at")[:TREND_RELEASES]
    )
    return list(reversed(rows))


def _beta_passers(plan: Plan) -> list[dict]:
    """For each critical case in scope, how many distinct beta testers passed it. 1 query.

    Only this plan's passed runs are joined: a filter inside the count alone joined
    every run of each case, in every plan, before discarding most."""
    rows = (
        plan.cases.filter(priority=Priority.CRITICAL)
        .annotate(
            passes=FilteredRelation(
                "executions",
                condition=Q(executions__plan=plan, executions__status=ExecutionStatus.PASSED),
            )
        )
        .annotate(
            testers=Count(
                "passes__tester",
                filter=Q(passes__cohort__kind=Cohort.Kind.BETA),
                distinct=True,
            )
        )
        .values("key", "title", "testers")
        .order_by("key")
    )
    return list(rows)


def _signoff_roles(plan: Plan) -> list[dict]:
    """The sign-offs the plan requires, who may give each, and who named them when
    (``configured_by`` empty for roles from before that was recorded). 1 query."""
    roles: dict[str, dict] = {}
    rows = plan.signoff_roles.values(
        "role",
        "signers__full_name",
        "signers__email",
        "configured_by__full_name",
        "configured_by__email",
        "configured_at",
    ).order_by("role", "signers__full_name")
    labels = dict(plan.signoff_roles.model._meta.get_field("role").choices)
    for row in rows:
        configured_at = row["configured_at"]
        entry = roles.setdefault(
            row["role"],
            {
                "role": row["role"],
                "label": labels[row["role"]],
                "signers": [],
                "configured_by": row["configured_by__full_name"]
                or row["configured_by__email"]
                or "",
                "configured_at": configured_at.isoformat() if configured_at else "",
            },
        )
        if row["signers__email"]:
            entry["signers"].append(row["signers__full_name"] or row["signers__email"])
    return list(roles.values())


def plan_metrics(plan: Plan, *, at: dt.datetime | None = None) -> dict:
    """Every number of ``plan`` now (waivers as active at ``at``), as plain data.

    Runs 15 queries whatever the data size, with ``plan.release.product`` loaded."""
    at = at or timezone.now()
    release = plan.release
    return {
        "plan": {
            "id": plan.pk,
            "name": plan.name,
            "stage": plan.stage,
            "status": plan.status,
            "release": str(release),
            "version": release.version,
        },
        "at": at.isoformat(),
        "progress": _progress(plan),
        "requirements": _requirements(plan),
        "defects": _defects(plan, at),
        "testers": _testers(plan),
        "per_day": _per_day(plan),
        "escaped": _escaped(plan),
        "critical_cases": _beta_passers(plan),
        "signoff_roles": _signoff_roles(plan),
    }
