"""The library import page of the admin, its template download, and the spreadsheet
export actions: what a QA lead uploads goes through the same service as the API, all or
nothing, and what the admin exports imports back unchanged."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests.admin_support import admin_url, post_action, shown_messages
from tests.factories import (
    CaseFactory,
    DefectFactory,
    ExecutionFactory,
    ProductFactory,
    RequirementFactory,
    UserFactory,
)
from uat.admin.library import IMPORT_MAX_BYTES
from uat.models import Case, Defect, Event, Execution, Requirement
from uat.services import case_version_record
from uat.spreadsheets import XLSX_TYPE

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:uat_case_import")
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


@pytest.fixture
def lead_client(client, lead, warm_caches):
    client.force_login(lead)
    return client


def upload(name: str, content: bytes | str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def workbook(sheets: dict[str, str]) -> bytes:
    """An XLSX workbook with a sheet per CSV text."""
    book = Workbook()
    book.remove(book.active)
    for title, text in sheets.items():
        sheet = book.create_sheet(title)
        for line in text.strip().splitlines():
            sheet.append(line.split(","))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def post_import(client, product, cases, requirements=None, **data):
    files = {"cases_file": cases}
    if requirements is not None:
        files["requirements_file"] = requirements
    return client.post(IMPORT_URL, {"product": product.pk, **files, **data})


def problems(response) -> set[tuple[str, int, str]]:
    return {(p.source, p.row, p.column) for p in response.context["problems"]}


def test_a_lead_imports_csv_files_and_sees_the_counts(lead_client, lead):
    product = ProductFactory(name="Acme CRM")
    response = post_import(
        lead_client, product, upload("cases.csv", CASES), upload("req.csv", REQUIREMENTS)
    )
    assert response.status_code == 302
    assert response["Location"] == (
        admin_url(Case, "changelist") + f"?product__id__exact={product.pk}"
    )
    [message] = shown_messages(response)
    assert "requirements: 1 created" in message and "cases: 2 created" in message
    case = Case.objects.get(product=product, key="CRM-C001")
    assert case.version == 1 and case.versions.count() == 1
    assert [(s.position, s.action) for s in case.steps.all()] == [
        (1, "Open Leads"),
        (2, "Click New"),
    ]
    assert [r.key for r in case.requirements.all()] == ["CRM-R01"]
    verbs = list(Event.objects.filter(actor=lead).values_list("verb", flat=True))
    assert verbs.count("case.created") == 2 and verbs.count("requirement.created") == 1
    summary = Event.objects.for_object(product).get(verb="product.library_imported")
    assert summary.actor == lead
    assert summary.after["created"] == {"requirements": 1, "cases": 2}


def test_a_lead_imports_an_xlsx_workbook_and_reimporting_updates_by_key(lead_client):
    product = ProductFactory()
    book = workbook({"Requirements": REQUIREMENTS, "Cases": CASES})
    assert post_import(lead_client, product, upload("library.xlsx", book)).status_code == 302
    assert product.cases.count() == 2 and product.requirements.count() == 1

    again = post_import(lead_client, product, upload("library.xlsx", book))
    assert "cases: 0 created, 0 updated, 2 unchanged" in shown_messages(again)[-1]
    changed = workbook(
        {"Requirements": REQUIREMENTS, "Cases": CASES.replace("Click New", "Click New lead")}
    )
    response = post_import(lead_client, product, upload("library.xlsx", changed))
    assert "cases: 0 created, 1 updated, 1 unchanged" in shown_messages(response)[-1]
    assert product.cases.count() == 2 and product.requirements.count() == 1
    case = product.cases.get(key="CRM-C001")
    assert case.version == 2
    assert case.steps.get(position=2).action == "Click New lead"


def test_every_problem_is_listed_with_file_row_and_column_and_nothing_is_imported(lead_client):
    product = ProductFactory()
    bad = HEADER + (
        "CRM-C001,,,,urgent,ready,CRM-R99,1,Open,\n"
        "CRM-C001,,,,,,,1,Again,Twice\n"
        "bad key!,Title,,,,,,x,a,b\n"
    )
    response = post_import(
        lead_client, product, upload("cases.csv", bad), upload("req.csv", REQUIREMENTS)
    )
    assert response.status_code == 200
    assert {
        ("cases.csv", 2, "title"),
        ("cases.csv", 2, "priority"),
        ("cases.csv", 2, "expected"),
        ("cases.csv", 2, "requirement_keys"),
        ("cases.csv", 3, "step"),
        ("cases.csv", 4, "case_key"),
        ("cases.csv", 4, "step"),
    } <= problems(response)
    page = response.content.decode()
    assert 'id="import-problems"' in page and "nothing was imported" in page
    assert "Choose one of: critical, high, medium, low." in page
    assert not Case.objects.exists() and not Requirement.objects.exists()
    assert not Event.objects.exists()


def test_only_checking_the_files_imports_nothing(lead_client):
    product = ProductFactory()
    response = post_import(
        lead_client,
        product,
        upload("cases.csv", CASES),
        upload("req.csv", REQUIREMENTS),
        validate_only="on",
    )
    assert response.status_code == 200
    assert response.context["checked"] and not response.context["problems"]
    assert "No problems found" in response.content.decode()
    assert not Case.objects.exists() and not Event.objects.exists()

    response = post_import(lead_client, product, upload("cases.csv", CASES), validate_only="on")
    assert problems(response) == {("cases.csv", 2, "requirement_keys")}
    assert not response.context["checked"]


@pytest.mark.parametrize(
    ("name", "content", "field", "message"),
    [
        ("cases.txt", CASES, "cases_file", "Choose a .csv or .xlsx file."),
        ("cases.csv", "", "cases_file", "The submitted file is empty."),
    ],
)
def test_a_wrong_or_empty_file_is_a_form_error(lead_client, name, content, field, message):
    response = post_import(lead_client, ProductFactory(), upload(name, content))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not Case.objects.exists()


def test_a_file_over_the_limit_is_refused_unread(lead_client):
    huge = upload("cases.csv", HEADER + "x" * IMPORT_MAX_BYTES)
    response = post_import(lead_client, ProductFactory(), huge)
    assert response.status_code == 200
    assert "larger than 5 MB" in response.context["form"].errors["cases_file"][0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cases.xlsx", b"PK\x03\x04 not really a workbook", "not a readable XLSX workbook"),
        ("cases.xlsx", b"plain text", "not a readable XLSX workbook"),
        ("cases.csv", CASES.encode("utf-16"), "not UTF-8 text"),
        ("cases.csv", "case_key,title\nC-1,Caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_an_unreadable_file_is_a_problem_not_an_error_page(lead_client, name, content, message):
    response = post_import(lead_client, ProductFactory(), upload(name, content))
    assert response.status_code == 200
    [problem] = response.context["problems"]
    assert problem.source == name and message in problem.message
    assert message in response.content.decode()
    assert not Case.objects.exists()


def test_a_missing_product_is_a_form_error(lead_client):
    response = lead_client.post(IMPORT_URL, {"cases_file": upload("cases.csv", CASES)})
    assert response.status_code == 200
    assert "product" in response.context["form"].errors


# ------------------------------------------------------------------------ who may


@pytest.mark.parametrize("person", ["tester", "beta_tester", "stakeholder", "outsider"])
@pytest.mark.parametrize(
    "url", [IMPORT_URL, reverse("admin:uat_case_import_template", args=["csv"])]
)
def test_people_without_staff_access_are_sent_to_log_in(client, request, person, url):
    client.force_login(request.getfixturevalue(person))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    response = client.post(IMPORT_URL, {"product": ProductFactory().pk})
    assert response.status_code == 302
    assert not Case.objects.exists()


def test_staff_who_may_not_add_and_change_cases_are_refused(client):
    client.force_login(UserFactory(staff=True))
    assert client.get(IMPORT_URL).status_code == 403
    response = post_import(client, ProductFactory(), upload("cases.csv", CASES))
    assert response.status_code == 403
    template = reverse("admin:uat_case_import_template", args=["csv"])
    assert client.get(template).status_code == 403
    assert not Case.objects.exists()


def test_the_changelist_links_to_the_import_page_and_the_templates(lead_client):
    page = lead_client.get(admin_url(Case, "changelist")).content.decode()
    assert f'href="{IMPORT_URL}"' in page
    assert f'href="{reverse("admin:uat_case_import_template", args=["xlsx"])}"' in page


def test_the_import_page_runs_a_fixed_number_of_queries(lead_client, django_assert_num_queries):
    ProductFactory.create_batch(3)
    # The session, the user and their permissions, then the products to choose among.
    with django_assert_num_queries(5):
        response = lead_client.get(IMPORT_URL)
    assert response.status_code == 200
    ProductFactory.create_batch(5)
    with django_assert_num_queries(5):
        response = lead_client.get(IMPORT_URL)
    assert len(response.context["form"].fields["product"].choices) == 9  # and the blank


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_downloads_with_the_import_columns(lead_client, fmt):
    response = lead_client.get(reverse("admin:uat_case_import_template", args=[fmt]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="greenlight-import.{fmt}"'
    if fmt == "csv":
        assert response["Content-Type"].startswith("text/csv")
        assert response.content.decode() == HEADER.replace("\n", "\r\n")
    else:
        assert response["Content-Type"] == XLSX_TYPE
        book = load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == ["Requirements", "Cases"]
    assert lead_client.get(reverse("admin:uat_case_import_template", args=["pdf"])).status_code == (
        404
    )


# ------------------------------------------------------------------------ export


def _library(product) -> list:
    return [
        (c.key, c.content(), c.status, [r.key for r in c.requirements.all()])
        for c in product.cases.order_by("key")
    ] + [(r.key, r.title, r.acceptance_text, r.criticality) for r in product.requirements.all()]


@pytest.fixture
def source():
    product = ProductFactory()
    requirement = RequirementFactory(product=product, key="R-1", criticality="high")
    tricky = CaseFactory(product=product, key="C-1", title="=SUM(A1) is text", critical=True)
    tricky.requirements.add(requirement)
    draft = CaseFactory(
        product=product, key="C-2", draft=True, steps=0, preconditions="- signed in"
    )
    case_version_record(case=draft, actor=None)  # as saving it in the admin would
    return product


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_library_imports_back_unchanged(lead_client, source, fmt):
    cases = list(source.cases.all())
    exported = post_action(lead_client, Case, f"export_library_{fmt}", cases)
    assert exported.status_code == 200
    assert exported["Content-Disposition"].startswith(f'attachment; filename="{source.slug}-cases-')
    assert exported["Content-Disposition"].endswith(f'.{fmt}"')
    assert exported["Content-Type"].startswith("text/csv" if fmt == "csv" else XLSX_TYPE)

    # Into the same product: nothing changes.
    versions = {c.key: c.version for c in cases}
    response = post_import(lead_client, source, upload(f"cases.{fmt}", exported.content))
    assert response.status_code == 302
    assert "cases: 0 created, 0 updated, 2 unchanged" in shown_messages(response)[-1]
    assert {c.key: c.version for c in source.cases.all()} == versions

    # Into another product: the same library (a CSV holds only cases, so its
    # requirements come first from the XLSX workbook's own sheet or are made here).
    target = ProductFactory()
    if fmt == "csv":
        requirement = source.requirements.get()
        RequirementFactory(
            product=target,
            key=requirement.key,
            title=requirement.title,
            acceptance_text=requirement.acceptance_text,
            criticality=requirement.criticality,
        )
    response = post_import(lead_client, target, upload(f"cases.{fmt}", exported.content))
    assert response.status_code == 302, response.context and response.context["problems"]
    assert _library(target) == _library(source)


def test_exporting_cases_of_two_products_is_refused(lead_client):
    cases = [CaseFactory(), CaseFactory()]
    response = post_action(lead_client, Case, "export_library_csv", cases)
    assert response.status_code == 302
    assert "one product" in shown_messages(response)[-1]


def test_exporting_some_cases_exports_only_those(lead_client, source):
    response = post_action(lead_client, Case, "export_library_csv", [source.cases.get(key="C-2")])
    lines = response.content.decode().splitlines()
    assert [line.split(",")[0] for line in lines] == ["case_key", "C-2"]


@pytest.mark.parametrize(
    ("model", "factory", "action", "sheet", "first_column"),
    [
        (Execution, ExecutionFactory, "export_executions_xlsx", "Executions", "id"),
        (Defect, DefectFactory, "export_defects_xlsx", "Defects", "reference"),
    ],
)
def test_executions_and_defects_export_as_xlsx(
    lead_client, model, factory, action, sheet, first_column
):
    chosen = factory.create_batch(2)
    factory()  # not selected
    response = post_action(lead_client, model, action, chosen)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [sheet]
    header, *rows = book[sheet].iter_rows(values_only=True)
    assert header[0] == first_column
    key = (lambda obj: obj.pk) if model is Execution else (lambda obj: obj.reference)
    assert sorted(row[0] for row in rows) == sorted(key(obj) for obj in chosen)


def test_every_way_in_refuses_a_file_over_the_size_limit(monkeypatch):
    """The limit lives in the import service, so the API and the command keep it too."""
    from tests.factories import ProductFactory
    from uat import imports

    monkeypatch.setattr(imports, "IMPORT_MAX_BYTES", 10)
    [problem] = imports.library_check(
        product=ProductFactory(), files=[("cases.csv", b"case_key,title\nC-1,A long enough row\n")]
    )
    assert problem.source == "cases.csv"
    assert "larger than" in problem.message
