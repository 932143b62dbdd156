"""Two-factor sign-in: what a sign-in still owes, and the QR code of an enrolment.

A sign-in with the right password is complete unless the person enrolled an
authenticator app (then it owes the code step: ``VERIFY``) or a role of theirs requires
two-factor and they have not enrolled yet (``ENROL``). What a sign-in owes is worked
out once, when the person signs in, and kept in the session, so the pages people visit
all day pay no query for it. Whether the code step was passed is django-otp's part:
its middleware sets ``request.user.is_verified()``.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Role
from .policy import is_machine_account

VERIFY, ENROL, NOTHING = "verify", "enrol", ""
SESSION_KEY = "greenlight_two_factor"
# The page that settles each step.
STEP_VIEWS = {VERIFY: "accounts:two_factor_verify", ENROL: "accounts:two_factor_setup"}


def is_required(user) -> bool:
    """Whether a role of ``user`` must use two-factor (OTP_REQUIRED_ROLES). Superusers
    count as Admin; "Signer" covers anyone named as a signer of a plan's sign-off."""
    required = set(settings.OTP_REQUIRED_ROLES)
    if not required or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser and Role.ADMIN.value in required:
        return True
    if required & set(user.groups.values_list("name", flat=True)):
        return True
    return settings.OTP_SIGNER in required and user.signoff_roles.exists()


def confirmed_device(user) -> TOTPDevice | None:
    """The authenticator app ``user`` enrolled, if any."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def token_suspended(user) -> bool:
    """Whether ``user``'s API tokens are suspended: a person (not a machine account)
    whose role requires two-factor and who has not set it up. A token must not be the
    way around the second factor; the tokens work again once it is on (turning it on
    revokes the tokens made before, so in practice they are made anew)."""
    if not is_required(user) or confirmed_device(user) is not None:
        return False
    return not is_machine_account(user)


def code_owed_with_token(user) -> bool:
    """Whether a person acting with an API token owes a current code for an act that a
    browser does only after the code step (signing): anyone with an authenticator app
    or whose role requires one. Machine accounts sign nothing and owe nothing."""
    if is_machine_account(user):
        return False
    return confirmed_device(user) is not None or is_required(user)


def step_for(user) -> str:
    if confirmed_device(user) is not None:
        return VERIFY
    return ENROL if is_required(user) else NOTHING


def _policy() -> str:
    return ",".join(sorted(settings.OTP_REQUIRED_ROLES))


def session_step_set(request, user) -> str:
    """Work out what ``user``'s sign-in owes and keep it in the session, with the
    required roles it was worked out under."""
    step = step_for(user)
    request.session[SESSION_KEY] = [step, _policy()]
    return step


def session_step(request) -> str:
    """What this sign-in owes, from the session. It is worked out again only for a
    session without an answer (signed in before two-factor existed) or one from before
    the required roles changed."""
    stored = request.session.get(SESSION_KEY)
    if isinstance(stored, list) and len(stored) == 2 and stored[1] == _policy():
        return stored[0]
    return session_step_set(request, request.user)


def pending_step(request) -> str:
    """The step this request's sign-in still owes before it may use anything else:
    ``VERIFY``, ``ENROL`` or ``NOTHING``."""
    user = request.user
    if not user.is_authenticated:
        return NOTHING
    step = session_step(request)
    # Right after login() the user is the one just signed in, which django-otp's
    # middleware has not seen: not verified yet, unless the session says so.
    is_verified = getattr(user, "is_verified", None)
    if step == NOTHING or (is_verified() if is_verified else False):
        return NOTHING
    return step


def on_sign_in(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: every way of signing in (the testers' page, the
    admin, an accepted invitation, the test client) decides here what the sign-in owes."""
    if request is not None and hasattr(request, "session"):
        session_step_set(request, user)


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app takes it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> SafeString:
    """The enrolment QR code as inline SVG, drawn on the server: no image request, no
    script, and nothing the Content-Security-Policy forbids. It holds no text of
    anyone's but the title given here, so it is safe to insert as it is."""
    code = segno.make(device.config_url, error="m", micro=False)
    svg = code.svg_inline(
        scale=5,
        dark="#000",
        light="#fff",
        title="QR code of your two-factor secret",
        svgclass="qr-code",
        lineclass=None,
    )
    return mark_safe(svg)  # noqa: S308 - generated above from a URI, no user text
