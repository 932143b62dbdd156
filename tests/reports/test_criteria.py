"""Each acceptance criterion: its actual value, threshold, verdict and sentence."""

from decimal import Decimal

import pytest

from reports.criteria import (
    beta_testers,
    criteria_evaluate,
    critical_pass_rate,
    decision_of,
    execution_coverage,
    open_defects,
    pass_rate,
    requirement_coverage,
    signoff_roles,
)
from uat.models import Plan


def progress(passed=0, failed=0, blocked=0, not_run=0, critical=None):
    """Metrics of a plan whose cases are all medium, plus ``critical`` (passed, total)."""

    def summary(p, f, b, n):
        executed = p + f + b
        total = executed + n
        return {
            "passed": p,
            "failed": f,
            "blocked": b,
            "not_run": n,
            "total": total,
            "executed": executed,
            "coverage": round(100 * executed / total, 1) if total else None,
            "pass_rate": round(100 * p / executed, 1) if executed else None,
        }

    crit_passed, crit_total = critical or (0, 0)
    return {
        "overall": summary(
            passed + crit_passed, failed, blocked, not_run + crit_total - crit_passed
        ),
        "by_priority": [
            {"priority": "critical", **summary(crit_passed, 0, 0, crit_total - crit_passed)},
            {"priority": "medium", **summary(passed, failed, blocked, not_run)},
        ],
        "by_cohort": [],
    }


def metrics(**overrides):
    base = {
        "progress": progress(passed=10),
        "requirements": [],
        "defects": {
            "by_severity": [
                {"severity": s, "open": 0, "waived": 0, "total": 0}
                for s in ("critical", "major", "minor", "trivial")
            ],
            "open_total": 0,
        },
        "critical_cases": [],
        "signoff_roles": [],
    }
    return {**base, **overrides}


def defects(**open_by_severity):
    rows = []
    for severity in ("critical", "major", "minor", "trivial"):
        n, waived = open_by_severity.get(severity, (0, 0))
        rows.append({"severity": severity, "open": n, "waived": waived, "total": n + waived})
    return {"by_severity": rows, "open_total": 0}


@pytest.fixture
def plan():
    return Plan(stage="alpha")  # the model's defaults are the issue's defaults


def test_defaults_are_the_issues():
    plan = Plan()
    assert plan.min_execution_coverage == 100
    assert plan.min_critical_pass_rate == 100
    assert plan.min_pass_rate == 95
    assert plan.max_open_critical_defects == 0
    assert plan.max_open_major_defects == 0
    assert plan.require_requirement_coverage
    assert plan.min_beta_testers_per_critical_case == 2


def test_coverage_needs_every_case_executed(plan):
    met = execution_coverage(plan, metrics(progress=progress(passed=9, failed=1)))
    assert met.passed and met.actual == "100 %" and met.threshold == "≥ 100 %"
    short = execution_coverage(plan, metrics(progress=progress(passed=9, not_run=1)))
    assert not short.passed
    assert short.sentence == "9 of 10 cases in scope have a result (90 %); at least 100 % must."


def test_coverage_fails_an_empty_scope(plan):
    result = execution_coverage(plan, metrics(progress=progress()))
    assert not result.passed and "no cases in scope" in result.sentence


def test_coverage_threshold_is_editable(plan):
    plan.min_execution_coverage = Decimal("90.00")
    assert execution_coverage(plan, metrics(progress=progress(passed=9, not_run=1))).passed


def test_every_critical_case_must_pass(plan):
    assert critical_pass_rate(plan, metrics(progress=progress(critical=(3, 3)))).passed
    result = critical_pass_rate(plan, metrics(progress=progress(critical=(2, 3))))
    assert not result.passed
    assert result.actual == "66.7 %"
    assert result.sentence == "2 of 3 critical cases passed (66.7 %); at least 100 % must."


def test_no_critical_cases_pass_the_critical_criterion(plan):
    result = critical_pass_rate(plan, metrics(progress=progress(passed=3)))
    assert result.passed and result.actual == "—"


