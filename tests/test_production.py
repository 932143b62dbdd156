"""The production path: DEBUG off, collected static files, gunicorn on loopback."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def production(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))},
        "DEBUG": "false",
        "SECRET_KEY": "production-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "SMTP_HOST": "127.0.0.1",
        "BEHIND_PROXY": "true",
        "CELERY_BROKER_URL": "",
    }
    python = sys.executable
    for args in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [python, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
        )
    port = free_port()
    gunicorn = Path(python).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield base
    server.terminate()
    server.wait(timeout=10)


def get(url: str, https: bool = True):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"} if https else {})
    return urllib.request.urlopen(request, timeout=5)


def test_gunicorn_serves_pages_static_files_and_health(production):
    health = get(f"{production}/healthz")
    assert health.status == 200

    page = get(f"{production}/admin/login/")
    assert page.status == 200
    headers = page.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert "Secure" in headers["Set-Cookie"]

    html = page.read().decode()
    stylesheet = html.split('href="/static/admin/css/base', 1)[1].split('"', 1)[0]
    static = get(f"{production}/static/admin/css/base{stylesheet}")
    assert static.status == 200
    assert "immutable" in static.headers["Cache-Control"]


def test_plain_http_is_redirected_to_https(production):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(f"{production}/admin/login/", timeout=5)
    assert answer.value.code == 301
    assert answer.value.headers["Location"].startswith("https://")
