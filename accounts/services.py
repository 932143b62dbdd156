"""The state changes of accounts: inviting beta testers and accepting an invitation,
sign-in throttling, and two-factor authentication."""

import datetime as dt
import hmac
import math
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from uat.audit import event_record
from uat.mail import email_send
from uat.models import Cohort, CohortMembership, Event

from . import two_factor
from .models import ApiToken, Invitation, Role, User


@transaction.atomic
def api_token_issue(*, user: User, name: str, actor) -> tuple[ApiToken, str]:
    """Make an API token for ``user`` and audit it; return it with its secret, which is
    never stored and shown this once. The admin (a token for anyone) and the API (one's
    own) both issue tokens here."""
    token, secret = ApiToken.issue(user=user, name=name, created_by=actor)
    event_record(
        actor=actor,
        verb="apitoken.created",
        obj=token,
        after={"user": token.user_id, "name": token.name, "prefix": token.key_prefix},
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke ``token``: requests with it are refused from now on. The token stays, so the
    audit trail can name it. Whether it was revoked now (not already)."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
        event_record(actor=actor, verb="apitoken.revoked", obj=token)
    return bool(revoked)


def invitation_link(secret: str) -> str:
    return settings.SITE_URL + reverse("accounts:invitation_accept", args=[secret])


@transaction.atomic
def invitation_send(*, email: str, cohort: Cohort, actor, days: int | None = None) -> Invitation:
    """Invite ``email`` into the beta ``cohort``: store the hash of a fresh secret and,
    once the transaction commits, email the single-use link that carries the secret."""
    email = User.objects.normalize_email(email.strip()).lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    # The invitee joins as an external tester, so the cohort must take one.
    if error := cohort.kind_error(external=True):
        raise ValidationError({"cohort": f"{error} Invitations are for beta cohorts."})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": f"{email} already has an account; add them to the cohort in the admin."}
        )
    secret = secrets.token_urlsafe(32)
    days = settings.INVITATION_DAYS if days is None else days
    invitation = Invitation.objects.create(
        email=email,
        cohort=cohort,
        token_hash=Invitation.hash_token(secret),
        invited_by=actor,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    event_record(
        actor=actor,
        verb="invitation.sent",
        obj=invitation,
        after={"email": email, "cohort": cohort.name, "expires_at": str(invitation.expires_at)},
    )
    context = {
        "link": invitation_link(secret),
        "cohort": cohort.name,
        "product": str(cohort.product),
        "inviter": actor.full_name or actor.email,
        "expires_at": invitation.expires_at,
    }
    transaction.on_commit(lambda: email_send(name="invitation", context=context, to=[email]))
    return invitation


def invitation_problem(invitation: Invitation | None) -> str:
    """Why a link cannot be used, in words the invitee can act on ("" when it can)."""
    if invitation is None:
        return "This invitation link is not valid. Check that you copied the whole link."
    if invitation.is_used:
        return (
            "This invitation has already been used. Sign in with the password you chose, "
            "or reset it if you forgot it."
        )
    if invitation.is_expired:
        return "This invitation has expired. Ask the person who invited you for a new one."
    # The cohort may have become an alpha cohort since the invitation was sent.
    if error := invitation.cohort.kind_error(external=True):
        return f"{error} Ask the person who invited you for a new invitation."
    return ""


def invitation_find(secret: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("cohort__product")
        .filter(token_hash=Invitation.hash_token(secret))
        .first()
    )


@transaction.atomic
def invitation_accept(*, secret: str, full_name: str, password: str) -> User:
    """Turn a valid invitation into an external tester account in the invited cohort.
    The link works once: the invitation is claimed under a row lock."""
    invitation = (
        Invitation.objects.select_for_update()
        .filter(token_hash=Invitation.hash_token(secret))
        .first()
    )
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem, code="invitation")
    if not full_name.strip():
        raise ValidationError({"full_name": "Tell us your name."})
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError("An account with this email address exists already; sign in.")
    user = User.objects.create_user(
        invitation.email, password, full_name=full_name.strip(), is_external=True
    )
    user.groups.add(Group.objects.get(name=Role.TESTER.value))
    CohortMembership.objects.create(cohort=invitation.cohort, user=user)
    invitation.accepted_at, invitation.user = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "user"])
    event_record(
        actor=user,
        verb="invitation.accepted",
        obj=invitation,
        after={"user": user.pk, "cohort": invitation.cohort.name},
    )
    return user


# Sign-in throttling. Failures are counted from the audit trail, which every web process
# shares (a per-process cache would let each gunicorn worker grant its own attempts).
LOGIN_FAILED_VERB = "user.login_failed"
LOCKED_OUT_VERB = "user.locked_out"
SIGNED_IN_VERB = "user.signed_in"
SIGN_IN_VERBS = (LOGIN_FAILED_VERB, SIGNED_IN_VERB)


