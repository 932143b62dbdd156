"""Repeated failed sign-ins lock sign-in for the address for a while, on the testers'
page and in the admin, and leave a trail."""

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse

from accounts.services import LOCKED_OUT_VERB, LOGIN_FAILED_VERB, SIGNED_IN_VERB
from uat.models import Event

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins"


@pytest.fixture(autouse=True)
def _three_tries(settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_MINUTES = 15


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def sign_in(client, email, password, url=None):
    return client.post(url or reverse("accounts:login"), {"username": email, "password": password})


def test_three_wrong_passwords_lock_even_the_right_one_out(client, tester, password):
    for _ in range(2):
        response = sign_in(client, tester.email, "wrong")
        assert response.status_code == 200 and LOCKED not in response.text
    response = sign_in(client, tester.email, "wrong")
    assert LOCKED in response.text and "15 minute" in response.text
    response = sign_in(client, tester.email, password)
    assert response.status_code == 200 and LOCKED in response.text
    assert "_auth_user_id" not in client.session
    verbs = list(Event.objects.for_object(tester).values_list("verb", flat=True))
    assert verbs.count(LOGIN_FAILED_VERB) == 3 and verbs.count(LOCKED_OUT_VERB) == 1


def test_the_lock_opens_after_the_lockout(client, tester, password):
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with at(start):
        for _ in range(3):
            sign_in(client, tester.email, "wrong")
    with at(start + dt.timedelta(minutes=14)):
        assert LOCKED in sign_in(client, tester.email, password).text
    with at(start + dt.timedelta(minutes=16)):
        assert sign_in(client, tester.email, password).status_code == 302


def test_a_successful_sign_in_ends_a_run_of_failures(client, tester, password):
    for _ in range(2):
        sign_in(client, tester.email, "wrong")
    assert sign_in(client, tester.email, password).status_code == 302
    assert Event.objects.for_object(tester).filter(verb=SIGNED_IN_VERB).exists()
    client.logout()
    for _ in range(2):
        sign_in(client, tester.email, "wrong")
    assert sign_in(client, tester.email, password).status_code == 302


def test_an_unknown_address_locks_alike_without_naming_it(client, tester):
    answers = [sign_in(client, "nobody@example.com", "wrong").text for _ in range(3)]
    assert LOCKED not in answers[0] and LOCKED in answers[2]
    events = Event.objects.filter(verb__in=[LOGIN_FAILED_VERB, LOCKED_OUT_VERB])
    assert events.count() == 4
    assert not any("nobody" in str(event.after) + event.object_repr for event in events)
    # Someone else's address is not affected.
    assert LOCKED not in sign_in(client, tester.email, "wrong").text


def test_the_address_is_matched_whatever_its_case(client, tester, password):
    for email in (tester.email.upper(), f" {tester.email}", tester.email.title()):
        sign_in(client, email, "wrong")
    assert LOCKED in sign_in(client, tester.email, password).text


def test_the_admin_sign_in_shares_the_lock(client, lead, password):
    url = reverse("admin:login")
    for _ in range(3):
        response = sign_in(client, lead.email, "wrong", url)
    assert LOCKED in response.text
    assert LOCKED in sign_in(client, lead.email, password).text
    assert LOCKED in sign_in(client, lead.email, password, url).text


def test_a_tester_refused_by_the_admin_is_not_counted_as_failing(client, tester, password):
    for _ in range(3):
        sign_in(client, tester.email, password, reverse("admin:login"))
    assert sign_in(client, tester.email, password).status_code == 302


def test_many_addresses_from_one_network_address_lock_it_when_configured(
    client, settings, tester, password
):
    settings.LOGIN_MAX_FAILURES_PER_IP = 4
    for number in range(4):
        sign_in(client, f"guess{number}@example.com", "wrong")
    assert LOCKED in sign_in(client, tester.email, password).text
    settings.LOGIN_MAX_FAILURES_PER_IP = 0
    assert sign_in(client, tester.email, password).status_code == 302


def test_tests_and_scripts_signing_in_without_a_request_still_work(client, tester, password):
    for _ in range(3):
        sign_in(client, tester.email, "wrong")
    assert client.login(username=tester.email, password=password)
