"""Promotions: a release moved to its next stage when the gate says go, with the
decision it relied on."""

import json

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from uat.audit import event_record
from uat.models import Release
from uat.policy import can_promote, policy_require

from .gate import gate_evaluate, gate_refresh
from .models import Promotion


class GateClosedError(ValidationError):
    """The gate did not say go: the promotion was refused, for ``decision.reasons``."""

    def __init__(self, decision):
        self.decision = decision
        super().__init__(
            [f"The gate says {decision.decision}.", *decision.reasons], code="gate_closed"
        )


@transaction.atomic
def release_promote(*, release: Release, stage: str, build: str, actor) -> Promotion:
    """Move a release to its next stage (beta or production) when the gate says go now.

    The release row is locked and the gate evaluated again inside the transaction, so
    the decision recorded on the ``Promotion`` is the one it relied on. Raises
    ``GateClosedError`` (a ``ValidationError`` carrying the decision and its reasons) when
    the gate says no-go or inconclusive, and a plain ``ValidationError`` for a stage that
    is not next for the release or a missing build. Announces the gates that moved."""
    policy_require(can_promote(actor, release), "promote")
    release = Release.objects.select_for_update().select_related("product").get(pk=release.pk)
    build = build.strip()
    if not build:
        raise ValidationError({"build": "Say which build is being promoted."})
    if not release.can_move_to(stage):
        allowed = " or ".join(release.next_stages) or "no further stage"
        raise ValidationError(
            {"stage": f"{release} is in {release.stage}; it can move to {allowed}, not {stage}."}
        )
    decision = gate_evaluate(release=release, stage=stage)
    if not decision.is_go:
        raise GateClosedError(decision)
    from_stage = release.stage
    promotion = Promotion.objects.create(
        release=release,
        from_stage=from_stage,
        to_stage=stage,
        build=build,
        promoted_by=actor,
        report=decision.report,
        decision=json.loads(json.dumps(decision.as_dict(), cls=DjangoJSONEncoder)),
    )
    release.stage = stage
    if stage == Release.Stage.PRODUCTION:
        release.released_at = promotion.created_at
    release.save(update_fields=["stage", "released_at"])
    event_record(
        actor=actor,
        verb="release.promoted",
        obj=release,
        before={"stage": from_stage},
        after={
            "stage": stage,
            "build": build,
            "promotion": promotion.pk,
            "report": str(decision.report.uuid),
            "decision": decision.decision,
        },
    )
    gate_refresh(release=release)
    return promotion