def login_key(email: str) -> str:
    """A keyed hash of the address typed in: failures against an address that has no
    account are counted alike, without writing the address itself to the audit trail
    (people sometimes type their password into the email field)."""
    normalized = (email or "").strip().lower()
    return hmac.new(settings.SECRET_KEY.encode(), normalized.encode(), "sha256").hexdigest()


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _locked_until(events, limit: int, failure_verb: str = LOGIN_FAILED_VERB) -> dt.datetime | None:
    """The newest sign-in events, newest first, as (verb, time): locked when ``limit``
    failures came in a row since the window opened."""
    if limit <= 0:
        return None
    failures = []
    for verb, created_at in events[:limit]:
        if verb != failure_verb:
            break
        failures.append(created_at)
    if len(failures) < limit:
        return None
    return failures[0] + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def login_locked_until(*, email: str, ip: str | None = None) -> dt.datetime | None:
    """When sign-in for ``email`` (or from ``ip``) opens again, if repeated failures have
    locked it now. A successful sign-in ends a run of failures for its address."""
    recent = Event.objects.filter(verb__in=SIGN_IN_VERBS, created_at__gte=_window_start())
    by_email = recent.filter(after__key=login_key(email)).values_list("verb", "created_at")
    until = _locked_until(
        list(by_email[: settings.LOGIN_MAX_FAILURES]), settings.LOGIN_MAX_FAILURES
    )
    if until is None and ip and settings.LOGIN_MAX_FAILURES_PER_IP > 0:
        from_ip = recent.filter(verb=LOGIN_FAILED_VERB, after__ip=ip).values_list(
            "verb", "created_at"
        )
        limit = settings.LOGIN_MAX_FAILURES_PER_IP
        until = _locked_until(list(from_ip[:limit]), limit)
    return until


def _login_event(*, verb: str, email: str, user: User | None, after: dict) -> None:
    if user is not None:
        event_record(actor=None, verb=verb, obj=user, after=after)
        return
    # An address without an account is recorded against no one: the trail shows the
    # attempt without naming (or creating) anybody.
    Event.objects.create(
        verb=verb,
        content_type=ContentType.objects.get_for_model(User),
        object_id="",
        object_repr="(no such account)",
        after=after,
    )


def login_failure_record(*, email: str, ip: str | None) -> dt.datetime | None:
    """Record a refused sign-in for ``email``; when it is the one that locks sign-in,
    record the lockout too and return when it ends."""
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    after = {"key": login_key(email), "ip": ip}
    _login_event(verb=LOGIN_FAILED_VERB, email=email, user=user, after=after)
    until = login_locked_until(email=email, ip=ip)
    if until is not None:
        _login_event(
            verb=LOCKED_OUT_VERB,
            email=email,
            user=user,
            after={**after, "until": until.isoformat()},
        )
    return until


def login_success_record(*, user: User, ip: str | None) -> None:
    """Record a sign-in; it ends any run of failures for the user's address."""
    after = {"key": login_key(user.email), "ip": ip}
    event_record(actor=user, verb=SIGNED_IN_VERB, obj=user, after=after)


# Two-factor sign-in: an authenticator app (TOTP) and one-time backup codes. Every change
# leaves an audit event on the user; a code that fails is recorded like a failed sign-in.
TWO_FACTOR_ENABLED_VERB = "user.two_factor_enabled"
TWO_FACTOR_DISABLED_VERB = "user.two_factor_disabled"
TWO_FACTOR_RESET_VERB = "user.two_factor_reset"
BACKUP_CODES_VERB = "user.backup_codes_regenerated"
CODE_FAILED_VERB = "user.two_factor_failed"
CODE_VERIFIED_VERB = "user.two_factor_verified"
CODE_VERBS = (CODE_FAILED_VERB, CODE_VERIFIED_VERB)
BACKUP_CODE_LENGTH = len(StaticToken.random_token())


def code_normalize(code: str) -> str:
    """A code as typed, without the spaces and dashes people copy along."""
    return "".join(character for character in (code or "") if character not in " -").lower()


def two_factor_enrolment(*, user: User) -> TOTPDevice:
    """The authenticator app being enrolled: a device not yet confirmed, made when first
    asked for and kept until a code confirms it, so a reload shows the same QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def two_factor_enable(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the authenticator being enrolled with a code it shows. It replaces the
    user's earlier authenticator, if any, and a new set of backup codes replaces theirs.
    Returns the backup codes, which are shown once and never again."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user).first()
    if device is None or device.confirmed:
        raise ValidationError("Start the set-up again: this key was used already.")
    if not device.verify_token(code_normalize(code)):
        raise ValidationError(
            {"code": "That code is not right. Check the app shows Greenlight and try again."}
        )
    earlier = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk)
    replaced = earlier.filter(confirmed=True).exists()
    earlier.delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _backup_codes_replace(user)
    event_record(actor=user, verb=TWO_FACTOR_ENABLED_VERB, obj=user, after={"replaced": replaced})
    return codes


def _backup_codes_replace(user: User) -> list[str]:
    """A new set of backup codes, voiding the old set. The device stays the same, so a
    sign-in verified with a backup code stays verified."""
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="Backup codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.BACKUP_CODES_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_backup_codes_regenerate(*, user: User) -> list[str]:
    """Void the user's backup codes and make a new set; returns it, to show once."""
    if two_factor.confirmed_device(user) is None:
        raise ValidationError("Turn on two-factor authentication first.")
    codes = _backup_codes_replace(user)
    event_record(actor=user, verb=BACKUP_CODES_VERB, obj=user, after={"count": len(codes)})
    return codes


