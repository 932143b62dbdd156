"""The metrics of a plan: right numbers, from a fixed number of queries."""

import pytest

from reports.metrics import plan_metrics
from tests.factories import (
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    ReleaseFactory,
    WaiverFactory,
)

from .conftest import grow

pytestmark = pytest.mark.django_db


def test_progress_counts_latest_results_by_priority_and_cohort(plan):
    progress = plan_metrics(plan)["progress"]
    assert progress["overall"] == {
        "passed": 1,
        "failed": 1,
        "blocked": 1,
        "not_run": 1,
        "total": 4,
        "executed": 3,
        "coverage": 75.0,
        "pass_rate": 33.3,
    }
    critical = progress["by_priority"][0]
    assert (critical["priority"], critical["total"], critical["passed"]) == ("critical", 1, 1)
    [cohort] = progress["by_cohort"]
    assert (cohort["name"], cohort["executed"], cohort["not_run"]) == ("Sales", 3, 1)


def test_history_does_not_count_and_unassigned_cases_have_not_run(plan):
    case = plan.cases.get(key="C-2")
    ExecutionFactory(plan=plan, case=case, passed=True, is_latest=False)  # older history
    extra = plan.cases.model.objects.create(product=plan.release.product, key="C-9", title="x")
    plan.cases.add(extra)
    overall = plan_metrics(plan)["progress"]["overall"]
    assert (overall["passed"], overall["failed"], overall["not_run"], overall["total"]) == (
        1,
        1,
        2,
        5,
    )


def test_requirement_matrix(plan):
    matrix = {row["key"]: row for row in plan_metrics(plan)["requirements"]}
    assert matrix["R-1"]["cases_in_scope"] == 2
    assert (matrix["R-1"]["passed"], matrix["R-1"]["failed"]) == (1, 1)
    assert matrix["R-1"]["open_defects"] == 1
    assert matrix["R-1"]["verdict"] == "failed" and not matrix["R-1"]["satisfied"]
    assert matrix["R-2"]["verdict"] == "blocked" and not matrix["R-2"]["satisfied"]


def test_open_defects_per_requirement_count_each_defect_once_and_only_this_plans_runs(plan):
    r1_cases = plan.cases.filter(requirements__key="R-1")
    [passed] = plan.executions.filter(case__in=r1_cases, status="passed")
    older = ExecutionFactory(plan=plan, case=passed.case, failed=True, is_latest=False)
    other_stage = "beta" if plan.stage == "alpha" else "alpha"
    other_plan = ExecutionFactory(plan=PlanFactory(release=plan.release, stage=other_stage))
    out_of_scope = ExecutionFactory(plan=plan)  # a run of a case not in scope (any more)

    def linked(*executions, **options):
        defect = DefectFactory(release=plan.release, **options)
        defect.executions.add(*executions)

    linked(older, plan.executions.get(status="failed", is_latest=True))  # two R-1 cases: once
    linked(older, status="closed")  # not open
    linked(other_plan, out_of_scope)  # neither run counts for this plan's scope
    linked(plan.executions.get(status="blocked"), status="deferred")  # R-2, open
    matrix = {row["key"]: row["open_defects"] for row in plan_metrics(plan)["requirements"]}
    # the fixture's defect and the one on two of its cases; R-2: the deferred one.
    assert matrix == {"R-1": 2, "R-2": 1}


def test_defects_by_severity_exclude_waived_ones(plan, stakeholder):
    waived = DefectFactory(release=plan.release, critical=True)
    WaiverFactory(defect=waived, granted_by=stakeholder)
    DefectFactory(release=plan.release, critical=True, closed=True)
    defects = plan_metrics(plan)["defects"]
    critical = defects["by_severity"][0]
    assert (critical["open"], critical["waived"], critical["total"]) == (0, 1, 2)
    assert defects["by_severity"][1]["open"] == 1  # the major one
    assert [w["defect"] for w in defects["waivers"]] == [waived.reference]
    assert [d["reference"] for d in defects["open_blocking"]] == [
        plan.release.defects.get(severity="major").reference
    ]


def test_escaped_defects_of_earlier_releases_make_the_trend(plan):
    earlier = ReleaseFactory(product=plan.release.product, version="0.9")
    earlier.created_at = plan.release.created_at.replace(year=plan.release.created_at.year - 1)
    earlier.save()
    DefectFactory.create_batch(2, release=earlier, escaped=True)
    DefectFactory(release=earlier)  # found in UAT: not an escape
    assert plan_metrics(plan)["escaped"] == [
        {"version": "0.9", "escaped": 2, "escaped_critical": 0}
    ]


def test_testers_days_and_signoff_roles(plan, tester, stakeholder):
    metrics = plan_metrics(plan)
    [row] = metrics["testers"]
    assert (row["name"], row["assigned"], row["finished"], row["pending"]) == (
        tester.full_name,
        4,
        3,
        1,
    )
    assert sum(day["passed"] + day["failed"] + day["blocked"] for day in metrics["per_day"]) == 3
    assert metrics["signoff_roles"] == [
        {
            "role": "business_owner",
            "label": "Business Owner",
            "signers": [stakeholder.full_name],
            # Named before who and when were recorded (a factory row).
            "configured_by": "",
            "configured_at": "",
        }
    ]


def test_beta_passers_count_distinct_beta_testers(plan):
    from tests.factories import CohortFactory, UserFactory

    beta = CohortFactory(product=plan.release.product, beta=True)
    case = plan.cases.get(key="C-1")
    one, two = UserFactory(external=True), UserFactory(external=True)
    for person in (one, one, two):
        ExecutionFactory(
            plan=plan, case=case, tester=person, cohort=beta, passed=True, is_latest=False
        )
    assert plan_metrics(plan)["critical_cases"] == [
        {"key": "C-1", "title": case.title, "testers": 2}
    ]


def test_the_metrics_cost_a_fixed_number_of_queries(plan, django_assert_num_queries):
    plan = type(plan).objects.select_related("release__product").get(pk=plan.pk)
    with django_assert_num_queries(15):
        plan_metrics(plan)
    grow(plan, 6)
    with django_assert_num_queries(15):
        plan_metrics(plan)
