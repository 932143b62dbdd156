"""Importing and exporting the library, executions and defects."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests.factories import CaseFactory, ProductFactory, RequirementFactory
from uat.imports import LibraryImportError, library_import
from uat.models import Case, Event, Requirement

pytestmark = pytest.mark.django_db

HEADER = (
    "case_key,title,objective,preconditions,priority,status,requirement_keys,step,action,expected\n"
)
CASES = HEADER + (
    "CRM-C001,Create a lead,Sales can add leads,Signed in,high,ready,CRM-R01,"
    "1,Open Leads,The list shows\n"
    "CRM-C001,,,,,,,2,Click New,A form opens\n"
    "CRM-C002,Draft idea,,,low,draft,,,,\n"
)
REQUIREMENTS = (
    "requirement_key,title,acceptance_text,criticality\nCRM-R01,Leads,Sales add leads,critical\n"
)


def files(*pairs):
    return [(name, text.encode()) for name, text in pairs]


def test_a_library_imports_and_reimporting_changes_nothing(lead):
    product = ProductFactory()
    given = files(("req.csv", REQUIREMENTS), ("cases.csv", CASES))
    result = library_import(product=product, files=given, actor=lead)
    assert result.created == {"requirements": 1, "cases": 2}
    case = Case.objects.get(key="CRM-C001")
    assert case.version == 1 and case.priority == "high"
    assert [(s.position, s.action) for s in case.steps.all()] == [
        (1, "Open Leads"),
        (2, "Click New"),
    ]
    assert [r.key for r in case.requirements.all()] == ["CRM-R01"]
    events = Event.objects.count()
    again = library_import(product=product, files=given, actor=lead)
    assert again.created == {"requirements": 0, "cases": 0}
    assert again.updated == {"requirements": 0, "cases": 0}
    assert Case.objects.get(key="CRM-C001").version == 1
    assert Event.objects.count() == events + 1  # only the import's own summary
    changed = CASES.replace("Click New", "Click New lead")
    result = library_import(product=product, files=files(("cases.csv", changed)), actor=lead)
    assert result.updated["cases"] == 1
    assert Case.objects.get(key="CRM-C001").version == 2


def test_every_problem_is_reported_with_row_and_column_and_nothing_is_imported(lead):
    product = ProductFactory()
    bad = HEADER + (
        "CRM-C001,,,,urgent,ready,CRM-R99,1,Open,\n"
        "CRM-C001,,,,,,,1,Again,Twice\n"
        "bad key!,Title,,,,,,x,a,b\n"
        "CRM-C003,Ready but empty,,,,ready,,,,\n"
    )
    with pytest.raises(LibraryImportError) as caught:
        library_import(product=product, files=files(("cases.csv", bad)), actor=lead)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert {
        (2, "title"),
        (2, "priority"),
        (2, "expected"),
        (2, "requirement_keys"),
        (3, "step"),
        (4, "case_key"),
        (4, "step"),
        (5, "step"),
    } <= found
    assert not Case.objects.exists() and not Requirement.objects.exists()


def test_a_wrong_header_or_an_unreadable_file_is_reported(lead):
    product = ProductFactory()
    with pytest.raises(LibraryImportError) as caught:
        library_import(
            product=product,
            files=[("x.csv", b"case_key,colour\nA,red\n"), ("y.xlsx", b"PK\x03\x04broken")],
            actor=lead,
        )
    messages = [str(p) for p in caught.value.problems]
    assert any("column colour" in m and "Unknown column" in m for m in messages)
    assert any("column title" in m and "missing" in m for m in messages)
    assert any("y.xlsx" in m and "not a readable XLSX" in m for m in messages)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_library_imports_back_unchanged(as_user, lead, fmt):
    source = ProductFactory()
    requirement = RequirementFactory(product=source, key="R-1", criticality="high")
    tricky = CaseFactory(product=source, key="C-1", title="=SUM(A1) is text", critical=True)
    tricky.requirements.add(requirement)
    CaseFactory(product=source, key="C-2", draft=True, steps=0, preconditions="- signed in")
    api = as_user(lead)
    exported = api.get("/api/v1/cases/export/", {"product": source.slug, "format": fmt})
    assert exported.status_code == 200
    uploads = [SimpleUploadedFile(f"cases.{fmt}", exported.content)]
    if fmt == "csv":
        reqs = api.get("/api/v1/requirements/export/", {"product": source.slug, "format": "csv"})
        uploads.insert(0, SimpleUploadedFile("requirements.csv", reqs.content))
    target = ProductFactory()
    response = api.post(
        "/api/v1/cases/import/", {"product": target.slug, "file": uploads}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == {"requirements": 1, "cases": 2}

    def library(product):
        return [
            (c.key, c.content(), c.status, [r.key for r in c.requirements.all()])
            for c in product.cases.order_by("key")
        ] + [(r.key, r.title, r.acceptance_text, r.criticality) for r in product.requirements.all()]

    assert library(target) == library(source)
    again = api.get("/api/v1/cases/export/", {"product": target.slug, "format": fmt})
    if fmt == "csv":
        assert again.content == exported.content


def test_an_import_with_problems_is_a_400_listing_them(as_user, lead):
    product = ProductFactory()
    upload = SimpleUploadedFile("cases.csv", (HEADER + "C-1,,,,,,,1,a,b\n").encode())
    response = as_user(lead).post(
        "/api/v1/cases/import/", {"product": product.slug, "file": [upload]}, format="multipart"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["problems"] == [
        {"source": "cases.csv", "row": 2, "column": "title", "message": "This cell is required."}
    ]


@pytest.mark.parametrize("persona", ["tester", "stakeholder"])
def test_only_qa_leads_import(request, as_user, persona):
    product = ProductFactory()
    upload = SimpleUploadedFile("cases.csv", CASES.encode())
    response = as_user(request.getfixturevalue(persona)).post(
        "/api/v1/cases/import/", {"product": product.slug, "file": [upload]}, format="multipart"
    )
    assert response.status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_has_the_import_columns(as_user, lead, fmt):
    response = as_user(lead).get("/api/v1/cases/import-template/", {"format": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        assert response.content.decode() == HEADER.replace("\n", "\r\n")
    else:
        workbook = load_workbook(io.BytesIO(response.content))
        assert workbook.sheetnames == ["Requirements", "Cases"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("name", ["executions", "defects"])
def test_executions_and_defects_export_what_you_see(world, as_user, tester, fmt, name):
    response = as_user(tester).get(f"/api/v1/{name}/export/", {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    if fmt == "csv":
        lines = response.content.decode().strip().splitlines()
        assert len(lines) == 2  # the header and the tester's one row
        assert str(world["other"].pk) not in lines[1].split(",")[0]


def test_the_command_imports_and_reports_problems(tmp_path, lead):
    product = ProductFactory(slug="crm")
    (tmp_path / "req.csv").write_text(REQUIREMENTS)
    (tmp_path / "cases.csv").write_text(CASES)
    out = io.StringIO()
    call_command(
        "import_cases", tmp_path / "req.csv", tmp_path / "cases.csv", product="crm", stdout=out
    )
    assert "cases: 2 created" in out.getvalue()
    (tmp_path / "bad.csv").write_text(HEADER + "C-1,,,,,,,1,a,b\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_cases", tmp_path / "bad.csv", product="crm", stderr=err)
    assert "bad.csv, row 2, column title" in err.getvalue()
    assert product.cases.count() == 2
