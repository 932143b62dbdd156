"""Building the evidence a gate decides on: plans with required signers, fresh reports
and sign-offs on them."""

from accounts.models import Role
from reports.fingerprint import plan_fingerprint
from tests.factories import (
    AcceptanceReportFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    ReleaseFactory,
    SignOffFactory,
    UserFactory,
)
from uat.models import SignoffRole

FAILED_PASS_RATE = {
    "key": "pass_rate",
    "label": "Overall pass rate",
    "actual": "80.00",
    "threshold": "95.00",
    "passed": False,
}


def release_in(stage: str, **kwargs):
    return ReleaseFactory(stage=stage, **kwargs)


def plan_with_signers(release, stage: str = "alpha", roles=(SignoffRole.BUSINESS_OWNER,)):
    """A plan of ``release`` requiring ``roles``, each with one named stakeholder."""
    plan = PlanFactory(release=release, stage=stage)
    plan.signers = {}
    for role in roles:
        signer = UserFactory(roles=[Role.STAKEHOLDER])
        PlanSignoffRoleFactory(plan=plan, role=role, signers=[signer])
        plan.signers[role] = signer
    return plan


def fresh_report(plan, decision: str = "go", criteria=None, **kwargs):
    """A ready report built from the plan's data as it is now."""
    return AcceptanceReportFactory(
        plan=plan,
        ready=True,
        decision=decision,
        fingerprint=plan_fingerprint(plan),
        criteria=criteria or [],
        **kwargs,
    )


def sign(report, signer, role=SignoffRole.BUSINESS_OWNER, decision="approve", **kwargs):
    if decision == "reject":
        kwargs.setdefault("reason", "The invoice totals are wrong.")
    return SignOffFactory(report=report, signer=signer, role=role, decision=decision, **kwargs)


def approved(plan, report=None):
    """Every required role of ``plan`` approves ``report`` (a fresh go report by default)."""
    report = report or fresh_report(plan)
    for role, signer in plan.signers.items():
        sign(report, signer, role=role)
    return report
