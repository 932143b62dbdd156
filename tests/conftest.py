"""Persona fixtures: the people of Greenlight, each in their role."""

import os

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType

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
