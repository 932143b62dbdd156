"""Where each person lands and what the main navigation offers them, by role: the one
home of that decision. The front door (``/``, and so every sign-in) redirects to
``landing``; the header's navigation shows ``navigation``'s links; the pages those links
lead to still decide who may see them (``uat.access``, ``uat.policy``).

- QA leads (and administrators) land on the releases they run (the release list, theirs
  first), and also reach their own work, defect triage and invitations.
- Stakeholders land on *Waiting for my signature* and reach their releases and the
  defects they reported; one who also tests lands on their work, as testers do.
- Testers land on *My work*.

Decided from the person's roles alone (one query, cached on the user object), so every
page's header costs the same.
"""

from accounts.models import Role
from uat.access import roles_of, sees_everything


def navigation(user) -> dict[str, bool]:
    """Which of the main pages ``user`` is offered, by name."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return dict.fromkeys(("work", "defects", "releases", "waiting", "triage"), False)
    roles = roles_of(user)
    lead = sees_everything(user)
    tester = Role.TESTER.value in roles
    stakeholder = Role.STAKEHOLDER.value in roles and not user.is_external
    return {
        "work": tester or lead or not stakeholder,
        "defects": True,
        "releases": lead or stakeholder,
        "waiting": stakeholder,
        "triage": lead,
    }


def landing(user) -> str:
    """The name of the page ``user`` lands on after signing in (and at ``/``)."""
    if not getattr(user, "is_authenticated", False):
        return "accounts:login"
    offered = navigation(user)
    if offered["triage"]:
        return "reports:index"
    if offered["waiting"] and not offered["work"]:  # a stakeholder who does not test
        return "reports:waiting"
    return "uat:inbox"