def _devices_remove(user: User) -> bool:
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return removed > 0


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    """Turn two-factor off for ``user``: their authenticator and backup codes go. Not
    for someone whose role requires it; they may enrol a new authenticator instead."""
    if two_factor.is_required(user):
        raise ValidationError(
            "Your role requires two-factor authentication, so it cannot be turned off. "
            "Set up a new authenticator app instead if you changed phones."
        )
    if not _devices_remove(user):
        raise ValidationError("Two-factor authentication is not on.")
    event_record(actor=user, verb=TWO_FACTOR_DISABLED_VERB, obj=user)


@transaction.atomic
def two_factor_reset(*, user: User, actor) -> bool:
    """An administrator's answer to a lost phone: remove the user's authenticator and
    backup codes. They sign in with their password alone and enrol again (at once,
    when their role requires it). Returns whether there was anything to remove."""
    removed = _devices_remove(user)
    if removed:
        event_record(actor=actor, verb=TWO_FACTOR_RESET_VERB, obj=user)
    return removed


def two_factor_locked_until(*, user: User) -> dt.datetime | None:
    """When the code step opens again for ``user``, if wrong codes have locked it: the
    sign-in limits (LOGIN_MAX_FAILURES in a row within LOGIN_LOCKOUT_MINUTES) apply."""
    recent = (
        Event.objects.for_object(user)
        .filter(verb__in=CODE_VERBS, created_at__gte=_window_start())
        .values_list("verb", "created_at")
    )
    limit = settings.LOGIN_MAX_FAILURES
    return _locked_until(list(recent[:limit]), limit, failure_verb=CODE_FAILED_VERB)


def two_factor_verify(*, user: User, code: str, ip: str | None, purpose: str) -> Device:
    """Check a code from the user's authenticator app, or one of their backup codes
    (which this uses up), for the code step of signing in or to confirm a change
    (``purpose`` says which, for the audit trail). Returns the device that accepted it.

    A wrong code is recorded (``user.two_factor_failed``) and counts towards the
    lockout; django-otp's own back-off (1, 2, 4… seconds after each failure) applies on
    top. Not atomic on purpose: the record of a failure must stay when the check fails.
    """
    until = two_factor_locked_until(user=user)
    if until is not None:
        raise _code_locked_out(until)
    code = code_normalize(code)
    # Backup codes are 8 letters and digits; an app's codes are 6 digits.
    model = StaticDevice if len(code) == BACKUP_CODE_LENGTH else TOTPDevice
    device = model.objects.devices_for_user(user, confirmed=True).first()
    if device is not None:
        allowed, details = device.verify_is_allowed()
        if not allowed:
            wait = (details or {}).get("locked_until") or timezone.now()
            seconds = max(1, math.ceil((wait - timezone.now()).total_seconds()))
            raise ValidationError(
                "Too many wrong codes in a row. Wait %(seconds)d second(s) and try again.",
                code="throttled",
                params={"seconds": seconds},
            )
    verified = device and verify_token(user, device.persistent_id, code)
    method = "authenticator" if model is TOTPDevice else "backup_code"
    after = {"ip": ip, "method": method, "purpose": purpose}
    if not verified:
        event_record(actor=user, verb=CODE_FAILED_VERB, obj=user, after=after)
        until = two_factor_locked_until(user=user)
        if until is not None:
            event_record(
                actor=None,
                verb=LOCKED_OUT_VERB,
                obj=user,
                after={**after, "step": "two_factor", "until": until.isoformat()},
            )
            raise _code_locked_out(until)
        raise ValidationError(
            "That code is not right. Enter the 6 digits your app shows now, or a backup code.",
            code="invalid",
        )
    if method == "backup_code":
        after["backup_codes_left"] = verified.token_set.count()
    event_record(actor=user, verb=CODE_VERIFIED_VERB, obj=user, after=after)
    return verified


def _code_locked_out(until: dt.datetime) -> ValidationError:
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    return ValidationError(
        "Too many wrong codes. Try again in %(minutes)d minute(s), or ask an administrator "
        "to reset your two-factor authentication if you lost your phone.",
        code="locked_out",
        params={"minutes": minutes},
    )
