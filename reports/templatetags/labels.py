"""The one way a template prints a stored value of a fixed vocabulary (a status, a
severity, a kind): ``{{ value|label:"defect_status" }}`` gives the label of the model's
choices ("In progress", never ``in_progress``). The values come as stored in a report's
metrics or from a ``.values()`` row, where ``get_FOO_display`` is not at hand."""

from django import template
from django.db.models import TextChoices

from reports.metrics import CoverageVerdict
from reports.models import ReportDecision, ReportStatus
from uat.models.catalog import CaseStatus, Priority, ReleaseStage
from uat.models.defects import DefectStatus, Severity, WaiverState
from uat.models.execution import ExecutionStatus
from uat.models.planning import CohortKind, PlanStage, PlanStatus, SignoffRole

register = template.Library()

VOCABULARIES: dict[str, type[TextChoices]] = {
    "case_status": CaseStatus,
    "cohort_kind": CohortKind,
    "coverage": CoverageVerdict,
    "decision": ReportDecision,
    "defect_status": DefectStatus,
    "execution_status": ExecutionStatus,
    "plan_stage": PlanStage,
    "plan_status": PlanStatus,
    "priority": Priority,
    "release_stage": ReleaseStage,
    "report_status": ReportStatus,
    "severity": Severity,
    "signoff_role": SignoffRole,
    "waiver_state": WaiverState,
}


def label_of(value, vocabulary: str) -> str:
    """The label of ``value`` in ``vocabulary``; an unknown value as it is (a report
    built before a vocabulary changed still prints)."""
    choices = VOCABULARIES[vocabulary]
    try:
        return choices(value).label
    except ValueError:
        return "" if value is None else str(value)


@register.filter
def label(value, vocabulary: str) -> str:
    return label_of(value, vocabulary)
