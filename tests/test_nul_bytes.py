"""NUL bytes (\\x00) in what people type or ask for never make a server error
(PostgreSQL cannot store them): pages, htmx fragments, the admin's forms and the
filters of every list drop them and keep everything else that was typed; the API's
JSON refuses them with a 400 naming the field (tests/api/test_unstorable_text.py)."""

import pytest
from django.urls import reverse

from tests.factories import (
    CaseFactory,
    DefectFactory,
    ExecutionFactory,
    ProductFactory,
    RequirementFactory,
    StepResultFactory,
)
from uat.models import DefectStatus, Event, StepResult

pytestmark = pytest.mark.django_db

TYPED = "Saved \x00the lead"
KEPT = "Saved the lead"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def run(tester):
    return ExecutionFactory(tester=tester, in_progress=True)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_step_result_with_a_nul_is_saved_without_it(client, tester, run, headers):
    client.force_login(tester)
    data = {"mark": "1:failed", "actual_1": TYPED, "lock_version": run.lock_version}
    response = client.post(reverse("uat:execution", args=[run.uuid]), data, **headers)
    assert response.status_code in (200, 302)
    assert StepResult.objects.get(execution=run, position=1).actual_result == KEPT


def test_finishing_with_a_nul_in_the_notes_keeps_the_run(client, tester, run):
    for position in range(1, len(run.case_version.steps) + 1):
        StepResultFactory(execution=run, position=position, status="passed")
    client.force_login(tester)
    data = {"finish": "1", "notes": TYPED, "lock_version": run.lock_version}
    response = client.post(reverse("uat:execution", args=[run.uuid]), data)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.is_finished and run.notes == KEPT


def test_a_defect_transition_note_with_a_nul_moves_the_defect(client, lead):
    defect = DefectFactory()
    client.force_login(lead)
    response = client.post(
        reverse("uat:defect_transition", args=[defect.pk]), {"status": "confirmed", "note": TYPED}
    )
    assert response.status_code == 302
    defect.refresh_from_db()
    assert defect.status == DefectStatus.CONFIRMED
    event = Event.objects.for_object(defect).first()
    assert event.after["note"] == KEPT


def test_a_defect_reported_from_a_page_with_nuls_is_saved_without_them(client, tester):
    run = ExecutionFactory(tester=tester, in_progress=True)
    StepResultFactory(execution=run, position=1, status="failed", actual_result="boom")
    client.force_login(tester)
    url = reverse("uat:defect_new", args=[run.uuid])
    form = client.get(url).context["form"]
    data = {name: field.initial or "" for name, field in form.fields.items()}
    data.update({k: v for k, v in form.initial.items() if v is not None})
    data.update(title=TYPED, severity="major", steps_to_reproduce=TYPED, step=1)
    response = client.post(url, data)
    assert response.status_code in (200, 302)
    assert run.defects.get().title == KEPT


@pytest.mark.parametrize(
    "route, params",
    [
        ("uat:inbox", {"show": "\x00", "page": "1\x00"}),
        ("uat:defect_list", {"status": "new\x00", "severity": "\x00", "q": "a\x00"}),
        ("uat:my_defects", {"status": "\x00"}),
        ("case-export", {"product": "\x00"}),
        ("requirement-export", {"product": "acme\x00"}),
        ("case-list", {"product__slug": "\x00", "key": "\x00", "search": "\x00"}),
        ("requirement-list", {"product__slug": "\x00", "key": "\x00"}),
        ("defect-list", {"status": "\x00"}),
        ("execution-list", {"status": "\x00"}),
    ],
)
def test_filters_with_a_nul_answer_without_an_error(client, admin_user, route, params):
    ProductFactory(slug="acme")
    client.force_login(admin_user)
    response = client.get(reverse(route), params)
    assert response.status_code < 500


def test_the_case_and_requirement_exports_find_the_product_despite_a_nul(client, admin_user):
    product = ProductFactory(slug="acme")
    CaseFactory(product=product, key="ACME-C1")
    RequirementFactory(product=product, key="ACME-R1")
    client.force_login(admin_user)
    cases = client.get(reverse("case-export"), {"product": "ac\x00me"})
    assert cases.status_code == 200 and b"ACME-C1" in cases.content
    requirements = client.get(reverse("requirement-export"), {"product": "ac\x00me"})
    assert requirements.status_code == 200 and b"ACME-R1" in requirements.content


def test_a_nul_in_the_address_is_a_bad_request(client):
    response = client.get("/accounts/invitations/abc%00def/")
    assert response.status_code == 400


def test_signing_in_with_a_nul_in_the_address_answers_the_form(client):
    response = client.post(
        reverse("accounts:login"), {"username": "a\x00@example.com", "password": "x\x00"}
    )
    assert response.status_code == 200


def test_an_admin_form_with_a_nul_saves_without_it(client, admin_user):
    product = ProductFactory()
    client.force_login(admin_user)
    url = reverse("admin:uat_requirement_add")
    data = {
        "product": product.pk,
        "key": "R-\x001",
        "title": TYPED,
        "acceptance_text": TYPED,
        "criticality": "high",
    }
    response = client.post(url, data)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert product.requirements.get().title == KEPT
