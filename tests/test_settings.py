"""The settings module: environment-driven, and safe when DEBUG is off."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "greenlight.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
    "SMTP_HOST": "smtp.example.com",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("secret", ["", "django-insecure-greenlight-local-development-only"])
def test_refuses_to_start_without_a_real_secret_key_when_debug_is_off(secret):
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": secret})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_malformed_boolean_is_a_clear_error():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_smtp_settings_configure_the_default_mailer():
    script = "from django.conf import settings; print(settings.MAILERS['default'])"
    result = manage(
        "shell", "-c", script, SMTP_HOST="127.0.0.1", SMTP_PORT="2525", SMTP_USER="greenlight"
    )
    assert result.returncode == 0, result.stderr
    assert "smtp.EmailBackend" in result.stdout
    assert "'port': 2525" in result.stdout


def test_without_a_broker_tasks_run_eagerly():
    script = "from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER)"
    assert manage("shell", "-c", script, CELERY_BROKER_URL="").stdout.strip().endswith("True")
    with_broker = manage("shell", "-c", script, CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert with_broker.stdout.strip().endswith("False")


def site_url(**env) -> str:
    script = "from django.conf import settings; print(settings.SITE_URL)"
    clean = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "HOST", "PORT"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_emailed_links_follow_the_host_and_port_unless_site_url_is_set():
    assert site_url() == "http://127.0.0.1:8000"
    assert site_url(PORT="8100") == "http://127.0.0.1:8100"
    assert site_url(HOST="localhost", PORT="8100") == "http://localhost:8100"
    assert site_url(SITE_URL="https://uat.example.com/", PORT="8100") == "https://uat.example.com"


def test_make_run_hands_host_and_port_to_the_server_and_keeps_an_explicit_site_url():
    """The Makefile passes HOST and PORT on rather than overriding SITE_URL itself."""
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8100"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if "manage.py" in line]
    served = [line for line in commands if "runserver" in line]
    assert served, result.stdout
    assert "PORT=8100" in served[0]
    assert "127.0.0.1:8100" in served[0]
    assert not any("SITE_URL=" in line for line in commands)
