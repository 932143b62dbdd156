"""The tables that leave Greenlight: one guard on every cell, whichever way the table goes
(admin CSV and XLSX, API export, audit CSV, evidence package), the same column ids
wherever a record type goes, and a library that imports back unchanged."""

import csv
import datetime as dt
import io
import zipfile
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from openpyxl import load_workbook
from rest_framework.test import APIClient

from reports.evidence_packages import evidence_package_build_now
from reports.models import EvidencePackage
from tests.admin_support import post_action
from tests.factories import (
    CaseFactory,
    DefectFactory,
    EventFactory,
    ExecutionFactory,
    ProductFactory,
    RequirementFactory,
    StepResultFactory,
)
from uat import tables
from uat.imports import library_import
from uat.models import Defect, Event, Execution

pytestmark = pytest.mark.django_db

TITLE = "=1+2"
NOTES = '=HYPERLINK("http://x","y")'
ACTUAL = "@SUM(A1)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("<b>plain</b>", "<b>plain</b>"),
        (mark_safe('<a href="/x">=evil &amp; co</a>'), "'=evil & co"),
        (3, 3),
        (-2, -2),
        (Decimal("1.50"), Decimal("1.50")),
        (True, "yes"),
        (False, "no"),
        (None, ""),
        (dt.date(2025, 3, 1), "2025-03-01"),
        ({"title": "=1+2"}, '{"title": "=1+2"}'),
    ],
)
def test_a_cell_keeps_numbers_and_makes_formulas_text(value, expected):
    assert tables.cell(value) == expected


def test_a_time_is_local_to_the_second():
    moment = dt.datetime(2025, 3, 1, 12, 30, 15, 999, tzinfo=dt.UTC)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        assert tables.cell(moment) == "2025-03-01T13:30:15+01:00"


def test_every_record_type_has_distinct_snake_case_ids():
    specs = [v for v in vars(tables).values() if isinstance(v, tables.TableSpec)]
    assert len(specs) == 7
    for spec in specs:
        assert len(set(spec.header)) == len(spec.header), spec.title
        assert all(id.isidentifier() and id == id.lower() for id in spec.header), spec.title


@pytest.fixture
def tricky(lead):
    """A defect, an execution and a step result whose text a spreadsheet would run."""
    execution = ExecutionFactory(failed=True, notes=NOTES)
    StepResultFactory(execution=execution, status="failed", actual_result=ACTUAL)
    defect = DefectFactory(release=execution.plan.release, title=TITLE)
    defect.executions.add(execution)
    EventFactory(release=execution.plan.release, actor=lead, object_repr=TITLE)
    return execution


def _csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def _xlsx(content: bytes) -> list[dict]:
    [sheet] = load_workbook(io.BytesIO(content)).worksheets
    header, *rows = sheet.iter_rows()
    for row in rows:
        assert all(c.data_type != "f" for c in row)  # a formula would be type "f"
    return [{h.value: c.value for h, c in zip(header, row, strict=True)} for row in rows]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_api_export_keeps_formulas_text(tricky, lead, fmt):
    api = APIClient()
    api.force_authenticate(user=lead)
    read = _csv if fmt == "csv" else _xlsx
    [execution] = read(api.get("/api/v1/executions/export/", {"format": fmt}).content)
    [defect] = read(api.get("/api/v1/defects/export/", {"format": fmt}).content)
    assert execution["notes"] == "'" + NOTES
    assert defect["title"] == "'" + TITLE
    assert list(execution) == tables.EXECUTIONS.header
    assert list(defect) == tables.DEFECTS.header


def test_the_admin_exports_keep_formulas_text(tricky, client, lead):
    client.force_login(lead)
    defect = Defect.objects.get()
    [row] = _csv(b"".join(post_action(client, Defect, "export_as_csv", [defect]).streaming_content))
    assert row["title"] == "'" + TITLE
    event = Event.objects.get(object_repr=TITLE)
    [row] = _csv(b"".join(post_action(client, Event, "export_as_csv", [event]).streaming_content))
    assert "'" + TITLE in row.values()
    [row] = _xlsx(post_action(client, Defect, "export_defects_xlsx", [defect]).content)
    assert row["title"] == "'" + TITLE
    [row] = _xlsx(post_action(client, Execution, "export_executions_xlsx", [tricky]).content)
    assert row["notes"] == "'" + NOTES
    assert list(row) == tables.EXECUTIONS.header


def test_the_audit_csv_is_the_evidence_packages_audit_table(tricky, client, lead):
    release = tricky.plan.release
    client.force_login(lead)
    response = client.get(reverse("uat:release_audit", args=[release.pk]), {"format": "csv"})
    audit = _csv(b"".join(response.streaming_content))
    assert [row["object"] for row in audit] == ["'" + TITLE]
    package = EvidencePackage.objects.create(release=release, requested_by=lead)
    evidence_package_build_now(package_id=package.pk)
    archive = zipfile.ZipFile(EvidencePackage.objects.get().file)
    events = _csv(archive.read("audit-events.csv"))
    assert list(audit[0]) == list(events[0]) == tables.AUDIT_EVENTS.header
    assert audit == events


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_library_imports_back_unchanged(lead, fmt):
    source = ProductFactory()
    requirement = RequirementFactory(product=source, key="R-1", title="=R", acceptance_text="+a")
    case = CaseFactory(product=source, key="C-1", title="@T", objective="-o", preconditions="=p")
    case.requirements.add(requirement)
    case.steps.update(action="=SUM(A1)", expected="-1")
    CaseFactory(product=source, key="C-2", draft=True, steps=0, objective="=x")
    files = [(f"cases.{fmt}", tables.library_file(source, fmt))]
    if fmt == "csv":
        files.insert(0, ("requirements.csv", tables.requirements_file(source, "csv")))
    target = ProductFactory()
    library_import(product=target, files=files, actor=lead)

    def library(product):
        return [
            (c.key, c.content(), c.status, [r.key for r in c.requirements.all()])
            for c in product.cases.order_by("key")
        ] + [(r.key, r.title, r.acceptance_text, r.criticality) for r in product.requirements.all()]

    assert library(target) == library(source)
    if fmt == "csv":  # a workbook's bytes hold the time it was written
        assert tables.library_file(target, fmt) == tables.library_file(source, fmt)
