"""Every ``next`` a request carries goes only to a page of this site; anything else —
a bare word Django would try as a view name, another site, a path no route answers —
goes to the default page instead of an error."""

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.factories import DefectFactory, UserFactory, totp_code

pytestmark = pytest.mark.django_db

VERIFY_URL = reverse("accounts:two_factor_verify")
HOSTILE = [
    "foo",
    "uat:inbox",
    "admin:index",
    "https://evil.example/",
    "//evil.example/",
    "/no/such/page/",
    "javascript:alert(1)",
    "inbox/",
]


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def enrolled(db):
    return UserFactory(roles=[Role.TESTER], two_factor=True)


@pytest.mark.parametrize("target", HOSTILE)
def test_the_code_step_sends_an_unsafe_next_to_the_home_page(client, enrolled, target):
    client.force_login(enrolled)
    page = client.get(VERIFY_URL, {"next": target})
    assert page.status_code == 200
    assert f'value="{target}"' not in page.text
    response = client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device), "next": target})
    assert response.status_code == 302 and response.url == "/"


def test_the_code_step_still_goes_to_the_page_asked_for(client, enrolled):
    client.force_login(enrolled)
    inbox = reverse("uat:inbox") + "?show=todo"
    response = client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device), "next": inbox})
    assert response.url == inbox


@pytest.mark.parametrize("target", HOSTILE)
def test_signing_in_with_an_unsafe_next_lands_on_the_home_page(client, password, target):
    user = UserFactory(roles=[Role.TESTER], two_factor=True)
    login = reverse("accounts:login")
    page = client.get(login, {"next": target})
    assert page.status_code == 200
    response = client.post(f"{login}?next={target}", {"username": user.email, "password": password})
    assert response.url == f"{VERIFY_URL}?next=%2F"
    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize("target", HOSTILE)
def test_signing_out_with_an_unsafe_next_lands_on_the_sign_in_page(client, tester, target):
    client.force_login(tester)
    response = client.post(reverse("accounts:logout"), {"next": target})
    assert response.url == reverse("accounts:login")


@pytest.mark.parametrize("target", HOSTILE)
def test_moving_a_defect_with_an_unsafe_next_goes_back_to_the_defect(client, lead, target):
    defect = DefectFactory()
    client.force_login(lead)
    response = client.post(
        reverse("uat:defect_transition", args=[defect.pk]), {"status": "confirmed", "next": target}
    )
    assert response.status_code == 302
    assert response.url == reverse("uat:defect", args=[defect.pk])


def test_moving_a_defect_goes_back_to_the_list_it_came_from(client, lead):
    defect = DefectFactory()
    client.force_login(lead)
    back = reverse("uat:defect_list") + "?severity=major"
    response = client.post(
        reverse("uat:defect_transition", args=[defect.pk]), {"status": "confirmed", "next": back}
    )
    assert response.url == back
