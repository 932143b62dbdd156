"""Every table that leaves Greenlight: the admin's CSV and XLSX, the API's exports, the
audit CSV, the evidence package and the library in the import format.

Each record type has one ``TableSpec`` here: its columns, with ids that are the header of
the table wherever it goes. Every cell, header included, passes through ``cell()`` on its
way out: the writers take a spec and records, never rows made elsewhere."""

import csv
import datetime as dt
import html
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData
from openpyxl import Workbook

from .downloads import attachment_header
from .models import Case, CaseStep, Product

# A spreadsheet runs a cell that starts with one of these as a formula (or, for tab and
# carriage return, shifts it into one): a tester's "=HYPERLINK(...)" must stay text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str | int | float | Decimal:
    """One value as an exported cell: numbers stay numbers, text that a spreadsheet would
    run as a formula gets a leading apostrophe (the import reader takes it off again)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        # An audit event's before/after: JSON, which starts with a bracket, never a formula.
        return json.dumps(value, default=str, ensure_ascii=False)
    # Display methods may return HTML (a link, say): export its text. Plain text stays as
    # it is, angle brackets and all.
    text = html.unescape(strip_tags(value)) if isinstance(value, SafeData) else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    id: str
    value: Callable[[Any], Any]


def _field(column_id: str, path: str | None = None) -> Column:
    """A column read straight off the record (``path`` may cross relations: "case.key")."""
    return Column(column_id, attrgetter(path or column_id))


@dataclass(frozen=True)
class TableSpec:
    """The columns of one record type; ``title`` names its XLSX sheet."""

    title: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> list[str]:
        return [column.id for column in self.columns]

    def rows(self, records: Iterable) -> Iterator[list]:
        """The header, then each record as a row of guarded cells."""
        yield [cell(column.id) for column in self.columns]
        for record in records:
            yield [cell(column.value(record)) for column in self.columns]


# ---------------------------------------------------------------- the record types

EXECUTIONS = TableSpec(
    "Executions",
    (
        _field("id", "pk"),
        Column("plan", lambda e: str(e.plan)),  # release and stage, as the API names it
        _field("case_key", "case.key"),
        _field("case_version", "case_version.number"),
        _field("tester", "tester.email"),
        _field("cohort", "cohort.name"),
        _field("status"),
        _field("is_latest"),
        _field("retest_of", "retest_of_id"),
        Column("environment", lambda e: e.environment.name if e.environment else ""),
        _field("build"),
        _field("started_at"),
        _field("finished_at"),
        _field("time_spent_seconds"),
        _field("notes"),
        # The evidence package names each execution's folder by its UUID.
        _field("uuid"),
        _field("plan_name", "plan.name"),
    ),
)
DEFECTS = TableSpec(
    "Defects",
    (
        _field("reference"),
        Column("release", lambda d: str(d.release)),
        _field("title"),
        _field("severity"),
        _field("status"),
        _field("found_in"),
        _field("step_position"),
        _field("build"),
        _field("reported_by", "reported_by.email"),
        _field("external_key"),
        _field("external_url"),
        Column("executions", lambda d: "; ".join(str(e.pk) for e in d.executions.all())),
        _field("created_at"),
        _field("resolved_at"),
    ),
)

STEP_RESULTS = TableSpec(
    "Step results",
    (
        _field("execution", "execution_id"),
        _field("execution_uuid", "execution.uuid"),
        _field("position"),
        _field("status"),
        _field("actual_result"),
        _field("recorded_at"),
    ),
)

AUDIT_EVENTS = TableSpec(
    "Audit events",
    (
        _field("time", "created_at"),
        Column("actor", lambda e: e.actor.email if e.actor else "system"),
        _field("verb"),
        _field("object_type", "content_type.model"),
        _field("object", "object_repr"),
        _field("object_id"),
        _field("before"),
        _field("after"),
    ),
)

# Whether a signature is current or stale is decided where the rows are made (the
# evidence package knows which reports are fresh); it sets ``state`` on each sign-off.
SIGNOFFS = TableSpec(
    "Sign-offs",
    (
        _field("report_uuid", "report.uuid"),
        _field("role"),
        _field("printed_name"),
        _field("signer", "signer_id"),
        _field("meaning"),
        _field("decision"),
        _field("reason"),
        _field("comment"),
        _field("signed_at"),
        _field("fingerprint"),
        _field("state"),
    ),
)

# The import format: what ``uat.imports`` reads, so an exported library imports back.
REQUIREMENTS = TableSpec(
    "Requirements",
    (
        _field("requirement_key", "key"),
        _field("title"),
        _field("acceptance_text"),
        _field("criticality"),
    ),
)


class CaseRow(NamedTuple):
    """One row of the cases table: a case with one of its steps (None: it has none)."""

    case: Case
    step: CaseStep | None


def _requirement_keys(row: CaseRow) -> str:
    return "; ".join(sorted(requirement.key for requirement in row.case.requirements.all()))


CASES = TableSpec(
    "Cases",
    (
        _field("case_key", "case.key"),
        _field("title", "case.title"),
        _field("objective", "case.objective"),
        _field("preconditions", "case.preconditions"),
        _field("priority", "case.priority"),
        _field("status", "case.status"),
        Column("requirement_keys", _requirement_keys),
        Column("step", lambda r: r.step.position if r.step else None),
        Column("action", lambda r: r.step.action if r.step else None),
        Column("expected", lambda r: r.step.expected if r.step else None),
    ),
)


def case_rows(cases: QuerySet) -> Iterator[CaseRow]:
    """Each case (by key) once per step, in step order."""
    for case in cases.order_by("key").prefetch_related("steps", "requirements"):
        steps = sorted(case.steps.all(), key=lambda s: s.position)
        if not steps:
            yield CaseRow(case, None)
        for step in steps:
            yield CaseRow(case, step)


# ---------------------------------------------------------------- the writers


class _Echo:
    """Hands each row the csv writer formats straight back, so rows stream out."""

    def write(self, value: str) -> str:
        return value


def csv_lines(spec: TableSpec, records: Iterable) -> Iterator[str]:
    """The table as CSV, a line at a time."""
    writer = csv.writer(_Echo())
    for row in spec.rows(records):
        yield writer.writerow(row)


def csv_bytes(spec: TableSpec, records: Iterable) -> bytes:
    return "".join(csv_lines(spec, records)).encode("utf-8")


def csv_response(spec: TableSpec, records: Iterable, *name: str) -> StreamingHttpResponse:
    """The table streamed as a CSV attachment named from the parts of ``name`` (pass
    ``queryset.iterator(chunk_size=...)`` so rows are read as they are sent)."""
    return StreamingHttpResponse(
        csv_lines(spec, records),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment_header(*name, ext="csv")},
    )


def xlsx_bytes(sheets: Iterable[tuple[TableSpec, Iterable]]) -> bytes:
    """A workbook with a sheet per (spec, records), named by the spec's title."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec, records in sheets:
        sheet = workbook.create_sheet(spec.title)
        for row in spec.rows(records):
            sheet.append(row)
            for written in sheet[sheet.max_row]:
                if isinstance(written.value, str):
                    written.data_type = "s"  # text stays text, never a formula
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_file(spec: TableSpec, records: Iterable, fmt: str) -> bytes:
    """One table as ``fmt`` ("csv" or "xlsx")."""
    if fmt == "xlsx":
        return xlsx_bytes([(spec, records)])
    return csv_bytes(spec, records)


# ---------------------------------------------------------------- the library


def library_file(
    product: Product | None, fmt: str, *, template: bool = False, cases: QuerySet | None = None
) -> bytes:
    """The product's library in the import format (only ``cases`` of it, when given, with
    all its requirements in XLSX); an empty template when asked."""
    if template:
        requirements, rows = [], []
    else:
        requirements = product.requirements.order_by("key")
        rows = case_rows(product.cases.all() if cases is None else cases)
    if fmt == "xlsx":
        return xlsx_bytes([(REQUIREMENTS, requirements), (CASES, rows)])
    return csv_bytes(CASES, rows)


def requirements_file(product: Product, fmt: str) -> bytes:
    return table_file(REQUIREMENTS, product.requirements.order_by("key"), fmt)
