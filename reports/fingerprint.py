"""The fingerprint of the data an acceptance report is built from.

A report stores the fingerprint of its plan's inputs when it is built; the plan's current
fingerprint differing from it means the report (and every sign-off on it) is stale. The
inputs are what the decision depends on: the plan's criteria and required sign-offs (each
signer, and when the role's signers were last named: naming them again, even back to the
same people, makes a new report necessary — rows from before that was recorded digest as
they did, so recipe 4 still holds for them), its
scope (cases, their versions, the requirements they cover), its executions, the defects
of its release with their links to executions, and the waivers active now — so a waiver
expiring also makes the report stale.

Computing it costs three queries whatever the data size or the number of plans: the
plans' rows with every other input as a subquery, their required sign-offs, and their
releases' active waivers. Executions, scope and defects enter as counters that database
triggers move, in the same transaction, on every write that changes them, whoever makes
it (the services, the admin, a bulk load or raw SQL): the plan's ``ExecutionTally`` (any
insert, update or delete of one of its executions), its ``ScopeTally`` (a case added or
removed, a new version of a case in scope, a requirement linked or unlinked) and its
release's ``DefectTally`` (any change to a defect of the release or to its links to
executions). One row each, where recipe 2 aggregated every execution of the plan, retest
history included, every (case, version) and (case, requirement) pair of its scope, and
recipe 3 every defect of the release and its links. A counter also sees every committed
change, where the latest ``updated_at`` of recipe 3 could miss a write committed after
a later-stamped one.
"""

import hashlib
import json

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from uat.models import DefectTally, ExecutionTally, Plan, PlanSignoffRole, ScopeTally, Waiver

# Bump when the recipe changes, so old fingerprints never match new ones by accident.
RECIPE = "greenlight-fingerprint-4"

CRITERIA_FIELDS = ("stage", *Plan.CRITERIA_FIELDS)


def plan_inputs(plan: Plan, *, at=None) -> dict:
    """What the fingerprint digests, as plain data (useful to explain what changed)."""
    return plans_inputs([plan.pk], at=at)[plan.pk]


def plan_fingerprint(plan: Plan, *, at=None) -> str:
    """The SHA-256 of the plan's report inputs now (or at ``at``). 3 queries."""
    return plans_fingerprints([plan.pk], at=at)[plan.pk]


def plans_fingerprints(plan_ids, *, at=None) -> dict[int, str]:
    """``plan_fingerprint`` of many plans at once, in 3 queries whatever their number:
    what a list of sign-offs or reports needs to tell current from stale."""
    return {pk: inputs_fingerprint(inputs) for pk, inputs in plans_inputs(plan_ids, at=at).items()}


def plans_inputs(plan_ids, *, at=None) -> dict[int, dict]:
    """The inputs of each plan, in 3 queries: the plans' rows with every aggregate as
    a subquery, their required sign-offs, and their releases' active waivers."""
    at = at or timezone.now()
    plans = {
        row.pop("pk"): row
        for row in Plan.objects.filter(pk__in=set(plan_ids))
        .values("pk", "release_id", *CRITERIA_FIELDS)
        .annotate(**_aggregates())
        .order_by()
    }
    releases = {row["release_id"] for row in plans.values()}
    roles = _grouped(
        (plan_id, role, signer, *([configured_at.isoformat()] if configured_at else []))
        for plan_id, role, signer, configured_at in PlanSignoffRole.objects.filter(
            plan_id__in=plans
        ).values_list("plan_id", "role", "signers", "configured_at")
    )
    waivers = _grouped(
        Waiver.objects.filter(release_id__in=releases)
        .active(at)
        .values_list("release_id", "id", "defect_id", "expires_at")
    )
    inputs = {}
    for pk, row in plans.items():
        release_id = row.pop("release_id")
        scope, executions = row.pop("scope") or 0, row.pop("executions") or 0
        defects = row.pop("defects") or 0
        inputs[pk] = {
            "recipe": RECIPE,
            "plan": pk,
            "criteria": row,
            "signoff_roles": sorted(roles.get(pk, []), key=lambda r: (r[0], r[1] or 0)),
            "scope": {"changes": scope},
            "executions": {"changes": executions},
            "defects": {"changes": defects},
            "waivers": sorted(waivers.get(release_id, [])),
        }
    return inputs


def _aggregates() -> dict:
    """Each input that is not a plain column, as a subquery of the plan's row."""
    plan, release = OuterRef("pk"), OuterRef("release_id")
    return {
        "scope": Subquery(ScopeTally.objects.filter(plan_id=plan).values("changes")),
        "executions": Subquery(ExecutionTally.objects.filter(plan_id=plan).values("changes")),
        "defects": Subquery(DefectTally.objects.filter(release_id=release).values("changes")),
    }


def inputs_fingerprint(inputs: dict) -> str:
    """The fingerprint of inputs ``plan_inputs`` returned."""
    encoded = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _grouped(rows) -> dict:
    """``(key, *values)`` rows as {key: [values, …]}."""
    grouped: dict = {}
    for key, *values in rows:
        grouped.setdefault(key, []).append(tuple(values))
    return grouped
