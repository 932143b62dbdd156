"""A QA lead whose role requires two-factor sets it up and signs in with a code, in a real
browser with JavaScript off, by labels and the keyboard alone."""

import base64

import pytest
from django_otp.oath import TOTP

from accounts.models import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the secret typed in from the page."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")), drift=steps_ahead)
    return f"{totp.token():06d}"


def sign_in(page, email: str) -> None:
    page.goto("/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_lead_sets_up_two_factor_and_signs_in_with_a_code(new_page, artifacts, settings):
    settings.OTP_REQUIRED_ROLES = ["QA lead"]
    lead = UserFactory(email="lead@example.com", staff=True, roles=[Role.QA_LEAD])
    page = new_page(java_script_enabled=False)

    sign_in(page, lead.email)
    page.get_by_text("Your role requires two-factor authentication").wait_for()
    assert page.locator("svg.qr-code").is_visible()
    page.screenshot(path=artifacts / "two-factor-setup.png", full_page=True)
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code from the app").fill(code_for(secret))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your backup codes").wait_for()
    backup_code = page.locator(".backup-codes code").first.inner_text()
    page.get_by_role("link", name="I saved my backup codes — continue").click()
    # A QA lead lands on the releases they run (issue 15), no longer on "My work".
    page.get_by_role("heading", name="Releases", exact=True).wait_for()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, lead.email)
    page.get_by_role("heading", name="Enter your code").wait_for()
    page.screenshot(path=artifacts / "two-factor-code-step.png", full_page=True)
    page.keyboard.type(code_for(secret, steps_ahead=1))  # the field has the focus
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Releases", exact=True).wait_for()

    # The admin's own sign-in page takes the same code step; this time a backup code.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Email").fill(lead.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Enter your code").wait_for()
    page.get_by_label("Code").fill(backup_code)
    page.get_by_role("button", name="Verify and sign in").click()
    page.get_by_role("heading", name="User acceptance testing").wait_for()
    page.screenshot(path=artifacts / "two-factor-admin.png", full_page=True)
