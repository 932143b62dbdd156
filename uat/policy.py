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
- **assign** a plan's cases, **clone** a plan, record **JUnit** results into it,
  **invite** beta testers: QA leads.
- **request a report** of a plan: QA leads.
- **build an evidence package** of a release: QA leads and the release's stakeholders
  (who see its audit trail and hold the stakeholder role).
- **see the audit trail** of a release: QA leads and the people with a stake in it.
- **waive** an open defect, or revoke a waiver, of a release: its stakeholders.
- **sign** a report for a role: a named signer of that role on the report's plan.
- **promote** a release: QA leads and release-pipeline accounts.
- **rotate a webhook's secret** (and so read it once more): administrators.
"""

from django.core.exceptions import PermissionDenied

from accounts.models import Role

from .access import roles_of, sees_everything, stake_releases

# What a refusal says, per action.
REFUSALS = {
    "record": "Only the tester it is assigned to can record results on this case.",
    "report_escaped_defect": "Only internal staff record defects found in production.",
    "log_defect": "Only QA leads log defects found in UAT on behalf of testers.",
    "triage": "Only QA leads move defects along their workflow.",
    "manage_plan": "Only QA leads assign, clone and record results into plans.",
    "invite": "Only QA leads invite testers.",
    "request_report": "Only QA leads ask for acceptance reports.",
    "build_evidence_package": "Only QA leads and the release's stakeholders build evidence "
    "packages.",
    "waive": "Only the release's stakeholders waive defects or revoke waivers.",
    "sign": "You do not hold that sign-off for this plan.",
    "promote": "Promoting a release needs a QA lead or a pipeline account.",
    "rotate_webhook_secret": "Only administrators rotate webhook secrets.",
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


def signable_roles(user, plan):
    """The required sign-off roles of ``plan`` that ``user`` may sign: those naming them
    as a signer. A QuerySet of ``PlanSignoffRole``."""
    if not _active(user):
        return plan.signoff_roles.none()
    return plan.signoff_roles.filter(signers=user)


def can_sign(user, plan, role: str | None = None) -> bool:
    """A named signer of ``role`` (of any required role, without one) of ``plan``."""
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
