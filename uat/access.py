"""Who may see what, as ``Q`` filters the QuerySets' ``visible_to`` methods apply.

- QA leads (and superusers) see everything.
- Release pipelines (machine accounts) read every release (the summary the gate names)
  and its gate, and promote; nothing of the test work — no plans, cases, results,
  reports — and over the API nothing but those endpoints (``is_pipeline_account``).
- Stakeholders see the releases they hold a stake in: those where they are a stakeholder
  or a required signer of one of the plans. In those, they see plans, executions and
  defects.
- Testers see their own assignments, the plans those belong to, and the defects they
  reported or that were found on their assignments. External (beta) testers see nothing
  beyond that.
- Anyone else sees nothing.
"""

from django.db.models import Q

from accounts.models import Role
from accounts.policy import roles_of


def sees_everything(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(roles_of(user) & {Role.QA_LEAD.value, Role.ADMIN.value})


def reads_every_release(user) -> bool:
    """QA leads, and release pipelines, which ask any release's gate (read-only): the
    release itself, never its plans or test work (``Release.objects.with_results_for``)."""
    if sees_everything(user):
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return Role.PIPELINE.value in roles_of(user)


def is_pipeline_account(user) -> bool:
    """A release-pipeline machine account holding no other role: the API answers it only
    on the endpoints a pipeline needs (``uat.api.permissions.PipelineScope``)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.is_superuser:
        return False
    roles = roles_of(user)
    others = {Role.QA_LEAD.value, Role.ADMIN.value, Role.TESTER.value, Role.STAKEHOLDER.value}
    return Role.PIPELINE.value in roles and not roles & others


def stake_releases(user) -> Q:
    """Releases in which ``user`` is a stakeholder or a required signer of a plan."""
    from .models import Plan

    plans = Plan.objects.filter(Q(stakeholders=user) | Q(signoff_roles__signers=user))
    return Q(pk__in=plans.values("release_id"))
