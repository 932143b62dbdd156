"""Who may see what, as ``Q`` filters the QuerySets' ``visible_to`` methods apply.

- QA leads (and superusers) see everything.
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


def sees_everything(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_greenlight_is_lead", None)
    if cached is None:
        cached = user.groups.filter(name__in=[Role.QA_LEAD.value, Role.ADMIN.value]).exists()
        user._greenlight_is_lead = cached
    return cached


def stake_releases(user) -> Q:
    """Releases in which ``user`` is a stakeholder or a required signer of a plan."""
    from .models import Plan

    plans = Plan.objects.filter(Q(stakeholders=user) | Q(signoff_roles__signers=user))
    return Q(pk__in=plans.values("release_id"))
