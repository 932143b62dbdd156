"""Exporting the library (in the import format), executions and defects as CSV or XLSX."""

from django.db.models import QuerySet

from .imports import CASE_COLUMNS, REQUIREMENT_COLUMNS
from .models import Product
from .spreadsheets import csv_bytes, xlsx_bytes

EXECUTION_COLUMNS = [
    "id",
    "plan",
    "case_key",
    "case_version",
    "tester",
    "cohort",
    "status",
    "is_latest",
    "retest_of",
    "environment",
    "build",
    "started_at",
    "finished_at",
    "time_spent_seconds",
    "notes",
]
DEFECT_COLUMNS = [
    "reference",
    "release",
    "title",
    "severity",
    "status",
    "found_in",
    "step_position",
    "build",
    "reported_by",
    "external_key",
    "external_url",
    "executions",
    "created_at",
    "resolved_at",
]


def requirement_rows(product: Product) -> list[list]:
    return [
        [r.key, r.title, r.acceptance_text, r.criticality]
        for r in product.requirements.order_by("key")
    ]


def case_rows(product: Product, cases: QuerySet | None = None) -> list[list]:
    """The product's cases (or only ``cases``, when given) in the import format."""
    rows = []
    cases = (product.cases.all() if cases is None else cases).order_by("key")
    cases = cases.prefetch_related("steps", "requirements")
    for case in cases:
        head = [
            case.key,
            case.title,
            case.objective,
            case.preconditions,
            case.priority,
            case.status,
            "; ".join(sorted(r.key for r in case.requirements.all())),
        ]
        steps = sorted(case.steps.all(), key=lambda s: s.position)
        if not steps:
            rows.append([*head, "", "", ""])
        for step in steps:
            rows.append([*head, step.position, step.action, step.expected])
    return rows


def library_file(
    product: Product, fmt: str, *, template: bool = False, cases: QuerySet | None = None
) -> bytes:
    """The product's library in the import format (only ``cases`` of it, when given, with
    all its requirements in XLSX); an empty template when asked."""
    requirements = [] if template else requirement_rows(product)
    cases = [] if template else case_rows(product, cases)
    if fmt == "xlsx":
        return xlsx_bytes(
            {"Requirements": (REQUIREMENT_COLUMNS, requirements), "Cases": (CASE_COLUMNS, cases)}
        )
    return csv_bytes(CASE_COLUMNS, cases)


def requirements_file(product: Product, fmt: str) -> bytes:
    rows = requirement_rows(product)
    if fmt == "xlsx":
        return xlsx_bytes({"Requirements": (REQUIREMENT_COLUMNS, rows)})
    return csv_bytes(REQUIREMENT_COLUMNS, rows)


def execution_rows(executions: QuerySet) -> list[list]:
    return [
        [
            e.pk,
            str(e.plan),
            e.case.key,
            e.case_version.number,
            e.tester.email,
            e.cohort.name,
            e.status,
            e.is_latest,
            e.retest_of_id,
            e.environment.name if e.environment else "",
            e.build,
            e.started_at,
            e.finished_at,
            e.time_spent_seconds,
            e.notes,
        ]
        for e in executions
    ]


def defect_rows(defects: QuerySet) -> list[list]:
    return [
        [
            d.reference,
            str(d.release),
            d.title,
            d.severity,
            d.status,
            d.found_in,
            d.step_position,
            d.build,
            d.reported_by.email,
            d.external_key,
            d.external_url,
            "; ".join(str(e.pk) for e in d.executions.all()),
            d.created_at,
            d.resolved_at,
        ]
        for d in defects
    ]


def table_file(title: str, header: list[str], rows: list[list], fmt: str) -> bytes:
    if fmt == "xlsx":
        return xlsx_bytes({title: (header, rows)})
    return csv_bytes(header, rows)
