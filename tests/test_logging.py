"""Logs are one line per record, plain or JSON, and never carry a secret: not an API
token, an Authorization header, nor a password — whoever logged it."""

import copy
import io
import json
import logging
import logging.config

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.factories import ApiTokenFactory

SECRET = "glt_S3cretTokenValue-abcdefghijklmnop"
PASSWORD = "hunter2-correct-horse"


@pytest.fixture(params=["plain", "json"])
def log_output(request):
    """The console handler exactly as settings configure it, writing to a buffer."""
    stream = io.StringIO()
    config = copy.deepcopy(django_settings.LOGGING)
    config["handlers"]["console"]["formatter"] = request.param
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(django_settings.LOGGING)


def test_secrets_written_by_anyone_are_redacted(log_output):
    log = logging.getLogger("greenlight.somewhere")
    log.warning("Calling with Authorization: Token %s and a token", SECRET)
    log.warning("headers {'HTTP_AUTHORIZATION': 'Bearer abcdefgh12345678'}")
    log.warning("form password=%s&email=a@example.com", PASSWORD)
    log.warning('payload {"password": "%s", "new_password1": "%s"}', PASSWORD, PASSWORD)
    try:
        raise ValueError(f"bad secret_key={PASSWORD}")
    except ValueError:
        log.exception("It failed")
    output = log_output.getvalue()
    for secret in (SECRET, "abcdefgh12345678", PASSWORD):
        assert secret not in output
    assert output.count("[redacted]") >= 6
    assert "a@example.com" in output and "It failed" in output and "and a token" in output


def test_a_json_line_stays_json_after_redaction(log_output):
    logging.getLogger("greenlight").warning("password=%s", PASSWORD, extra={"user_id": 7})
    line = log_output.getvalue().strip().splitlines()[-1]
    if line.startswith("{"):
        entry = json.loads(line)
        assert entry["message"] == "password=[redacted]" and entry["user_id"] == 7


@pytest.mark.django_db
def test_a_refused_token_and_a_failed_sign_in_leave_no_secret_in_the_logs(
    log_output, client, tester
):
    ApiTokenFactory(user=tester)
    response = client.get(f"/api/v1/plans/?token={SECRET}", HTTP_AUTHORIZATION=f"Token {SECRET}")
    assert response.status_code == 401
    client.post(reverse("accounts:login"), {"username": tester.email, "password": PASSWORD})
    client.post(reverse("admin:login"), {"username": tester.email, "password": PASSWORD})
    output = log_output.getvalue()
    assert "Unauthorized: /api/v1/plans/" in output  # the request was logged…
    assert SECRET not in output and PASSWORD not in output  # …without its secrets
