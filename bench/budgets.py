"""The budgets of issue 7, at 100,000 executions on a 2-core machine with PostgreSQL:
time of the median run, queries, peak memory, and growth from the small size."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    label: str
    ms: float
    queries: int | None = None  # the most queries allowed, where the issue names one
    growth: float = 1.3  # the most the median may grow from the small to the large size
    peak_mb: float | None = None
    fixed_queries: bool = True  # the query count must not change with the size


BUDGETS = {
    "inbox": Budget("tester inbox", 50, queries=15),
    "execution_page": Budget("execution page", 50, queries=15),
    "step_record": Budget("record a step result", 30, queries=10),
    "execution_record": Budget("record an execution result", 30, queries=10),
    "defect_report": Budget("report a defect", 30, queries=10),
    "dashboard": Budget("release dashboard", 250),
    "assign_cases": Budget("assign 1,000 cases to a cohort", 1_000),
    "gate_api": Budget("gate API", 30),
    "executions_api": Budget("executions list API, one page", 100),
    "defects_api": Budget("defect list API, one page", 100),
    "report_metrics": Budget(
        "acceptance report: metrics, evaluation", 1_500, growth=10, peak_mb=300
    ),
    "report_pdf": Budget("acceptance report PDF", 5_000, growth=10, fixed_queries=False),
}


def verdicts(small: dict | None, large: dict) -> list[str]:
    """What ``large`` (and its growth from ``small``) misses; empty when it holds."""
    budget = BUDGETS[large["name"]]
    missed = []
    if large["median_ms"] > budget.ms:
        missed.append(f"time {large['median_ms']:.0f} > {budget.ms:.0f} ms")
    if budget.queries is not None and large["queries"] > budget.queries:
        missed.append(f"queries {large['queries']} > {budget.queries}")
    if budget.peak_mb is not None and large.get("peak_mb", 0) > budget.peak_mb:
        missed.append(f"memory {large['peak_mb']} > {budget.peak_mb} MB")
    if small:
        ratio = growth(small, large)
        if ratio > budget.growth:
            missed.append(f"growth {ratio:.2f}x > {budget.growth}x")
        if budget.fixed_queries and small["queries"] != large["queries"]:
            missed.append(f"queries grew {small['queries']} -> {large['queries']}")
    return missed


def growth(small: dict, large: dict) -> float:
    return large["median_ms"] / small["median_ms"] if small["median_ms"] else float("inf")