def test_pass_rate_is_exact_at_the_threshold(plan):
    assert pass_rate(plan, metrics(progress=progress(passed=19, failed=1))).passed  # 95 %
    below = pass_rate(plan, metrics(progress=progress(passed=1899, failed=101)))  # 94.95 %
    assert not below.passed
    assert below.actual == "95 %"  # rounded for people, compared exactly


def test_pass_rate_without_results_fails(plan):
    result = pass_rate(plan, metrics(progress=progress(not_run=4)))
    assert not result.passed and result.actual == "—"


def test_open_critical_and_major_defects_fail_and_waived_ones_do_not(plan):
    clean = metrics(defects=defects(critical=(0, 2), major=(0, 1)))
    assert open_defects(plan, clean, "critical", "max_open_critical_defects").passed
    assert open_defects(plan, clean, "major", "max_open_major_defects").passed
    dirty = metrics(defects=defects(critical=(1, 2)))
    result = open_defects(plan, dirty, "critical", "max_open_critical_defects")
    assert not result.passed and result.actual == "1" and result.threshold == "≤ 0"
    assert (
        result.sentence
        == "1 open critical defect without a waiver (2 more waived); none may remain."
    )


def test_defect_limits_left_empty_are_not_criteria(plan):
    assert open_defects(plan, metrics(), "minor", "max_open_minor_defects") is None
    plan.max_open_minor_defects = 3
    result = open_defects(
        plan, metrics(defects=defects(minor=(4, 0))), "minor", "max_open_minor_defects"
    )
    assert not result.passed and result.sentence.endswith("at most 3 may remain.")


def requirement(key, passed=0, failed=0):
    return {
        "key": key,
        "passed": passed,
        "failed": failed,
        "satisfied": bool(passed) and not failed,
    }


def test_every_requirement_needs_a_pass_and_no_failure(plan):
    good = metrics(requirements=[requirement("R1", passed=2), requirement("R2", passed=1)])
    assert requirement_coverage(plan, good).passed
    bad = metrics(
        requirements=[
            requirement("R1", passed=2),
            requirement("R2", passed=1, failed=1),
            requirement("R3"),
        ]
    )
    result = requirement_coverage(plan, bad)
    assert not result.passed and result.actual == "1 of 3"
    assert "not yet: R2, R3" in result.sentence


def test_requirement_coverage_can_be_switched_off(plan):
    plan.require_requirement_coverage = False
    assert requirement_coverage(plan, metrics()) is None


def test_beta_plans_need_two_beta_testers_per_critical_case():
    plan = Plan(stage="beta")
    cases = [{"key": "C1", "testers": 2}, {"key": "C2", "testers": 1}]
    result = beta_testers(plan, metrics(critical_cases=cases))
    assert not result.passed and result.actual == "1 (fewest)" and result.threshold == "≥ 2 each"
    assert "C2" in result.sentence and "C1" not in result.sentence
    assert beta_testers(plan, metrics(critical_cases=[{"key": "C1", "testers": 3}])).passed


def test_alpha_plans_have_no_beta_criterion(plan):
    assert beta_testers(plan, metrics(critical_cases=[{"key": "C1", "testers": 0}])) is None


def test_every_required_signoff_role_needs_a_named_signer(plan):
    named = [{"role": "business_owner", "label": "Business Owner", "signers": ["Olive"]}]
    assert signoff_roles(plan, metrics(signoff_roles=named)).passed
    unnamed = [*named, {"role": "compliance", "label": "Compliance", "signers": []}]
    result = signoff_roles(plan, metrics(signoff_roles=unnamed))
    assert not result.passed and result.sentence == "Nobody is named to sign as Compliance."


def test_the_decision_is_go_only_when_every_criterion_passes(plan):
    good = metrics()
    criteria = criteria_evaluate(plan, good)
    assert [c["key"] for c in criteria] == [
        "execution_coverage",
        "critical_pass_rate",
        "pass_rate",
        "open_critical_defects",
        "open_major_defects",
        "requirement_coverage",
        "signoff_roles",
    ]
    assert decision_of(criteria) == "go"
    bad = metrics(defects=defects(major=(1, 0)))
    assert decision_of(criteria_evaluate(plan, bad)) == "no-go"
