"""The acceptance (exit) criteria of a plan, evaluated on its metrics.

Each criterion gives its actual value, its threshold, whether it passed, and one
sentence a stakeholder understands. The evaluation reads only the plan's own criteria
fields and the dict of ``reports.metrics.plan_metrics``: no queries, so it is the same
for the dashboard, the report, the PDF and the emails.

The report decides before anyone signs, so the sign-off criterion checks that every
required role has someone named to sign it; whether they approved is the gate's part.
"""

from dataclasses import asdict, dataclass
from decimal import Decimal

from uat.models import Plan

SEVERITY_LIMITS = (
    ("critical", "max_open_critical_defects"),
    ("major", "max_open_major_defects"),
    ("minor", "max_open_minor_defects"),
    ("trivial", "max_open_trivial_defects"),
)


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    actual: str
    threshold: str
    passed: bool
    sentence: str


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


def _num(value) -> str:
    """A threshold as people write it: 95, 99.5 — never 95.00 or 1E+2."""
    return format(Decimal(value).normalize(), "f")


def _meets(part: int, whole: int, minimum: Decimal) -> bool:
    """``part / whole ≥ minimum %`` in exact arithmetic: 94.96 % is not 95 %."""
    return 100 * part >= minimum * whole


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def execution_coverage(plan: Plan, metrics: dict) -> Criterion:
    overall = metrics["progress"]["overall"]
    total, executed = overall["total"], overall["executed"]
    minimum = plan.min_execution_coverage
    if not total:
        passed, sentence = False, "The plan has no cases in scope, so nothing was tested."
    else:
        passed = _meets(executed, total, minimum)
        sentence = (
            f"{executed} of {total} cases in scope have a result "
            f"({_pct(overall['coverage'])}); at least {_num(minimum)} % must."
        )
    return Criterion(
        "execution_coverage",
        "Every in-scope case executed",
        _pct(overall["coverage"]),
        f"≥ {_num(minimum)} %",
        passed,
        sentence,
    )


def critical_pass_rate(plan: Plan, metrics: dict) -> Criterion:
    critical = next(p for p in metrics["progress"]["by_priority"] if p["priority"] == "critical")
    total, passed_cases = critical["total"], critical["passed"]
    minimum = plan.min_critical_pass_rate
    rate = None if not total else round(100 * passed_cases / total, 1)
    if not total:
        passed, sentence = True, "The plan has no critical cases in scope."
    else:
        passed = _meets(passed_cases, total, minimum)
        sentence = (
            f"{passed_cases} of {total} critical cases passed ({_pct(rate)}); "
            f"at least {_num(minimum)} % must."
        )
    return Criterion(
        "critical_pass_rate",
        "Critical cases passed",
        _pct(rate),
        f"≥ {_num(minimum)} %",
        passed,
        sentence,
    )


def pass_rate(plan: Plan, metrics: dict) -> Criterion:
    overall = metrics["progress"]["overall"]
    executed, passed_cases = overall["executed"], overall["passed"]
    minimum = plan.min_pass_rate
    if not executed:
        passed = minimum == 0
        sentence = "No case has a result yet, so there is no pass rate."
    else:
        passed = _meets(passed_cases, executed, minimum)
        sentence = (
            f"{passed_cases} of the {executed} cases with a result passed "
            f"({_pct(overall['pass_rate'])}); at least {_num(minimum)} % must."
        )
    return Criterion(
        "pass_rate",
        "Overall pass rate",
        _pct(overall["pass_rate"]),
        f"≥ {_num(minimum)} %",
        passed,
        sentence,
    )


def open_defects(plan: Plan, metrics: dict, severity: str, field: str) -> Criterion | None:
    limit = getattr(plan, field)
    if limit is None:
        return None
    entry = next(e for e in metrics["defects"]["by_severity"] if e["severity"] == severity)
    count, waived = entry["open"], entry["waived"]
    sentence = f"{_plural(count, f'open {severity} defect')} without a waiver"
    sentence += f" ({waived} more waived)" if waived else ""
    sentence += "; none may remain." if limit == 0 else f"; at most {limit} may remain."
    return Criterion(
        f"open_{severity}_defects",
        f"Open {severity} defects",
        str(count),
        f"≤ {limit}",
        count <= limit,
        sentence,
    )


