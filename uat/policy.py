"""Who may do what: one predicate per action, the one home of every such rule.

Services enforce these (``policy_require`` raises ``PermissionDenied``); the pages, the
API and the admin call the same predicates to decide what to offer, so no interface
decides a permission by itself. What a person may *see* is the QuerySets'
``visible_to`` (``uat.access``): an action on a record is asked only of someone who
sees it, and someone who does not gets a 404 before any predicate is asked.

The rules (the README's roles table says the same in words):

- **record** a step, the result, evidence or a defect on an execution: the tester it is
  assigned to, and nobody else — a result is that person's testimony. A QA lead records
  runs of their own (a JUnit upload makes the uploader the tester).
- **report an escaped defect** (found in production) on a release: internal staff —
  QA leads, testers (support agents hear of them first) and stakeholders.
- **log a defect found in UAT** on behalf of its testers (in the admin: from a call, a
  feedback thread, a run they watched), linked to the executions that found it: QA leads.
  Testers report their own on their executions (**record**).
- **triage** a defect (move it along its workflow): QA leads.
- **comment on a defect**: whoever sees it and is internal staff — its reporter, QA
  leads, the developers and stakeholders of its release — and an external tester only
  on a defect they reported; never a machine account.
- **assign** a plan's cases, **reassign** or **unassign** its executions nobody has
  started, **clone** a plan, record **JUnit** results into it, **invite** beta testers:
  QA leads (``can_manage_plan``, ``can_invite``).
- **request a report** of a plan: QA leads.
- **build an evidence package** of a release: QA leads and the release's stakeholders
  (who see its audit trail and hold the stakeholder role).
- **see the audit trail** of a release: QA leads and the people with a stake in it.
- **waive** an open defect, or revoke a waiver, of a release: its stakeholders.
- **name signers** (configure a plan's required sign-off roles: create or remove one,
  change who signs it): administrators and the release's owner (``Release.owner``, set by
  an administrator). A QA lead who is neither is refused: whoever picks the signers
  decides whose signature opens the gate.
- **be named a signer** of a required role: an active, internal account holding the
  Stakeholder role, and not the person naming the signers.
- **sign** a report for a role: a named signer of that role on the report's plan, who did
  not configure that role themselves (separation of duties).
- **promote** a release: QA leads and release-pipeline accounts.
- **make an API token**: its owner for themself; administrators also for machine
  accounts; **revoke** one: its owner and administrators (``accounts.policy``, below
  this app, re-exported here).
- **rotate a webhook's secret** (and so read it once more): administrators.
"""

from django.core.exceptions import PermissionDenied

from accounts.models import Role
from accounts.policy import REFUSALS as ACCOUNT_REFUSALS
from accounts.policy import can_issue_token as can_issue_token
from accounts.policy import can_revoke_token as can_revoke_token
from accounts.policy import is_machine_account as is_machine_account

from .access import roles_of, sees_everything, stake_releases

# What a refusal says, per action.
REFUSALS = {
    "record": "Only the tester it is assigned to can record results on this case.",
    "report_escaped_defect": "Only internal staff record defects found in production.",
    "log_defect": "Only QA leads log defects found in UAT on behalf of testers.",
    "triage": "Only QA leads move defects along their workflow.",
    "comment": "Only the defect's reporter and the internal staff who see it comment on it.",
    "manage_plan": "Only QA leads assign, reassign, clone, scope and record results into plans.",
    "invite": "Only QA leads invite testers.",
    "request_report": "Only QA leads ask for acceptance reports.",
    "build_evidence_package": "Only QA leads and the release's stakeholders build evidence "
    "packages.",
    "waive": "Only the release's stakeholders waive defects or revoke waivers.",
    "sign": "You do not hold that sign-off for this plan.",
    "configure_signoffs": "Only an administrator or the release's owner names the signers "
    "of its required sign-offs.",
    "promote": "Promoting a release needs a QA lead or a pipeline account.",
    "rotate_webhook_secret": "Only administrators rotate webhook secrets.",
    **ACCOUNT_REFUSALS,
}


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _has_role(user, role: Role) -> bool:
    """Holds ``role`` (or is an administrator, who holds every role). One query per
    user object, shared with ``uat.access``."""
    if not _active(user):
        return False
    return user.is_superuser or bool(roles_of(user) & {role.value, Role.ADMIN.value})


def _administrator(user) -> bool:
    return _active(user) and (user.is_superuser or Role.ADMIN.value in roles_of(user))


def holds_stake(user, release) -> bool:
    """Whether ``user`` is a stakeholder or a named signer of a plan of ``release``."""
    if not _active(user) or user.is_external:
        return False
    from .models import Release

    return Release.objects.filter(stake_releases(user), pk=release.pk).exists()


def can_record(user, execution) -> bool:
    return _active(user) and execution.tester_id == user.pk


def can_report_escaped_defect(user, release=None) -> bool:
    """Internal staff who hear of a defect in production: QA leads, testers (support
    agents hear of them first) and stakeholders; never external testers or machine
    accounts. Any release: whoever hears of it names the release that let it through."""
    if sees_everything(user):
        return True
    if not _active(user) or user.is_external:
        return False
    return bool(roles_of(user) & {Role.TESTER.value, Role.STAKEHOLDER.value})


def can_log_defect(user, release=None) -> bool:
    return sees_everything(user)


def can_triage(user, defect=None) -> bool:
    return sees_everything(user)


