"""Passwords chosen on an invitation or a reset pass Django's validators; sign-ins end."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import CohortFactory
from uat.services import invitation_send

pytestmark = pytest.mark.django_db

WEAK = {
    "password": "This password is too common",
    "12345678901": "entirely numeric",
    "short1x": "too short",
}


@pytest.fixture
def invite(lead, django_capture_on_commit_callbacks):
    def send(email):
        with django_capture_on_commit_callbacks(execute=True):
            invitation_send(email=email, cohort=CohortFactory(beta=True), actor=lead)
        return "/accounts/" + re.search(r"/accounts/(\S+/)", mail.outbox[-1].body).group(1)

    return send


@pytest.mark.parametrize("weak", WEAK)
def test_an_invitee_cannot_choose_a_weak_password(client, invite, weak):
    path = invite("nia@example.org")
    data = {"full_name": "Nia Customer", "password1": weak, "password2": weak}
    response = client.post(path, data)
    assert response.status_code == 200 and WEAK[weak] in response.text
    assert "_auth_user_id" not in client.session


def test_an_invitee_cannot_choose_their_email_as_password(client, invite):
    path = invite("nia.customer@example.org")
    weak = "nia.customer@example.org"
    response = client.post(path, {"full_name": "Nia", "password1": weak, "password2": weak})
    assert "too similar" in response.text


@pytest.mark.parametrize("weak", WEAK)
def test_a_reset_cannot_set_a_weak_password(client, tester, password, weak):
    client.post(reverse("accounts:password_reset"), {"email": tester.email})
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    response = client.get(path.group(1), follow=True)
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": weak, "new_password2": weak}
    )
    assert response.status_code == 200 and WEAK[weak] in response.text
    tester.refresh_from_db()
    assert tester.check_password(password)


def test_a_sign_in_expires(client, tester, password, settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    client.post(reverse("accounts:login"), {"username": tester.email, "password": password})
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 60 * 60
    assert client.cookies[settings.SESSION_COOKIE_NAME]["httponly"]


def test_a_sign_in_can_end_with_the_browser(client, tester, password, settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    client.post(reverse("accounts:login"), {"username": tester.email, "password": password})
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""