def _listed(keys: list[str], most: int = 10) -> str:
    """The first ``most`` keys, saying when there are more."""
    return ", ".join(keys[:most]) + (" and more" if len(keys) > most else "")


def requirement_coverage(plan: Plan, metrics: dict) -> Criterion | None:
    if not plan.require_requirement_coverage:
        return None
    matrix = metrics["requirements"]
    satisfied = [row for row in matrix if row["satisfied"]]
    short = [row["key"] for row in matrix if not row["satisfied"]]
    if not matrix:
        sentence = "No requirement is linked to the cases in scope."
    elif not short:
        sentence = f"All {len(matrix)} requirements have a passing case and none has a failing one."
    else:
        listed = _listed(short)
        sentence = (
            f"{len(satisfied)} of {len(matrix)} requirements have a passing case and no "
            f"failing one; not yet: {listed}."
        )
    return Criterion(
        "requirement_coverage",
        "Every requirement covered by a passing case",
        f"{len(satisfied)} of {len(matrix)}",
        "all",
        not short,
        sentence,
    )


def beta_testers(plan: Plan, metrics: dict) -> Criterion | None:
    if not plan.is_beta:
        return None
    minimum = plan.min_beta_testers_per_critical_case
    cases = metrics["critical_cases"]
    short = [case["key"] for case in cases if case["testers"] < minimum]
    fewest = min((case["testers"] for case in cases), default=None)
    if not cases:
        sentence = "The plan has no critical cases in scope."
    elif not short:
        sentence = (
            f"Each of the {len(cases)} critical cases was passed by at least "
            f"{_plural(minimum, 'distinct beta tester')}."
        )
    else:
        listed = _listed(short)
        sentence = (
            f"{len(short)} of {len(cases)} critical cases were passed by fewer than "
            f"{_plural(minimum, 'distinct beta tester')}: {listed}."
        )
    return Criterion(
        "beta_testers",
        "Distinct beta testers per critical case",
        "—" if fewest is None else f"{fewest} (fewest)",
        f"≥ {minimum} each",
        not short,
        sentence,
    )


def signoff_roles(plan: Plan, metrics: dict) -> Criterion:
    roles = metrics["signoff_roles"]
    unnamed = [role["label"] for role in roles if not role["signers"]]
    labels = ", ".join(role["label"] for role in roles)
    if not roles:
        sentence = "The plan requires no sign-off."
    elif unnamed:
        sentence = f"Nobody is named to sign as {', '.join(unnamed)}."
    else:
        sentence = (
            f"{_plural(len(roles), 'sign-off')} required ({labels}), each with a named "
            f"signer who signs after reviewing this report."
        )
    return Criterion(
        "signoff_roles",
        "Required sign-off roles",
        f"{len(roles) - len(unnamed)} of {len(roles)} named",
        "every role named",
        not unnamed,
        sentence,
    )


def criteria_evaluate(plan: Plan, metrics: dict) -> list[dict]:
    """Every criterion that applies to ``plan``, in order, as plain dicts."""
    results = [
        execution_coverage(plan, metrics),
        critical_pass_rate(plan, metrics),
        pass_rate(plan, metrics),
        *(open_defects(plan, metrics, severity, field) for severity, field in SEVERITY_LIMITS),
        requirement_coverage(plan, metrics),
        beta_testers(plan, metrics),
        signoff_roles(plan, metrics),
    ]
    return [asdict(result) for result in results if result is not None]


def decision_of(criteria: list[dict]) -> str:
    """Go when every criterion passed, otherwise no-go."""
    return "go" if all(criterion["passed"] for criterion in criteria) else "no-go"
