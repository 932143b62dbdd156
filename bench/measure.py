"""Timing one operation: warm-up runs, then repeated runs, each timed with
``perf_counter`` and its SQL queries counted; the peak memory in one extra traced run."""

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass
class Result:
    name: str
    executions: int
    median_ms: float
    p95_ms: float
    queries: int
    runs: int
    peak_mb: float | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        if data["peak_mb"] is None:
            del data["peak_mb"]
        return data


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: with few runs, the p95 is the slowest."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def measure(
    name: str,
    executions: int,
    run: Callable[[object], object],
    *,
    prepare: Callable[[int], object] = lambda n: None,
    warmup: int = 2,
    repeats: int = 10,
    memory: bool = False,
) -> Result:
    """Time ``run(prepare(n))`` ``repeats`` times after ``warmup`` untimed runs.

    ``prepare`` is outside the timing: it hands each run its own target (a fresh pending
    execution, a new cohort), so no run measures a no-op left over by the one before.
    The query count is the largest any timed run made."""
    iteration = 0
    for _ in range(warmup):
        run(prepare(iteration))
        iteration += 1
    times, queries = [], 0
    for _ in range(repeats):
        target = prepare(iteration)
        iteration += 1
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run(target)
            elapsed = time.perf_counter() - started
        times.append(elapsed * 1000)
        queries = max(queries, len(captured.captured_queries))
    peak = None
    if memory:
        target = prepare(iteration)
        tracemalloc.start()
        try:
            run(target)
            peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
        finally:
            tracemalloc.stop()
    return Result(
        name=name,
        executions=executions,
        median_ms=round(statistics.median(times), 2),
        p95_ms=round(percentile(times, 0.95), 2),
        queries=queries,
        runs=repeats,
        peak_mb=round(peak, 1) if peak is not None else None,
    )
