"""A plan's scope: the cases of its product it tests."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from ..audit import event_record
from ..models import Case, Plan
from ..policy import can_manage_plan, policy_require


@transaction.atomic
def plan_scope_change(
    *, plan: Plan, actor, add: Iterable[Case] = (), remove: Iterable[Case] = ()
) -> tuple[list[Case], list[Case]]:
    """Add cases of the plan's product to its scope and remove others from it; return
    the cases actually added and removed (one already in, or already out, is left as it
    is). The database's scope tally moves with the rows, so the plan's reports become
    stale; one audit event names what changed. A case both added and removed is
    refused, as is one of another product."""
    policy_require(can_manage_plan(actor, plan), "manage_plan")
    plan = Plan.objects.select_for_update().select_related("release__product").get(pk=plan.pk)
    add, remove = list(add), list(remove)
    product = plan.release.product
    stray = sorted({case.key for case in add + remove if case.product_id != product.pk})
    if stray:
        raise ValidationError(f"Not cases of {product}: {', '.join(stray)}.")
    both = sorted({case.key for case in add} & {case.key for case in remove})
    if both:
        raise ValidationError(f"Both added and removed: {', '.join(both)}.")
    in_scope = set(plan.cases.values_list("pk", flat=True))
    added = _unique(case for case in add if case.pk not in in_scope)
    removed = _unique(case for case in remove if case.pk in in_scope)
    if added:
        plan.cases.add(*added)
    if removed:
        plan.cases.remove(*removed)
    if added or removed:
        event_record(
            actor=actor,
            verb="plan.scope_changed",
            obj=plan,
            before={"cases": len(in_scope)},
            after={
                "cases": len(in_scope) + len(added) - len(removed),
                "added": sorted(case.key for case in added),
                "removed": sorted(case.key for case in removed),
            },
        )
    return added, removed


def _unique(cases: Iterable[Case]) -> list[Case]:
    return list({case.pk: case for case in cases}.values())
