"""Timing one operation at each size: warm-up runs, then repeated runs taking turns
between the sizes, each timed with ``perf_counter`` and its SQL queries counted; the
peak memory in one extra traced run."""

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


@dataclass
class Trial:
    """One operation at one size: ``run(prepare(n))`` is what gets timed."""

    name: str
    executions: int
    run: Callable[[object], object]
    # Outside the timing: hands each run its own target (a fresh pending execution, a
    # new cohort), so no run measures a no-op left over by the one before.
    prepare: Callable[[int], object] = lambda n: None
    warmup: int = 2
    repeats: int = 10
    memory: bool = False


def measure(*trials: Trial) -> list[Result]:
    """Time each trial ``repeats`` times after ``warmup`` untimed runs, the trials
    taking turns run by run (one operation at each size), so a machine whose speed
    drifts meanwhile (a shared CPU) slows every size alike. All trials share the first
    one's ``warmup`` and ``repeats``.

    The query count is the largest any timed run made; the peak memory is measured in
    one extra traced run where a trial asks for it."""
    first = trials[0]
    done = [0] * len(trials)

    def target(i: int):
        done[i] += 1
        return trials[i].prepare(done[i] - 1)

    for _ in range(first.warmup):
        for i, trial in enumerate(trials):
            trial.run(target(i))
    times: list[list[float]] = [[] for _ in trials]
    queries = [0] * len(trials)
    for _ in range(first.repeats):
        for i, trial in enumerate(trials):
            prepared = target(i)
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                trial.run(prepared)
                elapsed = time.perf_counter() - started
            times[i].append(elapsed * 1000)
            queries[i] = max(queries[i], len(captured.captured_queries))
    return [
        Result(
            name=trial.name,
            executions=trial.executions,
            median_ms=round(statistics.median(times[i]), 2),
            p95_ms=round(percentile(times[i], 0.95), 2),
            queries=queries[i],
            runs=first.repeats,
            peak_mb=_peak_mb(trial, target(i)) if trial.memory else None,
        )
        for i, trial in enumerate(trials)
    ]


def _peak_mb(trial: Trial, prepared) -> float:
    tracemalloc.start()
    try:
        trial.run(prepared)
        return round(tracemalloc.get_traced_memory()[1] / (1024 * 1024), 1)
    finally:
        tracemalloc.stop()
