"""The state changes of accounts: inviting beta testers and accepting an invitation."""

import datetime as dt
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from uat.audit import event_record
from uat.mail import email_send
from uat.models import Cohort, CohortMembership, Event

from .models import Invitation, Role, User


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
    if cohort.kind != Cohort.Kind.BETA:
        raise ValidationError({"cohort": "Invitations are for beta cohorts of external users."})
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


def _locked_until(events, limit: int) -> dt.datetime | None:
    """The newest sign-in events, newest first, as (verb, time): locked when ``limit``
    failures came in a row since the window opened."""
    if limit <= 0:
        return None
    failures = []
    for verb, created_at in events[:limit]:
        if verb != LOGIN_FAILED_VERB:
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
