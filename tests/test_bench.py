"""The benchmark's machinery at a tiny size, so it cannot rot unnoticed. No timings are
asserted here: the budgets live in the benchmark (`make bench`), never in the tests."""

import json

import pytest

from bench.budgets import BUDGETS
from bench.runner import run
from bench.scale import ScaleSpec

TINY = ScaleSpec(
    cases=60, steps=2, requirements=6, plans=2, testers=8, cohorts=4, executions=0, defects=10
)


@pytest.mark.django_db
def test_benchmark_measures_every_operation_at_each_size_and_writes_json(tmp_path, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    out = tmp_path / "bench.json"
    lines = []

    class Stream:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    returned = run(sizes=[150, 200], repeats=1, warmup=0, out=out, stream=Stream(), spec=TINY)

    results = json.loads(out.read_text())
    assert results == returned
    assert {(r["name"], r["executions"]) for r in results} == {
        (name, size) for name in BUDGETS for size in (150, 200)
    }
    for result in results:
        assert {"name", "executions", "median_ms", "p95_ms", "queries"} <= set(result)
        assert result["median_ms"] > 0 and result["p95_ms"] >= result["median_ms"]
        assert ("peak_mb" in result) == (result["name"] == "report_metrics")
    table = "".join(lines)
    assert "assign_cases" in table and "verdict" in table
