"""Inviting beta testers into a cohort and accepting an invitation: the invitee becomes
an external tester in the cohort. The invitation itself is an account record
(``accounts.Invitation``); joining a cohort is testing work, so the change lives here."""

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.mail import email_send
from accounts.models import Invitation, Role, User, email_normalize

from ..audit import event_record
from ..models import Cohort, CohortMembership
from ..policy import can_invite, policy_require


def invitation_link(secret: str) -> str:
    return settings.SITE_URL + reverse("accounts:invitation_accept", args=[secret])


@transaction.atomic
def invitation_send(*, email: str, cohort: Cohort, actor, days: int | None = None) -> Invitation:
    """Invite ``email`` into the beta ``cohort``: store the hash of a fresh secret and,
    once the transaction commits, email the single-use link that carries the secret."""
    policy_require(can_invite(actor, cohort), "invite")
    email = email_normalize(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    # The invitee joins as an external tester, so the cohort must take one.
    if error := cohort.kind_error(external=True):
        raise ValidationError({"cohort": f"{error} Invitations are for beta cohorts."})
    if User.objects.by_email(email).exists():
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
    if User.objects.by_email(invitation.email).exists():
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
