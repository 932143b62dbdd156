"""The state changes of accounts: API tokens, sign-in throttling, and two-factor
authentication. (Invitations into a beta cohort are in ``uat.services.invitations``.)"""

import datetime as dt
import hmac
import math

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import two_factor
from .mail import email_send
from .models import ApiToken, SignInAttempt, User, email_normalize
from .policy import REFUSALS, can_issue_token, can_revoke_token
from .signals import account_event_send


@transaction.atomic
def api_token_issue(*, user: User, name: str, actor) -> tuple[ApiToken, str]:
    """Make an API token for ``user`` and audit it; return it with its secret, which is
    never stored and shown this once. The owner is emailed that a token was made, so a
    token nobody asked for is noticed. The admin and the API both issue tokens here."""
    if not can_issue_token(actor, user):
        raise PermissionDenied(REFUSALS["issue_token"])
    token, secret = ApiToken.issue(user=user, name=name, created_by=actor)
    account_event_send(
        actor=actor,
        verb="apitoken.created",
        obj=token,
        after={"user": token.user_id, "name": token.name, "prefix": token.key_prefix},
    )
    context = {
        "owner": user.full_name or user.email,
        "name": token.name,
        "prefix": token.key_prefix,
        "created_by": actor.full_name or actor.email,
        "by_someone_else": actor.pk != user.pk,
        "created_at": token.created_at,
    }
    email = user.email
    # A notice: a mail server that fails it is logged and must not cost the secret, which
    # the caller shows once after this returns.
    transaction.on_commit(
        lambda: email_send(name="api_token_created", context=context, to=[email]), robust=True
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke ``token``: requests with it are refused from now on. The token stays, so the
    audit trail can name it. Whether it was revoked now (not already)."""
    if not can_revoke_token(actor, token):
        raise PermissionDenied(REFUSALS["revoke_token"])
    return _tokens_revoke(ApiToken.objects.filter(pk=token.pk), actor=actor, token=token) > 0


def _tokens_revoke(tokens, *, actor, token: ApiToken | None = None, why: str = "") -> int:
    now = timezone.now()
    revoking = list(tokens.filter(revoked_at__isnull=True).select_for_update())
    ApiToken.objects.filter(pk__in=[each.pk for each in revoking]).update(revoked_at=now)
    for each in revoking:
        if token is not None and each.pk == token.pk:
            token.revoked_at = now
        account_event_send(
            actor=actor, verb="apitoken.revoked", obj=each, after={"why": why} if why else None
        )
    return len(revoking)


# Sign-in throttling. Tries are counted in SignInAttempt, which every web process shares
# (a per-process cache would let each gunicorn worker grant its own attempts), and are
# recorded as events in the audit trail as well.
LOGIN_FAILED_VERB = "user.login_failed"
LOCKED_OUT_VERB = "user.locked_out"
SIGNED_IN_VERB = "user.signed_in"
PASSWORD_RESET_VERB = "user.password_reset"  # noqa: S105 (an event name)


def login_key(email: str) -> str:
    """A keyed hash of the address typed in: failures against an address that has no
    account are counted alike, without writing the address itself anywhere (people
    sometimes type their password into the email field)."""
    normalized = email_normalize(email)
    return hmac.new(settings.SECRET_KEY.encode(), normalized.encode(), "sha256").hexdigest()


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _locked_until(tries, limit: int) -> dt.datetime | None:
    """Given tries newest first, as (succeeded, time): locked when the newest ``limit``
    are failures, that is ``limit`` failures in a row since the window opened."""
    if limit <= 0:
        return None
    failures = []
    for succeeded, created_at in tries[:limit]:
        if succeeded:
            break
        failures.append(created_at)
    if len(failures) < limit:
        return None
    return failures[0] + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _run(tries, limit: int) -> dt.datetime | None:
    return _locked_until(list(tries.values_list("succeeded", "created_at")[:limit]), limit)


def login_locked_until(*, email: str, ip: str | None = None) -> dt.datetime | None:
    """When sign-in for ``email`` from ``ip`` opens again, if repeated failures have
    locked it now. Three limits, each within LOGIN_LOCKOUT_MINUTES:

    - LOGIN_MAX_FAILURES in a row for the address from this network address. Someone
      guessing from elsewhere does not lock its owner out of their own desk.
    - LOGIN_MAX_FAILURES_PER_ACCOUNT in a row for the address from anywhere: the brake
      on guessing spread over many network addresses.
    - LOGIN_MAX_FAILURES_PER_IP failures from the network address, whatever the address.

    A successful sign-in, or a password reset, ends the runs of its address."""
    recent = SignInAttempt.objects.filter(
        step__in=[SignInAttempt.Step.PASSWORD, SignInAttempt.Step.RESET],
        created_at__gte=_window_start(),
    )
    of_address = recent.filter(key=login_key(email))
    from_here = of_address.filter(ip=ip) if ip else of_address.filter(ip__isnull=True)
    until = _run(from_here, settings.LOGIN_MAX_FAILURES) or _run(
        of_address, settings.LOGIN_MAX_FAILURES_PER_ACCOUNT
    )
    if until is None and ip and settings.LOGIN_MAX_FAILURES_PER_IP > 0:
        until = _run(recent.filter(ip=ip, succeeded=False), settings.LOGIN_MAX_FAILURES_PER_IP)
    return until


@transaction.atomic
def login_failure_record(*, email: str, ip: str | None) -> dt.datetime | None:
    """Record a refused sign-in for ``email``; when it is the one that locks sign-in,
    record the lockout too and return when it ends."""
    user = User.objects.by_email(email).first()
    key = login_key(email)
    SignInAttempt.objects.create(
        key=key, user=user, ip=ip, step=SignInAttempt.Step.PASSWORD, succeeded=False
    )
    after = {"key": key, "ip": ip}
    account_event_send(actor=None, verb=LOGIN_FAILED_VERB, obj=user, after=after)
    until = login_locked_until(email=email, ip=ip)
    if until is not None:
        after = {**after, "until": until.isoformat()}
        account_event_send(actor=None, verb=LOCKED_OUT_VERB, obj=user, after=after)
    return until


@transaction.atomic
def login_success_record(*, user: User, ip: str | None) -> None:
    """Record a sign-in; it ends any run of failures for the user's address."""
    key = login_key(user.email)
    SignInAttempt.objects.create(
        key=key, user=user, ip=ip, step=SignInAttempt.Step.PASSWORD, succeeded=True
    )
    account_event_send(actor=user, verb=SIGNED_IN_VERB, obj=user, after={"key": key, "ip": ip})


@transaction.atomic
def password_reset_record(*, user: User, ip: str | None) -> None:
    """Record that ``user`` set a new password through a reset link: proof they hold the
    mailbox, so it lifts the sign-in lockout of their address, from everywhere."""
    key = login_key(user.email)
    SignInAttempt.objects.create(
        key=key, user=user, ip=ip, step=SignInAttempt.Step.RESET, succeeded=True
    )
    account_event_send(actor=user, verb=PASSWORD_RESET_VERB, obj=user, after={"ip": ip})


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
    account_event_send(
        actor=user, verb=TWO_FACTOR_ENABLED_VERB, obj=user, after={"replaced": replaced}
    )
    # Tokens made before there was a second factor were made with a password alone;
    # a replaced authenticator may be a lost phone. Either way they go.
    _tokens_revoke(user.api_tokens.all(), actor=user, why="two-factor turned on")
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
    account_event_send(actor=user, verb=BACKUP_CODES_VERB, obj=user, after={"count": len(codes)})
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
    account_event_send(actor=user, verb=TWO_FACTOR_DISABLED_VERB, obj=user)


@transaction.atomic
def two_factor_reset(*, user: User, actor) -> bool:
    """An administrator's answer to a lost phone: remove the user's authenticator and
    backup codes. They sign in with their password alone and enrol again (at once,
    when their role requires it). Returns whether there was anything to remove."""
    removed = _devices_remove(user)
    if removed:
        account_event_send(actor=actor, verb=TWO_FACTOR_RESET_VERB, obj=user)
    return removed


def two_factor_locked_until(*, user: User) -> dt.datetime | None:
    """When the code step opens again for ``user``, if wrong codes have locked it: the
    sign-in limits (LOGIN_MAX_FAILURES in a row within LOGIN_LOCKOUT_MINUTES) apply."""
    recent = SignInAttempt.objects.filter(
        user=user, step=SignInAttempt.Step.TWO_FACTOR, created_at__gte=_window_start()
    )
    return _run(recent, settings.LOGIN_MAX_FAILURES)


def _code_try_record(*, user: User, ip: str | None, succeeded: bool, after: dict) -> None:
    SignInAttempt.objects.create(
        key=login_key(user.email),
        user=user,
        ip=ip,
        step=SignInAttempt.Step.TWO_FACTOR,
        succeeded=succeeded,
    )
    verb = CODE_VERIFIED_VERB if succeeded else CODE_FAILED_VERB
    account_event_send(actor=user, verb=verb, obj=user, after=after)


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
        _code_try_record(user=user, ip=ip, succeeded=False, after=after)
        until = two_factor_locked_until(user=user)
        if until is not None:
            account_event_send(
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
    _code_try_record(user=user, ip=ip, succeeded=True, after=after)
    return verified


def _code_locked_out(until: dt.datetime) -> ValidationError:
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    return ValidationError(
        "Too many wrong codes. Try again in %(minutes)d minute(s), or ask an administrator "
        "to reset your two-factor authentication if you lost your phone.",
        code="locked_out",
        params={"minutes": minutes},
    )
