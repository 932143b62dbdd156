"""Persona fixtures: the people of Greenlight, each in their role."""

import os
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from accounts.models import Role

from .factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Hashing with the production hasher costs a third of a second per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The API's rate limits are off: tests (and the fuzzer) send many requests from one
    # address. tests/api/test_throttling.py turns them on.
    settings.API_RATE_USER = settings.API_RATE_ANON = ""
    # The suite's fake webhook receivers listen on loopback, which webhooks may reach
    # only when an administrator allows the host: the suite allows its own.
    settings.WEBHOOK_ALLOWED_HOSTS = [LOOPBACK_RECEIVERS]


LOOPBACK_RECEIVERS = "127.0.0.1"


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_record_triggers():
    """Transactional tests empty the tables between tests with one TRUNCATE, which the
    records' tables refuse on PostgreSQL (uat/triggers.py). The flush sets
    ``session_replication_role = replica`` for its own transaction, so no ordinary
    trigger fires: the same bypass a data restore uses, and a superuser's only (the
    test run connects as one). The application's role cannot set it."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        return flush(self, ["SET LOCAL session_replication_role = replica", *sql_list])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@contextmanager
def triggers_off():
    """Inside the current transaction, write what the records' triggers refuse, as only
    time could otherwise (a waiver running out): the superuser's bypass the flush above
    uses. Nothing to switch off on SQLite."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def lead(db):
    return UserFactory(
        email="lead@example.com", full_name="Quinn Lead", staff=True, roles=[Role.QA_LEAD]
    )


@pytest.fixture
def tester(db):
    return UserFactory(email="alpha@example.com", full_name="Alex Alpha", roles=[Role.TESTER])


@pytest.fixture
def beta_tester(db):
    return UserFactory(
        email="beta@example.com", full_name="Bea Beta", external=True, roles=[Role.TESTER]
    )


@pytest.fixture
def stakeholder(db):
    return UserFactory(email="owner@example.com", full_name="Olive Owner", roles=[Role.STAKEHOLDER])


@pytest.fixture
def pipeline(db):
    """A release pipeline's machine account: it reads releases and gates, and promotes."""
    return UserFactory(email="deploy@example.com", full_name="Deploy bot", roles=[Role.PIPELINE])


@pytest.fixture
def outsider(db):
    return UserFactory(email="stranger@example.com", full_name="Sam Stranger")


@pytest.fixture
def admin_user(db):
    return UserFactory(
        email="admin@example.com",
        full_name="Ada Admin",
        is_staff=True,
        is_superuser=True,
        roles=[Role.ADMIN],
    )


@pytest.fixture
def warm_caches(db):
    """Load the content types the audit trail uses, as a running server has them cached,
    so query counts measure the work itself."""
    ContentType.objects.clear_cache()
    ContentType.objects.get_for_models(*apps.get_models())


def require(available: bool, what: str) -> None:
    """Skip a test whose real part (a browser, a broker, an SMTP server…) is missing on
    this machine — unless GREENLIGHT_REQUIRE_INTEGRATION is set, as CI sets it, where a
    missing part is a failure: CI must never pass by skipping."""
    if available:
        return
    if os.environ.get("GREENLIGHT_REQUIRE_INTEGRATION"):
        pytest.fail(f"{what} is required here (GREENLIGHT_REQUIRE_INTEGRATION is set).")
    pytest.skip(f"{what} is not available on this machine.")
