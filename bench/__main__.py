"""``python -m bench``: build the data at two sizes, measure, print a table, write JSON.

Environment: ``BENCH_EXECUTIONS`` (the larger size, default 100,000), ``BENCH_OUT``
(the JSON file, default bench-results.json), ``DATABASE_URL`` (default a SQLite file
bench.sqlite3; the benchmark empties the database first, so its name must contain
"bench").
"""

import argparse
import os
import sys

from . import database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--small", type=int, default=10_000, help="executions, smaller size")
    parser.add_argument(
        "--large",
        type=int,
        default=int(os.environ.get("BENCH_EXECUTIONS", "100000")),
        help="executions, larger size (BENCH_EXECUTIONS)",
    )
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per operation")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    parser.add_argument("--out", default=os.environ.get("BENCH_OUT", "bench-results.json"))
    args = parser.parse_args(argv)

    database.configure()
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    from .runner import run

    # The test client's host, and mail kept in memory rather than printed.
    setup_test_environment()
    database.reset()
    results = run(
        sizes=[args.small, args.large],
        repeats=args.repeats,
        warmup=args.warmup,
        out=args.out,
        stream=sys.stdout,
    )
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
