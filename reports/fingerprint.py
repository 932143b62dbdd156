"""The fingerprint of the data an acceptance report is built from.

A report stores the fingerprint of its plan's inputs when it is built; the plan's current
fingerprint differing from it means the report (and every sign-off on it) is stale. The
inputs are what the decision depends on: the plan's criteria and required sign-offs, its
scope (cases, their versions, the requirements they cover), its executions, the defects
of its release with their links to executions, and the waivers active now — so a waiver
expiring also makes the report stale.

Computing it costs a fixed number of queries whatever the data size: executions and
defects enter as aggregates that every change through the services moves (a count, the
latest ``updated_at``, the sum of execution lock versions).
"""

import hashlib
import json

from django.db.models import Count, Max, Sum
from django.utils import timezone

from uat.models import Case, Defect, Execution, Plan, Waiver

# Bump when the recipe changes, so old fingerprints never match new ones by accident.
RECIPE = "greenlight-fingerprint-1"

CRITERIA_FIELDS = (
    "stage",
    "min_execution_coverage",
    "min_critical_pass_rate",
    "min_pass_rate",
    "max_open_critical_defects",
    "max_open_major_defects",
    "max_open_minor_defects",
    "max_open_trivial_defects",
    "require_requirement_coverage",
    "min_beta_testers_per_critical_case",
)


def plan_inputs(plan: Plan, *, at=None) -> dict:
    """What the fingerprint digests, as plain data (useful to explain what changed)."""
    at = at or timezone.now()
    criteria = Plan.objects.filter(pk=plan.pk).values(*CRITERIA_FIELDS).get()
    signoff_roles = sorted(
        plan.signoff_roles.values_list("role", "signers").order_by("role", "signers"),
        key=lambda row: (row[0], row[1] or 0),
    )
    scope = sorted(plan.cases.values_list("id", "version"))
    coverage = sorted(
        Case.requirements.through.objects.filter(case__plans=plan).values_list(
            "case_id", "requirement_id"
        )
    )
    executions = Execution.objects.filter(plan=plan).aggregate(
        count=Count("id"), changed=Max("updated_at"), edits=Sum("lock_version")
    )
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