def can_comment(user, defect) -> bool:
    """Comment on ``defect``: internal staff who see it (its reporter, QA leads, the
    people working on its release), and an external tester on one they reported. A
    query, unless the user sees everything or reported it."""
    if sees_everything(user):
        return True
    if not _active(user) or is_machine_account(user):
        return False
    if defect.reported_by_id == user.pk:
        return True
    if user.is_external:
        return False
    from .models import Defect

    return Defect.objects.visible_to(user).filter(pk=defect.pk).exists()


def can_manage_plan(user, plan=None) -> bool:
    return sees_everything(user)


def can_invite(user, cohort=None) -> bool:
    return sees_everything(user)


def can_request_report(user, plan=None) -> bool:
    return sees_everything(user)


def audit_releases(user):
    """The releases whose audit trail (and waivers) ``user`` may see, as a QuerySet:
    every one for QA leads, those they hold a stake in for internal staff."""
    from .models import Release

    if sees_everything(user):
        return Release.objects.all()
    if not _active(user) or user.is_external:
        return Release.objects.none()
    return Release.objects.filter(stake_releases(user))


def can_build_evidence_package(user, release=None) -> bool:
    """Of ``release``; without one, of some release (whether to offer the action)."""
    if sees_everything(user):
        return True
    if not _has_role(user, Role.STAKEHOLDER):
        return False
    return release is None or holds_stake(user, release)


def can_waive(user, release=None) -> bool:
    """Of ``release``; without one, of some release (whether to offer the action)."""
    if not _has_role(user, Role.STAKEHOLDER):
        return False
    return _administrator(user) or release is None or holds_stake(user, release)


def administrator(user) -> bool:
    """An administrator: the Admin role, or a superuser."""
    return _active(user) and (user.is_superuser or Role.ADMIN.value in roles_of(user))


def can_configure_signoffs(user, plan=None) -> bool:
    """Name the signers of ``plan``'s required sign-offs (create, change or remove a
    role): administrators and the owner of the plan's release. Without a plan: of some
    plan (whether to offer it)."""
    if administrator(user):
        return True
    if not _active(user):
        return False
    if plan is None:
        # Asked several times per admin page (each permission of an inline): once.
        owns = getattr(user, "_greenlight_owns_release", None)
        if owns is None:
            owns = user._greenlight_owns_release = user.owned_releases.exists()
        return owns
    return plan.release.owner_id == user.pk


def signer_refusal(user, *, actor) -> str:
    """Why ``user`` cannot be named a signer of a required sign-off by ``actor``; "" when
    they can: an active, internal account holding the Stakeholder role (not merely an
    administrator), and not the person naming the signers."""
    name = user.full_name or user.email
    if not user.is_active:
        return f"{name} is not an active account."
    if user.is_external:
        return f"{name} is an external tester; signers are internal staff."
    if Role.STAKEHOLDER.value not in roles_of(user):
        return f"{name} does not hold the Stakeholder role; an administrator grants it."
    if actor is not None and user.pk == actor.pk:
        return "You cannot name yourself a signer: whoever names the signers never signs."
    return ""


SIGNED_OWN_CONFIGURATION = (
    "You named the signers of the {role} sign-off of this plan, so you cannot sign it "
    "yourself (separation of duties)."
)


def named_roles(user, plan=None):
    """The required sign-off roles of ``plan`` (of every plan, without one) naming
    ``user`` as a signer, whether or not they may sign them. A QuerySet of
    ``PlanSignoffRole``."""
    from .models import PlanSignoffRole

    roles = PlanSignoffRole.objects.all() if plan is None else plan.signoff_roles.all()
    if not _active(user):
        return roles.none()
    return roles.filter(signers=user)


def sign_refusal(user, required) -> str:
    """Why ``user`` may not sign the required sign-off ``required`` (a
    ``PlanSignoffRole``) although named for it; "" when they may: they are still an
    account that may be named (named before the rule, or since deactivated, made external
    or stripped of the Stakeholder role, they may not), and whoever configured a role
    never signs it."""
    if refusal := signer_refusal(user, actor=None):
        return refusal
    if required.configured_by_id is not None and required.configured_by_id == user.pk:
        return SIGNED_OWN_CONFIGURATION.format(role=required.get_role_display())
    return ""


def signable_roles(user, plan=None):
    """The required sign-off roles of ``plan`` (of every plan, without one) that
    ``user`` may sign: those naming them as a signer that they did not configure, while
    they may be named at all (``sign_refusal``). A QuerySet."""
    if signer_refusal(user, actor=None):
        return named_roles(user, plan).none()
    return named_roles(user, plan).exclude(configured_by=user)


def can_sign(user, plan, role: str | None = None) -> bool:
    """A named signer of ``role`` (of any required role, without one) of ``plan`` who did
    not configure it."""
    roles = signable_roles(user, plan)
    return (roles.filter(role=role) if role else roles).exists()


def can_promote(user, release=None) -> bool:
    return sees_everything(user) or _has_role(user, Role.PIPELINE)


def can_rotate_webhook_secret(user, webhook=None) -> bool:
    """A webhook's secret is shown once, to whoever registered it; a new one (shown once
    too) is an administrator's to make."""
    return _administrator(user)


def policy_require(allowed: bool, action: str) -> None:
    """Refuse with the action's message unless ``allowed``: what services call."""
    if not allowed:
        raise PermissionDenied(REFUSALS[action])
