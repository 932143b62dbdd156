"""Repeated failed sign-ins lock sign-in for the address for a while, on the testers'
page and in the admin, and leave a trail."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.core import mail
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


def sign_in(client, email, password, url=None, ip="127.0.0.1", **headers):
    return client.post(
        url or reverse("accounts:login"),
        {"username": email, "password": password},
        REMOTE_ADDR=ip,
        **headers,
    )


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


# One address, one account, one lockout: addresses are compared in one normal form
# (NFKC, case-folded), never by the database's case rules.
def test_a_look_alike_spelling_neither_signs_in_nor_lifts_the_lock(client, admin_user, password):
    for _ in range(3):
        sign_in(client, admin_user.email, "wrong")
    # PostgreSQL's UPPER() maps the dotless i to I: that spelling once signed in as admin.
    dotless = admin_user.email.replace("i", "\N{LATIN SMALL LETTER DOTLESS I}", 1)
    response = sign_in(client, dotless, password)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert LOCKED in sign_in(client, admin_user.email, password).text


def test_a_compatibility_spelling_of_a_locked_address_is_locked_too(client, tester, password):
    for _ in range(3):
        sign_in(client, tester.email, "wrong")
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in tester.email.upper())
    assert LOCKED in sign_in(client, wide, password).text


def test_addresses_are_stored_in_their_normal_form(tester):
    from accounts.models import User

    user = User.objects.create_user("Stra\N{LATIN SMALL LETTER SHARP S}e@Example.ORG", "x")
    assert user.email == "strasse@example.org"
    assert User.objects.by_email(" STRASSE@example.org ").get() == user


# Anyone may try anyone's address; that must not lock its owner out of their own desk.
def test_failures_from_elsewhere_do_not_lock_the_owner_out(client, tester, password):
    for _ in range(3):
        sign_in(client, tester.email, "wrong", ip="203.0.113.9")
    assert LOCKED in sign_in(client, tester.email, password, ip="203.0.113.9").text
    assert sign_in(client, tester.email, password).status_code == 302


def test_guessing_spread_over_many_machines_locks_the_address_everywhere(
    client, settings, tester, password
):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 4
    for number in range(4):
        sign_in(client, tester.email, "wrong", ip=f"203.0.113.{number}")
    assert LOCKED in sign_in(client, tester.email, password).text


def reset_password(client, user, new_password):
    client.post(reverse("accounts:password_reset"), {"email": user.email})
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[-1].body)
    response = client.get(path.group(1), follow=True)
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302


def test_a_password_reset_lifts_the_lock_as_its_message_says(client, settings, tester):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 4
    for number in range(4):
        sign_in(client, tester.email, "wrong", ip=f"203.0.113.{number}")
    assert "reset your password" in sign_in(client, tester.email, "x").text
    reset_password(client, tester, "a-brand-new-pass-phrase-7")
    assert sign_in(client, tester.email, "a-brand-new-pass-phrase-7").status_code == 302
    assert Event.objects.for_object(tester).filter(verb="user.password_reset").exists()


def test_the_client_address_behind_a_trusted_proxy(client, settings, tester, password):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"ip": "10.0.0.2"}
    for _ in range(3):  # the attacker writes a fake first hop; the proxy appends the real one
        sign_in(client, tester.email, "wrong", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", **proxy)
    assert (
        LOCKED
        in sign_in(client, tester.email, password, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy).text
    )
    response = sign_in(client, tester.email, password, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert response.status_code == 302


def test_a_forwarded_address_is_ignored_without_a_trusted_proxy(client, tester, password):
    for number in range(3):
        sign_in(client, tester.email, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")
    assert LOCKED in sign_in(client, tester.email, password).text
