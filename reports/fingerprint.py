"""The fingerprint of the data an acceptance report is built from.

A report stores the fingerprint of its plan's inputs when it is built; the plan's current
fingerprint differing from it means the report (and every sign-off on it) is stale. The
inputs are what the decision depends on: the plan's criteria and required sign-offs, its
scope (cases, their versions, the requirements they cover), its executions, the defects
of its release with their links to executions, and the waivers active now — so a waiver
expiring also makes the report stale.

Computing it costs a fixed number of queries whatever the data size, and reads no rows
in proportion to it: every input enters as aggregates the database works out. Executions
enter as their plan's ``ExecutionTally``, a counter database triggers move on every
insert, update or delete of one of them, whoever writes it: one row, where recipe 2
aggregated every execution of the plan, retest history included (about 10 ms per call
at 100,000 executions, growing with the history). Defects enter as aggregates that every
change through the services moves (a count and the latest ``updated_at``; there are far
fewer of them and they carry no history). Scope and coverage, sets
of id pairs, enter as their power sums: the count, the sums of each column, of its
squares and of the pair's product. Adding or removing a member moves the count,
replacing one moves the sum of ids, editing a case moves the sum of versions (a version
only grows); two different sets agree on all of them only for contrived simultaneous
swaps — two cases replaced by two others with the same sum and sum of squares is already
impossible. Recipe 1 read every row instead, which cost tens of milliseconds per call at
5,000 cases.
"""

import hashlib
import json

from django.db.models import Count, F, Max, Sum
from django.utils import timezone

from uat.models import Case, Defect, ExecutionTally, Plan, PlanSignoffRole, Waiver

# Bump when the recipe changes, so old fingerprints never match new ones by accident.
RECIPE = "greenlight-fingerprint-3"

CRITERIA_FIELDS = ("stage", *Plan.CRITERIA_FIELDS)


def plan_inputs(plan: Plan, *, at=None) -> dict:
    """What the fingerprint digests, as plain data (useful to explain what changed)."""
    at = at or timezone.now()
    criteria = Plan.objects.filter(pk=plan.pk).values(*CRITERIA_FIELDS).get()
    signoff_roles = sorted(
        plan.signoff_roles.values_list("role", "signers").order_by("role", "signers"),
        key=lambda row: (row[0], row[1] or 0),
    )
    scope = plan.cases.aggregate(**_pair_sums("id", "version"))
    # Through the scope's link table alone: joining uat_case as well doubles the cost.
    in_scope = Plan.cases.through.objects.filter(plan_id=plan.pk).values("case_id")
    coverage = Case.requirements.through.objects.filter(case_id__in=in_scope).aggregate(
        **_pair_sums("case_id", "requirement_id")
    )
    executions = {"changes": _tally(ExecutionTally.objects.filter(plan_id=plan.pk)).get(plan.pk, 0)}
    defects = Defect.objects.filter(release_id=plan.release_id).aggregate(
        count=Count("id"), changed=Max("updated_at")
    )
    links = Defect.executions.through.objects.filter(defect__release_id=plan.release_id).aggregate(
        count=Count("id"), ids=Sum("execution_id")
    )
    waivers = sorted(
        Waiver.objects.filter(release_id=plan.release_id)
        .active(at)
        .values_list("id", "defect_id", "expires_at")
    )
    return {
        "recipe": RECIPE,
        "plan": plan.pk,
        "criteria": criteria,
        "signoff_roles": signoff_roles,
        "scope": scope,
        "coverage": coverage,
        "executions": executions,
        "defects": defects,
        "defect_links": links,
        "waivers": waivers,
    }


def plan_fingerprint(plan: Plan, *, at=None) -> str:
    """The SHA-256 of the plan's report inputs now (or at ``at``)."""
    encoded = json.dumps(plan_inputs(plan, at=at), sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def plans_fingerprints(plan_ids, *, at=None) -> dict[int, str]:
    """``plan_fingerprint`` of many plans at once, in 8 queries whatever their number:
    what a list of sign-offs or reports needs to tell current from stale. Each value
    equals ``plan_fingerprint(plan)`` (a test holds them together)."""
    at = at or timezone.now()
    plans = {
        row.pop("pk"): row
        for row in Plan.objects.filter(pk__in=set(plan_ids)).values(
            "pk", "release_id", *CRITERIA_FIELDS
        )
    }
    releases = {row["release_id"] for row in plans.values()}
    roles = _grouped(
        PlanSignoffRole.objects.filter(plan_id__in=plans).values_list("plan_id", "role", "signers")
    )
    scope = {
        row.pop("plans"): row
        for row in Case.objects.filter(plans__in=plans)
        .values("plans")
        .annotate(**_pair_sums("id", "version"))
        .order_by()
    }
    coverage = {
        row.pop("case__plans"): row
        for row in Case.requirements.through.objects.filter(case__plans__in=plans)
        .values("case__plans")
        .annotate(**_pair_sums("case_id", "requirement_id"))
        .order_by()
    }
    executions = _tally(ExecutionTally.objects.filter(plan_id__in=plans))
    defects = {
        row.pop("release_id"): row
        for row in Defect.objects.filter(release_id__in=releases)
        .values("release_id")
        .annotate(count=Count("id"), changed=Max("updated_at"))
        .order_by()
    }
    links = {
        row.pop("defect__release_id"): row
        for row in Defect.executions.through.objects.filter(defect__release_id__in=releases)
        .values("defect__release_id")
        .annotate(count=Count("id"), ids=Sum("execution_id"))
        .order_by()
    }
    waivers = _grouped(
        Waiver.objects.filter(release_id__in=releases)
        .active(at)
        .values_list("release_id", "id", "defect_id", "expires_at")
    )
    fingerprints = {}
    for pk, row in plans.items():
        release_id = row.pop("release_id")
        inputs = {
            "recipe": RECIPE,
            "plan": pk,
            "criteria": row,
            "signoff_roles": sorted(roles.get(pk, []), key=lambda r: (r[0], r[1] or 0)),
            "scope": scope.get(pk, EMPTY_SUMS),
            "coverage": coverage.get(pk, EMPTY_SUMS),
            "executions": {"changes": executions.get(pk, 0)},
            "defects": defects.get(release_id, {"count": 0, "changed": None}),
            "defect_links": links.get(release_id, {"count": 0, "ids": None}),
            "waivers": sorted(waivers.get(release_id, [])),
        }
        encoded = json.dumps(inputs, sort_keys=True, default=str)
        fingerprints[pk] = hashlib.sha256(encoded.encode()).hexdigest()
    return fingerprints


EMPTY_SUMS = {"count": 0, "firsts": None, "seconds": None, "squares": None, "products": None}


def _pair_sums(first: str, second: str) -> dict:
    """Aggregates that tell one set of ``(first, second)`` integer pairs from another
    (see the module docstring): what an empty set gives is ``EMPTY_SUMS``."""
    return {
        "count": Count("*"),
        "firsts": Sum(first),
        "seconds": Sum(second),
        "squares": Sum(F(first) * F(first)),
        "products": Sum(F(first) * F(second)),
    }


def _tally(tallies) -> dict[int, int]:
    """{plan id: how many times its executions changed}; a plan that never had an
    execution has no row."""
    return dict(tallies.values_list("plan_id", "changes"))


def _grouped(rows) -> dict:
    """``(key, *values)`` rows as {key: [values, …]}."""
    grouped: dict = {}
    for key, *values in rows:
        grouped.setdefault(key, []).append(tuple(values))
    return grouped
