"""A defect's conversation: comments from its reporter, QA leads and developers, and
the emails that tell the reporter when their defect moves or someone else comments."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.mail import email_send

from ..audit import event_record
from ..models import Defect, DefectComment, DefectStatus
from ..policy import can_comment, policy_require

COMMENT_MAX = 5000
# What an external reporter reads instead of the names of the staff who triage.
TEAM = "The UAT team"


def _name(user, *, shown_to) -> str:
    if shown_to.is_external and user.pk != shown_to.pk:
        return TEAM
    return user.full_name or user.email


def defect_reporter_notify(*, defect: Defect, actor, name: str, context: dict) -> None:
    """Email ``defect``'s reporter the message ``name`` (``defect_status_changed``,
    ``defect_commented``) once the change is committed: not when the reporter made the
    change themself, nor when they opted out (``receives_defect_updates``). A failing
    mail server is logged, never a failed request: the change stands either way."""
    reporter = defect.reported_by
    if reporter.pk == getattr(actor, "pk", None):
        return
    if not (reporter.is_active and reporter.receives_defect_updates and reporter.email):
        return
    context = {
        "reference": defect.reference,
        "title": defect.title,
        "status": DefectStatus(defect.status).label,
        "fixed_in_build": defect.fixed_in_build or "",
        "actor": _name(actor, shown_to=reporter),
        "path": reverse("uat:defect", args=[defect.pk]),
        **context,
    }
    transaction.on_commit(
        lambda: email_send(name=name, context=context, to=[reporter.email]), robust=True
    )


@transaction.atomic
def defect_comment_add(*, defect: Defect, actor, body: str) -> DefectComment:
    """Add ``actor``'s comment to ``defect``'s conversation, audited
    (``defect.commented``); the reporter is emailed when someone else comments."""
    policy_require(can_comment(actor, defect), "comment")
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write a comment first."})
    if len(body) > COMMENT_MAX:
        raise ValidationError({"body": f"A comment is at most {COMMENT_MAX} characters."})
    comment = DefectComment.objects.create(defect=defect, author=actor, body=body)
    event_record(
        actor=actor,
        verb="defect.commented",
        obj=defect,
        after={"comment": comment.pk, "body": body},
    )
    defect_reporter_notify(
        defect=defect, actor=actor, name="defect_commented", context={"body": body}
    )
    return comment
