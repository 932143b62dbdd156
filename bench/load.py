"""``python -m bench.load`` (``make load``): gunicorn with 2 workers on loopback and a
crowd of simulated testers for a fixed time; prints requests per second, latency
percentiles and the error count (which must be zero: the exit status says so).

Each simulated tester signs in, then until the time is up: opens their inbox, opens an
execution from it, marks its steps passed one by one (each mark a form post, followed
to the page it redirects to, as a browser without JavaScript does) and finishes it.

A thread per tester with ``urllib``, not Locust: the crowd here is tens of users on
one machine, which threads drive easily, and it keeps the project free of Locust's
gevent, Flask and their kin. Cookies are kept by hand because the production settings
mark them Secure and the loopback hop is plain HTTP behind a pretended TLS proxy.

Environment: ``LOAD_TESTERS`` (default 20), ``LOAD_SECONDS`` (60), ``LOAD_PORT`` (8765);
``DATABASE_URL`` as for ``python -m bench``. It uses the data ``make bench`` left (or
builds 10,000 executions when there is none).
"""

import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from . import database
from .measure import percentile

EXECUTION_LINK = re.compile(r'href="(/executions/[0-9a-f-]{36}/)"')
LOCK = re.compile(r'name="lock_version" value="(\d+)"')
OPENED = re.compile(r'name="opened" value="([^"]*)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MARKS = re.compile(r'name="mark" value="(\d+):passed"')


class Start:
    """The crowd signs in first, then starts working together for ``seconds``: the
    figures are of a working day, not of twenty password checks queueing at once."""

    def __init__(self, testers: int, seconds: float):
        self.seconds = seconds
        self.began = self.deadline = 0.0
        self.barrier = threading.Barrier(testers, action=self._go, timeout=300)

    def _go(self) -> None:
        self.began = time.monotonic()
        self.deadline = self.began + self.seconds

    def wait(self) -> float:
        """Wait for everyone to have signed in; the time to stop working."""
        self.barrier.wait()
        return self.deadline


class Tester(threading.Thread):
    """One simulated tester: a connection, a cookie jar and a list of timings."""

    def __init__(self, port: int, email: str, password: str, start: "Start"):
        super().__init__(daemon=True)
        self.port, self.email, self.password, self.start_line = port, email, password, start
        self.cookies: dict[str, str] = {}
        self.timings: list[float] = []
        # Signing in hashes the password (deliberately slow): timed apart from the work.
        self.sign_in_timings: list[float] = []
        self.errors: list[str] = []
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {
            "Host": "127.0.0.1",
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = "https://127.0.0.1"
            headers["Referer"] = f"https://127.0.0.1{path}"
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        self.timings.append(time.perf_counter() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.status >= 400:
            self.errors.append(f"{method} {path}: {response.status}")
        location = response.headers.get("Location", "")
        return response.status, text, urllib.parse.urlsplit(location).path

    def run(self) -> None:
        try:
            self.sign_in()
            self.deadline = self.start_line.wait()
            while time.monotonic() < self.deadline:
                self.work()
        except Exception as error:  # every failure counts as an error
            self.errors.append(f"{type(error).__name__}: {error}")
            self.start_line.barrier.abort()  # nobody waits for a tester who is not coming

    def sign_in(self) -> None:
        _, page, _ = self.request("GET", "/accounts/sign-in/")
        form = {"username": self.email, "password": self.password, "next": "/work/"}
        form["csrfmiddlewaretoken"] = CSRF.search(page).group(1)
        status, _, _ = self.request("POST", "/accounts/sign-in/", form)
        if status != 302:
            raise RuntimeError(f"sign-in answered {status}")
        self.sign_in_timings, self.timings = self.timings, []

    def work(self) -> None:
        _, inbox, _ = self.request("GET", "/work/?show=todo")
        links = EXECUTION_LINK.findall(inbox) or EXECUTION_LINK.findall(
            self.request("GET", "/work/")[1]
        )
        if not links:
            time.sleep(1)
            return
        path = links[0]
        _, page, _ = self.request("GET", path)
        positions = MARKS.findall(page)
        if not positions:
            return  # finished meanwhile: only the inbox counted this round
        for position in positions:
            if time.monotonic() >= self.deadline:
                return
            page = self.post_form(path, page, {"mark": f"{position}:passed"})
        self.post_form(path, page, {"finish": "1", "notes": "Checked under load."})

    def post_form(self, path: str, page: str, fields: dict) -> str:
        form = {
            "csrfmiddlewaretoken": CSRF.search(page).group(1),
            "lock_version": LOCK.search(page).group(1),
            "opened": OPENED.search(page).group(1),
            **fields,
        }
        status, text, location = self.request("POST", path, form)
        if status == 302:
            return self.request("GET", location or path)[1]
        return text


def prepare() -> tuple[list[str], str]:
    """The bench database's testers with pending work; builds data when there is none."""
    import django

    django.setup()
    from django.conf import settings
    from django.db.models import Count

    from uat.models import Execution, ExecutionStatus, Product

    from .scale import ScaleSpec, build_scale

    if not Product.objects.filter(slug__startswith="bench-").exists():
        database.reset()
        build_scale(ScaleSpec(executions=10_000))
    product = Product.objects.filter(slug__startswith="bench-").order_by("-pk").first()
    count = int(os.environ.get("LOAD_TESTERS", "20"))
    testers = (
        Execution.objects.filter(plan__release__product=product, status=ExecutionStatus.PENDING)
        .filter(tester__email__startswith="tester")  # the built testers, who have a password
        .values("tester__email")
        .annotate(n=Count("id"))
        .order_by("-n", "tester__email")[:count]
    )
    return [row["tester__email"] for row in testers], settings.DEMO_PASSWORD


def serve(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SMTP_HOST": "127.0.0.1",
        "BEHIND_PROXY": "true",
        "LOG_LEVEL": "WARNING",
        # The production static storage serves from a manifest that collectstatic writes.
        "STATIC_ROOT": tempfile.mkdtemp(prefix="greenlight-load-static-"),
    }
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(collect, env=env, cwd=database.BASE_DIR, check=True)  # noqa: S603
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "config.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning"]
    server = subprocess.Popen(command, env=env, cwd=database.BASE_DIR)  # noqa: S603
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def main() -> int:
    database.configure()
    port = int(os.environ.get("LOAD_PORT", "8765"))
    seconds = float(os.environ.get("LOAD_SECONDS", "60"))
    emails, password = prepare()
    server = serve(port)
    try:
        start = Start(len(emails), seconds)
        crowd = [Tester(port, email, password, start) for email in emails]
        for tester in crowd:
            tester.start()
        for tester in crowd:
            tester.join(seconds + 360)
        elapsed = time.monotonic() - start.began
    finally:
        server.terminate()
        server.wait(10)
    timings = [t * 1000 for tester in crowd for t in tester.timings]
    errors = [error for tester in crowd for error in tester.errors]
    sign_ins = [t * 1000 for tester in crowd for t in tester.sign_in_timings]
    out = sys.stdout
    out.write(
        f"{len(crowd)} testers, {elapsed:.0f}s, gunicorn 2 workers: {len(timings):,} requests, "
        f"{len(timings) / elapsed:.1f} requests/s\n"
    )
    if timings:
        out.write(
            f"latency ms: p50 {statistics.median(timings):.0f}, "
            f"p95 {percentile(timings, 0.95):.0f}, p99 {percentile(timings, 0.99):.0f}, "
            f"max {max(timings):.0f}\n"
        )
    if sign_ins:
        out.write(
            f"signing in ({len(sign_ins)} requests, not counted above): "
            f"p50 {statistics.median(sign_ins):.0f} ms, max {max(sign_ins):.0f} ms\n"
        )
    out.write(f"errors: {len(errors)}\n")
    for error in errors[:10]:
        out.write(f"  {error}\n")
    return 1 if errors or not timings else 0


if __name__ == "__main__":
    sys.exit(main())
