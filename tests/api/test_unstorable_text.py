"""Text the database cannot store — a NUL (\\x00) or a lone UTF-16 surrogate
("\\ud800" in JSON) — in any field of any JSON request is a 400 in the API's error
format naming the field, never a 500. The operations and fields come from the OpenAPI
schema (built from the serializers), so a new endpoint or field is covered by itself."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.factories import (
    AcceptanceReportFactory,
    CaseFactory,
    CohortFactory,
    DefectFactory,
    EnvironmentFactory,
    ExecutionFactory,
    PlanFactory,
    ProductFactory,
    RequirementFactory,
)

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _resolved(schema: dict) -> dict:
    while "$ref" in schema or "allOf" in schema or "oneOf" in schema:
        if "$ref" in schema:
            schema = SCHEMA["components"]["schemas"][schema["$ref"].split("/")[-1]]
        else:
            schema = (schema.get("allOf") or schema.get("oneOf"))[0]
    return schema


def _fields(only_choices: bool) -> list[tuple[str, str, str]]:
    """(method, path, field) for every writable text (or choice) field of a JSON body."""
    found = []
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not body:
                continue
            for name, field in _resolved(body["schema"]).get("properties", {}).items():
                field = _resolved(field)
                if field.get("readOnly"):
                    continue
                if "enum" in field if only_choices else field.get("type") in ("string", None):
                    found.append((method, path, name))
    return found


CHOICE_FIELDS = _fields(only_choices=True)
TEXT_FIELDS = _fields(only_choices=False)


@pytest.fixture
def ids(admin_user):
    """An id for every {id} or {uuid} of the paths, of records the caller may act on."""
    plan = PlanFactory()
    product = plan.release.product
    run = ExecutionFactory(plan=plan, tester=admin_user, in_progress=True)
    return {
        "products": ProductFactory().pk,
        "releases": plan.release.pk,
        "environments": EnvironmentFactory(product=product).pk,
        "requirements": RequirementFactory(product=product).pk,
        "cases": CaseFactory(product=product).pk,
        "cohorts": CohortFactory(product=product).pk,
        "plans": plan.pk,
        "executions": run.pk,
        "defects": DefectFactory(release=plan.release).pk,
        "reports": AcceptanceReportFactory(plan=plan, ready=True).uuid,
    }


def _url(path: str, ids: dict) -> str:
    resource = path.removeprefix("/api/v1/").split("/")[0]
    return path.replace("{id}", str(ids.get(resource, 1))).replace(
        "{uuid}", str(ids.get(resource, "00000000-0000-0000-0000-000000000000"))
    )


def _send(api, method: str, url: str, field: str, raw_value: str):
    # Written by hand so the body carries the JSON escape itself, as a client would.
    body = f'{{"{field}": "{raw_value}"}}'
    return getattr(api, method)(url, body, content_type="application/json")


def test_the_schema_lists_the_choice_fields_of_the_api():
    assert len(CHOICE_FIELDS) >= 17
    assert ("post", "/api/v1/defects/{id}/transition/", "status") in CHOICE_FIELDS


@pytest.mark.parametrize("method, path, field", CHOICE_FIELDS)
def test_a_lone_surrogate_in_a_choice_field_is_a_400(api, admin_user, ids, method, path, field):
    api.force_login(admin_user)  # a session: tokens are made in one
    response = _send(api, method, _url(path, ids), field, "\\ud800")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "surrogate" in " ".join(error["fields"][field])


@pytest.mark.parametrize("method, path, field", TEXT_FIELDS)
def test_a_nul_in_any_text_field_is_a_400(api, admin_user, ids, method, path, field):
    api.force_login(admin_user)  # a session: tokens are made in one
    response = _send(api, method, _url(path, ids), field, "typed \\u0000 text")
    assert response.status_code == 400, response.content
    assert "NUL" in " ".join(response.json()["error"]["fields"][field])


def test_a_nul_deep_in_a_case_s_steps_names_the_field(api, admin_user, ids):
    api.force_login(admin_user)  # a session: tokens are made in one
    body = {"steps": [{"action": "Open", "expected": "Shown\u0000"}]}
    url = f"/api/v1/cases/{ids['cases']}/"
    response = api.patch(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["steps"]


def test_ordinary_text_still_goes_through(api, admin_user, ids):
    api.force_login(admin_user)  # a session: tokens are made in one
    body = {"status": "confirmed", "note": "Réproduit — ok ✓"}
    response = api.post(f"/api/v1/defects/{ids['defects']}/transition/", body, format="json")
    assert response.status_code == 200
