"""The state changes of UAT. One function per change; views, API actions, admin actions,
commands and tasks all call these. Each runs in one transaction, writes its audit event in
it, and refuses invalid input with a ``ValidationError`` whose message a user can act on.
"""

from .assignments import (
    AssignmentPreview,
    AssignmentPreviewChanged,
    execution_reassign,
    execution_unassign,
    plan_assign,
    plan_assign_preview,
)
from .cases import case_version_record
from .defect_comments import defect_comment_add
from .defects import (
    defect_record,
    defect_report,
    defect_report_escaped,
    defect_retests_queue,
    defect_transition,
)
from .drafts import execution_drafts_save
from .errors import ConcurrentEditError
from .executions import (
    evidence_attach,
    execution_record,
    execution_step_record,
    execution_steps_pass_remaining,
)
from .invitations import (
    invitation_accept,
    invitation_find,
    invitation_link,
    invitation_problem,
    invitation_send,
)
from .plans import plan_clone
from .scope import plan_scope_change
from .signers import signoff_role_configure, signoff_role_remove
from .waivers import waiver_expiry_problem, waiver_grant, waiver_revoke

__all__ = [
    "AssignmentPreview",
    "AssignmentPreviewChanged",
    "ConcurrentEditError",
    "case_version_record",
    "defect_comment_add",
    "defect_record",
    "defect_report",
    "defect_report_escaped",
    "defect_retests_queue",
    "defect_transition",
    "evidence_attach",
    "execution_drafts_save",
    "execution_reassign",
    "execution_record",
    "execution_step_record",
    "execution_steps_pass_remaining",
    "execution_unassign",
    "invitation_accept",
    "invitation_find",
    "invitation_link",
    "invitation_problem",
    "invitation_send",
    "plan_assign",
    "plan_assign_preview",
    "plan_clone",
    "plan_scope_change",
    "signoff_role_configure",
    "signoff_role_remove",
    "waiver_expiry_problem",
    "waiver_grant",
    "waiver_revoke",
]
