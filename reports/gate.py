"""The release gate: may this release go to that stage?

The answer comes from the latest acceptance report of the plan of the stage before the
target — the alpha plan for beta; the beta plan for production, or the alpha plan for a
hotfix, which skips beta — and from the sign-offs on that report:

- ``inconclusive`` when there is no plan or no report, the report is still being built,
  it failed, or it is stale (the plan's data changed since it was built): the gate never
  passes silently on missing evidence;
- ``no-go`` when the fresh report fails a criterion, a required signer rejected it, or a
  required sign-off is missing;
- ``go`` otherwise.

A sign-off counts for a required role when it is on that report, was given on the
report's fingerprint, and its signer is one of the role's named signers; the latest
counted sign-off of a role decides for it.

A target stage the release has not reached the stage before yet (a release in planning
asking for beta) is ``inconclusive`` with a reason; a stage the release's kind never goes
to (beta for a hotfix), or any stage but beta and production, is refused with a
``ValidationError``.

The gate remembers its last decision per (release, stage) in ``GateState``: each
``gate_check`` (the API and the CLI) and ``gate_refresh`` announces a change with a
``gate.changed`` webhook.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from uat.models import Plan, Release, SignoffRole

from .currency import CURRENT, report_is_current, signoff_state
from .fingerprint import inputs_fingerprint, plan_inputs
from .models import AcceptanceReport, GateState, GateVerdict, SignOff
from .webhooks import release_data, report_data, webhook_emit

GO, NO_GO, INCONCLUSIVE = GateVerdict.GO, GateVerdict.NO_GO, GateVerdict.INCONCLUSIVE
TARGET_STAGES = (Release.Stage.BETA, Release.Stage.PRODUCTION)
GATE_STAGE_CHOICES = [(stage.value, stage.label) for stage in TARGET_STAGES]
# Where each required sign-off role stands on the report.
SIGNOFF_STATUSES = [("approved", "Approved"), ("rejected", "Rejected"), ("missing", "Missing")]
STAGE_ORDER = list(Release.Stage.values)
BUILDING = (AcceptanceReport.Status.PENDING, AcceptanceReport.Status.RUNNING)


@dataclass(frozen=True)
class GateDecision:
    release: Release
    stage: str
    decision: str
    reasons: list[str]
    report: AcceptanceReport | None = None
    report_fresh: bool = False
    signoffs: list[dict] = field(default_factory=list)
    evaluated_at: datetime = field(default_factory=timezone.now)
    # Inconclusive only because the report is pending or running: worth waiting for.
    building: bool = False

    @property
    def is_go(self) -> bool:
        return self.decision == GO

    def as_dict(self) -> dict:
        report = None
        if self.report is not None:
            report = {**report_data(self.report), "fresh": self.report_fresh}
        return {
            "release": release_data(self.release),
            "stage": self.stage,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "report": report,
            "signoffs": self.signoffs,
            "evaluated_at": self.evaluated_at,
        }


def evidence_stage(release: Release, stage: str) -> str:
    """The plan stage whose report decides whether ``release`` may go to ``stage``."""
    if stage not in TARGET_STAGES:
        raise ValidationError({"stage": "The gate is for stage beta or production."})
    if release.kind == Release.Kind.HOTFIX:
        if stage == Release.Stage.BETA:
            raise ValidationError(
                {"stage": "A hotfix goes from alpha straight to production; it has no beta gate."}
            )
        return Plan.Stage.ALPHA
    return Plan.Stage.ALPHA if stage == Release.Stage.BETA else Plan.Stage.BETA


def _not_there_yet(release: Release, stage: str) -> list[str]:
    """A reason when the release cannot move to ``stage`` next and has not passed it."""
    if release.can_move_to(stage) or STAGE_ORDER.index(release.stage) >= STAGE_ORDER.index(stage):
        return []
    nxt = " or ".join(release.next_stages) or "no other stage"
    return [
        f"{release} is in {release.stage}; it moves to {nxt} next, so it cannot go to {stage} yet."
    ]


def _report_problem(plan: Plan, report: AcceptanceReport | None) -> str | None:
    """Why the report cannot decide anything, or None when it is ready."""
    if report is None:
        return f"No acceptance report has been built for the {plan.stage} plan; ask for one."
    if report.status in BUILDING:
        return f"The acceptance report of the {plan.stage} plan is still being built."
    if report.status == AcceptanceReport.Status.FAILED:
        error = report.error.strip().splitlines()[0] if report.error.strip() else "no details"
        return (
            f"The latest acceptance report of the {plan.stage} plan failed to build "
            f"({error}); ask for a new one."
        )
    return None


def _failed_criteria(report: AcceptanceReport) -> list[str]:
    """One reason per failing criterion of a no-go report.

    Reads ``report.criteria`` as a list of ``{"label" (or "name"/"key"), "actual",
    "threshold", "passed"}``; any report whose decision is no-go yields a reason even
    when no criterion says which."""
    reasons = []
    for criterion in report.criteria or []:
        if not isinstance(criterion, dict) or criterion.get("passed") is not False:
            continue
        name = criterion.get("label") or criterion.get("name") or criterion.get("key")
        text = f"Criterion failed: {name or 'unnamed'}"
        if "actual" in criterion and "threshold" in criterion:
            text += f" (actual {criterion['actual']}, needed {criterion['threshold']})"
        reasons.append(text + ".")
    if not reasons and report.decision != AcceptanceReport.Decision.GO:
        reasons.append("The acceptance report's decision is no-go.")
    return reasons


def _signoff_entry(role: SignoffRole, status: str, signoff: SignOff | None) -> dict:
    return {
        "role": role.value,
        "label": role.label,
        "status": status,
        "signer": signoff.signer.email if signoff else None,
        "printed_name": signoff.printed_name if signoff else None,
        "signed_at": signoff.signed_at if signoff else None,
        "reason": signoff.reason if signoff else "",
    }


def _missing_reason(role: SignoffRole, ignored: list[SignOff], signers: set) -> str:
    text = f"Missing sign-off: {role.label}"
    if not signers:
        return text + " (no signers are named for this role)."
    notes = []
    for signoff in ignored:
        if signoff.signer_id not in signers:
            notes.append(f"{signoff.printed_name} is not a named signer for this role")
        else:
            notes.append(f"{signoff.printed_name} signed data that has changed since (stale)")
    return text + (f"; {'; '.join(notes)}." if notes else ".")


def _required(signoff_roles: list[tuple]) -> dict[SignoffRole, set[int]]:
    """The fingerprint's ``(role, signer id or None[, when they were named])`` rows,
    sorted by role, as each required role with its named signers."""
    required: dict[SignoffRole, set[int]] = {}
    for role, signer_id, *_ in signoff_roles:
        signers = required.setdefault(SignoffRole(role), set())
        if signer_id is not None:
            signers.add(signer_id)
    return required


def _signoffs(required: dict, report: AcceptanceReport) -> tuple[list[dict], list[str]]:
    """Each required role's standing on ``report`` (a current one), and the no-go
    reasons among them."""
    signed = list(report.signoffs.select_related("signer").order_by("signed_at", "pk"))
    entries, reasons = [], []
    for role, signers in required.items():
        of_role = [s for s in signed if s.role == role]
        counted = [
            s for s in of_role if s.signer_id in signers and signoff_state(s, CURRENT) == CURRENT
        ]
        if not counted:
            entries.append(_signoff_entry(role, "missing", None))
            reasons.append(_missing_reason(role, of_role, signers))
            continue
        latest = counted[-1]
        if latest.decision == SignOff.Decision.REJECT:
            entries.append(_signoff_entry(role, "rejected", latest))
            reasons.append(f"Rejected by {latest.printed_name} as {role.label}: {latest.reason}")
        else:
            entries.append(_signoff_entry(role, "approved", latest))
    return entries, reasons


def gate_evaluate(*, release: Release, stage: str) -> GateDecision:
    """Decide whether ``release`` may go to ``stage`` now; see the module docstring.
    Reads only, at a fixed number of queries whatever the data size."""
    plan_stage = evidence_stage(release, stage)
    behind = _not_there_yet(release, stage)
    # The plan's latest report and the plan with it; the plan alone when it has none.
    # The stored HTML and metrics are the bulk of a report row and the gate reads neither.
    report = (
        AcceptanceReport.objects.filter(plan__release=release, plan__stage=plan_stage)
        .select_related("plan")
        .defer("html", "metrics")
        .order_by("-created_at", "-pk")
        .first()
    )
    plan = report.plan if report else Plan.objects.filter(release=release, stage=plan_stage).first()
    if plan is None:
        reason = f"{release} has no {plan_stage} plan, so there is no report to decide on."
        return GateDecision(release, stage, INCONCLUSIVE, [reason, *behind])
    if problem := _report_problem(plan, report):
        building = report is not None and report.status in BUILDING
        return GateDecision(
            release, stage, INCONCLUSIVE, [problem, *behind], report, building=building
        )
    # The fingerprint's inputs also name the required sign-offs and their signers. The
    # report is the plan's latest and it is ready, so it is its newest ready one.
    inputs = plan_inputs(plan)
    known = {"fingerprints": {plan.pk: inputs_fingerprint(inputs)}, "newest": {plan.pk: report.pk}}
    if not report_is_current(report, **known):
        reason = (
            f"The acceptance report of the {plan_stage} plan is stale: results, defects, "
            "criteria or scope changed after it was built; ask for a new one."
        )
        return GateDecision(release, stage, INCONCLUSIVE, [reason, *behind], report)
    reasons = _failed_criteria(report) if report.decision != GO else []
    signoffs, signoff_reasons = _signoffs(_required(inputs["signoff_roles"]), report)
    reasons += signoff_reasons
    decision = NO_GO if reasons else INCONCLUSIVE if behind else GO
    return GateDecision(release, stage, decision, reasons + behind, report, True, signoffs)


# ---------------------------------------------------------------------------- changes


def gate_targets(release: Release) -> list[str]:
    """The stages a release has a gate for: beta and production, or production only for
    a hotfix."""
    if release.kind == Release.Kind.HOTFIX:
        return [Release.Stage.PRODUCTION]
    return list(TARGET_STAGES)


def gate_record(decision: GateDecision) -> bool:
    """Remember ``decision`` for its (release, stage); when it differs from the last one,
    emit a ``gate.changed`` webhook (after commit) and return True.

    A first decision counts as a change unless it is inconclusive, the state a release
    starts in. Concurrent callers race on one conditional write, so a change is
    announced once. An unchanged decision costs one read and writes nothing."""
    state = GateState.objects.filter(release=decision.release, stage=decision.stage).first()
    previous = state.decision if state else None
    if previous == decision.decision:
        return False
    return _gate_change(decision, state)


@transaction.atomic
def _gate_change(decision: GateDecision, state: GateState | None) -> bool:
    release, previous = decision.release, state.decision if state else None
    fields = {
        "decision": decision.decision,
        "reasons": decision.reasons,
        "report": decision.report,
        "changed_at": decision.evaluated_at,
    }
    if state is None:
        try:
            with transaction.atomic():
                GateState.objects.create(release=release, stage=decision.stage, **fields)
        except IntegrityError:
            return False  # someone else recorded the first decision just now
        if decision.decision == INCONCLUSIVE:
            return False
    elif not GateState.objects.filter(pk=state.pk, decision=previous).update(**fields):
        return False  # someone else recorded this change just now
    webhook_emit(
        topic="gate.changed",
        payload={**decision.as_dict(), "previous_decision": previous},
        product=release.product,
    )
    return True


def gate_check(*, release: Release, stage: str) -> GateDecision:
    """Evaluate the gate and record the decision (announcing a change): what the API
    and the ``release_gate`` command answer with."""
    decision = gate_evaluate(release=release, stage=stage)
    gate_record(decision)
    return decision


def gate_refresh(*, release: Release) -> list[GateDecision]:
    """Re-evaluate every gate of ``release`` (beta and production; production only for a
    hotfix), record each decision and emit ``gate.changed`` for each that changed.

    Call it after anything that can move a gate: a report of the release becoming ready
    or failing (the report job), a sign-off recorded, a promotion (``release_promote``
    does). Safe to call any number of times: an unchanged decision emits nothing."""
    return [gate_check(release=release, stage=stage) for stage in gate_targets(release)]
