"""Persona fixtures: the people of Greenlight, each in their role."""

import pytest

from accounts.models import Role

from .factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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
