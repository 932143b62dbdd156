"""Two-factor authentication: enrolling an authenticator app, the code step of signing in
on the testers' page and in the admin, backup codes, wrong codes, and turning it off."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import Role
from tests.factories import UserFactory, totp_code
from uat.models import Event

pytestmark = pytest.mark.django_db

VERIFY_URL = reverse("accounts:two_factor_verify")
SETUP_URL = reverse("accounts:two_factor_setup")
INBOX_URL = reverse("uat:inbox")


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    # django-otp waits 1, 2, 4… seconds after each wrong code; tests that are not about
    # that wait would otherwise see their next code refused.
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0
    settings.LOGIN_MAX_FAILURES = 3


@pytest.fixture
def enrolled(db):
    return UserFactory(email="two@example.com", roles=[Role.TESTER], two_factor=True)


def sign_in(client, user, password, url=None):
    return client.post(
        url or reverse("accounts:login"), {"username": user.email, "password": password}
    )


def verbs(user) -> list[str]:
    return list(Event.objects.for_object(user).values_list("verb", flat=True))


# ----------------------------------------------------------------------- enrolment


def test_setup_shows_a_qr_code_and_the_secret_and_a_reload_keeps_them(client, tester):
    client.force_login(tester)
    first = client.get(SETUP_URL)
    assert first.status_code == 200
    html = first.text
    assert '<svg width="' in html and 'class="qr-code"' in html
    assert "<script" not in html.split("</head>")[1] and " style=" not in html
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html).group(1)
    device = TOTPDevice.objects.get(user=tester)
    assert not device.confirmed
    assert client.get(SETUP_URL).text.count(secret) == 1
    assert TOTPDevice.objects.filter(user=tester).count() == 1


def test_a_wrong_code_does_not_turn_it_on(client, tester):
    client.force_login(tester)
    client.get(SETUP_URL)
    response = client.post(SETUP_URL, {"code": "000000"})
    assert response.status_code == 200 and "That code is not right" in response.text
    assert not TOTPDevice.objects.get(user=tester).confirmed
    assert services.TWO_FACTOR_ENABLED_VERB not in verbs(tester)


def test_the_right_code_turns_it_on_and_shows_the_backup_codes_once(client, tester):
    client.force_login(tester)
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=tester)
    response = client.post(SETUP_URL, {"code": totp_code(device)})
    assert response.url == reverse("accounts:two_factor_backup_codes")
    page = client.get(response.url)
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.text)
    assert len(codes) == 10
    assert sorted(codes) == sorted(StaticToken.objects.values_list("token", flat=True))
    # Shown once: the page forgets them.
    assert client.get(response.url).url == reverse("accounts:security")
    device.refresh_from_db()
    assert device.confirmed
    assert services.TWO_FACTOR_ENABLED_VERB in verbs(tester)
    # The sign-in that enrolled counts as verified.
    assert client.get(INBOX_URL).status_code == 200
    assert "On" in client.get(reverse("accounts:security")).text


def test_the_code_field_has_a_label_and_the_pages_work_without_script(client, enrolled):
    client.force_login(enrolled)
    html = client.get(VERIFY_URL).text
    assert '<label for="id_code">' in html and 'autocomplete="one-time-code"' in html
    assert 'id="id_code"' in html and "autofocus" in html


# ------------------------------------------------------------- two-step sign-in


def test_signing_in_asks_for_a_code_before_anything_else(client, enrolled, password):
    response = sign_in(client, enrolled, password)
    assert response.url == f"{VERIFY_URL}?next=%2F"
    assert client.session["_auth_user_id"] == str(enrolled.pk)
    # Nothing but the code step opens yet: pages, the admin, the API.
    assert client.get(INBOX_URL).url == f"{VERIFY_URL}?next={INBOX_URL}"
    assert client.get(reverse("admin:index")).url.startswith(VERIFY_URL)
    assert client.get(reverse("accounts:security")).url.startswith(VERIFY_URL)
    api = client.get(reverse("api-root"))
    assert api.status_code in (401, 403)
    assert "two-factor" in api.json()["error"]["message"]

    response = client.post(VERIFY_URL, {"code": "123456", "next": INBOX_URL})
    assert response.status_code == 200 and "That code is not right" in response.text
    assert client.get(INBOX_URL).url.startswith(VERIFY_URL)

    code = totp_code(enrolled.totp_device)
    response = client.post(VERIFY_URL, {"code": code, "next": INBOX_URL})
    assert response.url == INBOX_URL
    assert client.get(INBOX_URL).status_code == 200
    assert client.get(reverse("api-root")).status_code == 200
    events = verbs(enrolled)
    assert events[0] == services.CODE_VERIFIED_VERB
    assert services.CODE_FAILED_VERB in events and "user.signed_in" in events


def test_the_admin_sign_in_takes_the_same_code_step(client, password):
    lead = UserFactory(staff=True, roles=[Role.QA_LEAD], two_factor=True)
    response = sign_in(client, lead, password, reverse("admin:login") + "?next=/admin/")
    assert response.url == "/admin/"
    response = client.get("/admin/")
    assert response.url == f"{VERIFY_URL}?next=/admin/"
    assert client.get(reverse("admin:uat_plan_changelist")).status_code == 302
    response = client.post(VERIFY_URL, {"code": totp_code(lead.totp_device), "next": "/admin/"})
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_sign_in_without_two_factor_stays_one_step(client, tester, password):
    response = sign_in(client, tester, password)
    assert response.url == "/"
    assert client.get(INBOX_URL).status_code == 200
    assert client.get(VERIFY_URL).url == "/"


def test_the_code_step_goes_only_to_pages_of_this_site(client, enrolled):
    client.force_login(enrolled)
    code = totp_code(enrolled.totp_device)
    response = client.post(VERIFY_URL, {"code": code, "next": "https://evil.example/"})
    assert response.url == "/"


def test_sign_out_works_from_the_code_step(client, enrolled, password):
    sign_in(client, enrolled, password)
    assert client.post(reverse("accounts:logout")).url == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_a_session_from_before_two_factor_is_asked_for_the_code(client, enrolled):
    client.force_login(enrolled)
    session = client.session
    del session["greenlight_two_factor"]
    session.save()
    assert client.get(INBOX_URL).url.startswith(VERIFY_URL)


# ----------------------------------------------------------------- backup codes


def test_a_backup_code_signs_in_once(client, enrolled, password):
    code = enrolled.backup_codes[0]
    sign_in(client, enrolled, password)
    response = client.post(VERIFY_URL, {"code": code.upper()[:4] + "-" + code[4:]}, follow=True)
    assert response.status_code == 200 and "backup code; 9 left" in response.text
    assert client.get(INBOX_URL).status_code == 200
    event = Event.objects.for_object(enrolled).filter(verb=services.CODE_VERIFIED_VERB).first()
    assert event.after["method"] == "backup_code" and event.after["backup_codes_left"] == 9

    client.post(reverse("accounts:logout"))
    sign_in(client, enrolled, password)
    response = client.post(VERIFY_URL, {"code": code})
    assert response.status_code == 200 and "That code is not right" in response.text
    assert client.get(INBOX_URL).url.startswith(VERIFY_URL)


def test_new_backup_codes_void_the_old_ones(client, enrolled, password):
    client.force_login(enrolled)
    client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device)})
    url = reverse("accounts:two_factor_backup_codes_regenerate")
    response = client.post(
        url, {"codes-password": password, "codes-code": totp_code(enrolled.totp_device)}
    )
    assert response.url == reverse("accounts:two_factor_backup_codes")
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", client.get(response.url).text)
    assert len(codes) == 10 and not set(codes) & set(enrolled.backup_codes)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(codes)
    assert services.BACKUP_CODES_VERB in verbs(enrolled)
    # The sign-in stays verified though its device's codes changed.
    assert client.get(INBOX_URL).status_code == 200


def test_new_backup_codes_need_the_password_and_a_code(client, enrolled, password):
    client.force_login(enrolled)
    client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device)})
    url = reverse("accounts:two_factor_backup_codes_regenerate")
    response = client.post(url, {"codes-password": "wrong", "codes-code": "123456"})
    assert response.status_code == 400 and "That is not your password" in response.text
    assert "user.login_failed" in verbs(enrolled)
    response = client.post(url, {"codes-password": password, "codes-code": "123456"})
    assert response.status_code == 400 and "That code is not right" in response.text
    assert StaticToken.objects.count() == 10
    assert services.BACKUP_CODES_VERB not in verbs(enrolled)


# ------------------------------------------------------------------ wrong codes


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_three_wrong_codes_lock_the_code_step_even_for_the_right_one(client, enrolled, password):
    sign_in(client, enrolled, password)
    for _ in range(2):
        response = client.post(VERIFY_URL, {"code": "000000"})
        assert "That code is not right" in response.text
    response = client.post(VERIFY_URL, {"code": "000000"})
    assert "Too many wrong codes. Try again in 15 minute" in response.text
    response = client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device)})
    assert "Too many wrong codes" in response.text
    assert client.get(INBOX_URL).url.startswith(VERIFY_URL)
    events = verbs(enrolled)
    assert events.count(services.CODE_FAILED_VERB) == 3
    assert events.count(services.LOCKED_OUT_VERB) == 1
    # Signing in with the password again does not open the code step.
    client.post(reverse("accounts:logout"))
    sign_in(client, enrolled, password)
    response = client.post(VERIFY_URL, {"code": enrolled.backup_codes[0]})
    assert "Too many wrong codes" in response.text


def test_the_code_step_opens_again_after_the_lockout(client, enrolled):
    client.force_login(enrolled)
    start = dt.datetime.now(dt.UTC)
    with at(start):
        for _ in range(3):
            client.post(VERIFY_URL, {"code": "000000"})
    with at(start + dt.timedelta(minutes=16)):
        response = client.post(VERIFY_URL, {"code": enrolled.backup_codes[0]})
    assert response.status_code == 302


def test_wrong_codes_also_back_off_in_seconds(client, settings, enrolled):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    client.force_login(enrolled)
    client.post(VERIFY_URL, {"code": "000000"})
    response = client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device)})
    assert "Wait 1 second" in response.text
    assert client.get(INBOX_URL).url.startswith(VERIFY_URL)


def test_a_right_code_ends_a_run_of_wrong_ones(client, enrolled):
    client.force_login(enrolled)
    for _ in range(2):
        client.post(VERIFY_URL, {"code": "000000"})
    assert client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device)}).status_code == 302
    assert services.two_factor_locked_until(user=enrolled) is None


# ------------------------------------------------------------------ turning off


def test_turning_it_off_needs_the_password_and_a_code(client, enrolled, password):
    client.force_login(enrolled)
    client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device)})
    url = reverse("accounts:two_factor_disable")
    response = client.post(url, {"disable-password": password, "disable-code": "000000"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=enrolled).exists()
    code = totp_code(enrolled.totp_device)
    response = client.post(url, {"disable-password": password, "disable-code": code})
    assert response.url == reverse("accounts:security")
    assert not TOTPDevice.objects.filter(user=enrolled).exists()
    assert not StaticToken.objects.exists()
    assert services.TWO_FACTOR_DISABLED_VERB in verbs(enrolled)
    assert client.get(INBOX_URL).status_code == 200
    client.post(reverse("accounts:logout"))
    assert sign_in(client, enrolled, password).url == "/"


def test_moving_to_a_new_app_needs_the_password_and_voids_the_old_one(client, enrolled, password):
    client.force_login(enrolled)
    client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device)})
    old = enrolled.totp_device
    assert "Your password" in client.get(SETUP_URL).text
    new = TOTPDevice.objects.get(user=enrolled, confirmed=False)
    response = client.post(SETUP_URL, {"code": totp_code(new)})
    assert response.status_code == 200 and "This field is required" in response.text
    response = client.post(SETUP_URL, {"code": totp_code(new), "password": password})
    assert response.url.startswith(reverse("accounts:two_factor_backup_codes"))
    assert list(TOTPDevice.objects.filter(user=enrolled)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    event = Event.objects.for_object(enrolled).get(verb=services.TWO_FACTOR_ENABLED_VERB)
    assert event.after == {"replaced": True}
    assert client.get(INBOX_URL).status_code == 200


def test_only_the_code_step_puts_the_cursor_in_its_field(client, enrolled):
    client.force_login(enrolled)
    client.post(VERIFY_URL, {"code": totp_code(enrolled.totp_device)})
    assert "autofocus" not in client.get(reverse("accounts:security")).text
