"""/healthz answers for the database and the broker."""

import os
import socket

import pytest

from tests.conftest import require

pytestmark = pytest.mark.django_db


def test_healthy_with_eager_tasks(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_an_unreachable_broker_is_reported(client, settings, caplog):
    from config.celery import app

    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = None
    assert response.status_code == 503
    assert response.json()["broker"] == "error"
    assert "Health check of the broker failed" in caplog.text


def test_a_real_redis_broker_is_healthy(client, settings):
    from config.celery import app

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        reachable = True
    except OSError:
        reachable = False
    require(reachable, "Redis on 127.0.0.1:6379")
    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = None
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"
