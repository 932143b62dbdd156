"""Fetch what a page shows for the user asking, or refuse: 404 for what they may not
see (so a stranger cannot tell what exists), 403 for what they see but may not change."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from ..access import is_pipeline_account, sees_everything
from ..models import Defect, Execution
from ..policy import can_record, policy_require


def require_member(user) -> None:
    """Personal pages are for people with a role in UAT; an account without one gets 404,
    and so does a release pipeline's machine account, which has no work of its own."""
    if not (user.is_superuser or user.groups.exists()) or is_pipeline_account(user):
        raise Http404


def require_lead(user) -> None:
    if not sees_everything(user):
        raise Http404


def execution_for(user, uuid) -> Execution:
    return get_object_or_404(Execution.objects.visible_to(user).with_details(), uuid=uuid)


def own_execution_for(user, uuid) -> Execution:
    """An execution the user may record on (``policy.can_record``); 403 for one they
    only see."""
    execution = execution_for(user, uuid)
    policy_require(can_record(user, execution), "record")
    return execution


def defect_for(user, pk: int) -> Defect:
    return get_object_or_404(Defect.objects.visible_to(user).with_details(), pk=pk)
