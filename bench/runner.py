"""Build each size, measure it, and report: a table on ``stream``, JSON in ``out``."""

import dataclasses
import json
import platform
import sys
import time
from pathlib import Path
from typing import TextIO

from django.db import connection

from .budgets import BUDGETS, growth, verdicts
from .scale import ScaleSpec, build_scale
from .scenarios import Settings, measure_all


class ProgressBar:
    """A one-line progress bar on stderr for the build, from the builder's messages."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO = sys.stderr):
        self.total, self.stream, self.started = total, stream, time.perf_counter()

    def __call__(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        if text.startswith("executions "):
            done = int(text.split()[1].split("/")[0].replace(",", ""))
            filled = self.WIDTH * done // max(self.total, 1)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r  [{bar}] {done:>9,}/{self.total:,} executions {elapsed:5.1f}s")
            if done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"  {text} ({elapsed:.1f}s)\n")
        self.stream.flush()


def run(
    *,
    sizes: list[int],
    repeats: int,
    warmup: int,
    out: str | Path,
    stream: TextIO,
    spec: ScaleSpec | None = None,
) -> list[dict]:
    """Measure every operation at each size; return the figures written to ``out``."""
    spec = spec or ScaleSpec()
    settings = Settings(warmup=warmup, repeats=repeats, slow_repeats=max(1, min(repeats, 5)))
    stream.write(
        f"Benchmark on {connection.vendor}, Python {platform.python_version()}; "
        f"CPU reference {cpu_reference_ms():.0f} ms\n"
    )
    products = {}
    for size in sizes:
        sized = dataclasses.replace(spec, executions=size)
        stream.write(f"Building {size:,} executions\n")
        started = time.perf_counter()
        products[size] = build_scale(sized, progress=ProgressBar(size))
        stream.write(f"  built in {time.perf_counter() - started:.1f}s\n")
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load: fresh statistics for the planner
        # and, on PostgreSQL, the visibility map that lets aggregates read indexes
        # alone (index-only scans).
        # (VACUUM cannot run in a transaction, as under the test suite.)
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    stream.write("Measuring each operation at every size in turn\n")
    stream.flush()
    results = []
    for result in measure_all(products, settings):
        stream.write(f"  {result.name:<18}{result.executions:>11,}{result.median_ms:>11.1f} ms\n")
        stream.flush()
        results.append(result.as_dict())
    Path(out).write_text(json.dumps(results, indent=2) + "\n")
    stream.write(table(results, sizes) + "\n")
    stream.write(f"CPU reference at the end {cpu_reference_ms():.0f} ms\n")
    stream.write(f"Figures written to {out}\n")
    return results


def cpu_reference_ms() -> float:
    """The best of three runs of a fixed pure-Python loop, in ms: how fast this machine
    runs Python, so figures from different machines can be compared (the figures in
    docs/performance.md say which reference they were measured at)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(2_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return best * 1000


def table(results: list[dict], sizes: list[int]) -> str:
    """Each operation at each size, the growth between the first and last size, and
    whether the last size holds its budget."""
    by_name: dict[str, dict[int, dict]] = {}
    for result in results:
        by_name.setdefault(result["name"], {})[result["executions"]] = result
    small, large = sizes[0], sizes[-1]
    header = (
        f"{'operation':<18}{'executions':>11}{'median ms':>11}{'p95 ms':>9}{'queries':>9}"
        f"{'peak MB':>9}{'growth':>8}{'budget ms':>11}  verdict"
    )
    lines = [header, "-" * len(header)]
    for name, sized in by_name.items():
        budget = BUDGETS[name]
        for size in sizes:
            row = sized[size]
            ratio, verdict, budget_ms = "", "", ""
            if size == large:
                if small != large:
                    ratio = f"{growth(sized[small], row):.2f}x"
                missed = verdicts(sized.get(small) if small != large else None, row)
                margin = budget.ms / row["median_ms"] if row["median_ms"] else float("inf")
                verdict = "MISSED: " + "; ".join(missed) if missed else f"ok ({margin:.1f}x)"
                budget_ms = f"{budget.ms:,.0f}"
            peak = f"{row['peak_mb']:.1f}" if "peak_mb" in row else ""
            lines.append(
                f"{name:<18}{size:>11,}{row['median_ms']:>11.1f}{row['p95_ms']:>9.1f}"
                f"{row['queries']:>9}{peak:>9}{ratio:>8}{budget_ms:>11}  {verdict}"
            )
    return "\n".join(lines)
