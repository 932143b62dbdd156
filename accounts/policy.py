"""Who may do what with accounts: API tokens. The account rules of the one policy;
``uat.policy`` re-exports them with the rest, and the README's roles table says the same
in words.

- **make an API token**: its owner, for themself (from a signed-in, verified browser
  session); an administrator also for a machine account (one whose only role is
  Release pipeline). Nobody makes a token for another person: a token acts as its owner.
- **revoke a token**: its owner, and administrators.
"""

from .models import Role

# What a refusal says, per action (``uat.policy.REFUSALS`` takes these in).
REFUSALS = {
    "issue_token": "A token acts as its owner, so people make their own tokens; "
    "administrators make them for release-pipeline machine accounts only.",
    "revoke_token": "Only the token's owner or an administrator revokes a token.",
}


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def roles_of(user) -> frozenset[str]:
    """The user's role names, read once per user object (every predicate shares it)."""
    cached = getattr(user, "_greenlight_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._greenlight_roles = cached
    return cached


def is_administrator(user) -> bool:
    if not _active(user):
        return False
    return user.is_superuser or Role.ADMIN.value in roles_of(user)


def is_machine_account(user) -> bool:
    """An account for a machine (a release pipeline): the Release pipeline role and no
    other, no admin access, not an external tester. A machine signs nothing."""
    if user.is_superuser or user.is_staff or user.is_external:
        return False
    return roles_of(user) == {Role.PIPELINE.value}


def can_issue_token(actor, owner) -> bool:
    if not _active(actor) or not owner.is_active:
        return False
    if owner.pk == actor.pk:
        return True
    return is_administrator(actor) and is_machine_account(owner)


def can_revoke_token(actor, token) -> bool:
    return _active(actor) and (token.user_id == actor.pk or is_administrator(actor))
