"""The benchmark's own database: never the developer's db.sqlite3.

By default a SQLite file ``bench.sqlite3`` in the project folder; with ``DATABASE_URL``
set, that database — but only one whose name says it is for benchmarking, since the
benchmark empties it first.
"""

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{BASE_DIR / 'bench.sqlite3'}"


def configure() -> str:
    """Point ``DATABASE_URL`` at the benchmark database before Django starts; return it."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Report PDFs of the benchmark go to a scratch folder; Celery's and the app's
    # informational logs would bury the table.
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="greenlight-bench-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return url


def reset() -> None:
    """Empty the benchmark database and migrate it from scratch."""
    from django.core.management import call_command
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if "bench" not in Path(name).name:
        raise SystemExit(
            f"Refusing to empty the database {name!r}: the benchmark only runs on a "
            "database whose name contains 'bench' (for example greenlight_bench)."
        )
    if connection.vendor == "sqlite":
        connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(name + suffix).unlink(missing_ok=True)
    else:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    call_command("migrate", verbosity=0, interactive=False)
