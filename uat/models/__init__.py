from .audit import Event
from .catalog import (
    Case,
    CaseStep,
    CaseVersion,
    Environment,
    Priority,
    Product,
    Release,
    Requirement,
)
from .defects import (
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    TRANSITIONS,
    Defect,
    DefectStatus,
    Severity,
    Waiver,
)
from .execution import (
    FINAL_STATUSES,
    Evidence,
    Execution,
    ExecutionStatus,
    ExecutionTally,
    StepResult,
    StepStatus,
)
from .planning import Cohort, CohortMembership, Plan, PlanSignoffRole, SignoffRole
from .signoff import Promotion, SignOff

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "RESOLVED_STATUSES",
    "TRANSITIONS",
    "Case",
    "CaseStep",
    "CaseVersion",
    "Cohort",
    "CohortMembership",
    "Defect",
    "DefectStatus",
    "Environment",
    "Event",
    "Evidence",
    "Execution",
    "ExecutionStatus",
    "ExecutionTally",
    "Plan",
    "PlanSignoffRole",
    "Priority",
    "Product",
    "Promotion",
    "Release",
    "Requirement",
    "Severity",
    "SignOff",
    "SignoffRole",
    "StepResult",
    "StepStatus",
    "Waiver",
]
