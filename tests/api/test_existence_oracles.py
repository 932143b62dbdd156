"""No existence oracles: an id the caller may not see answers exactly as an id that does
not exist — the same status and the same message — in every request body field and every
list filter that names a record, found from the API's own schema rather than listed by
hand, so a new field or filter is covered the day it is added."""

import re

import pytest
from django.core.files.base import ContentFile
from django_filters.utils import get_model_field
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import spectacular_settings
from rest_framework import serializers

from accounts.models import User
from reports.models import AcceptanceReport
from tests.factories import (
    AcceptanceReportFactory,
    CaseFactory,
    CohortFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    RequirementFactory,
    UserFactory,
    WaiverFactory,
)
from uat.api.scopes import nameable
from uat.models import (
    Case,
    Cohort,
    Defect,
    Environment,
    Execution,
    Plan,
    Product,
    Release,
    Requirement,
    Waiver,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["tester", "beta_tester", "stakeholder"]


def _endpoints():
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    for path, _, method, view in generator._get_paths_and_endpoints():
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        yield path, method, view


def _related_model(field):
    if isinstance(field, serializers.ManyRelatedField):
        field = field.child_relation
    if isinstance(field, serializers.PrimaryKeyRelatedField) and not field.read_only:
        return field.queryset.model
    return None


def body_fields() -> list[tuple[str, str, str, type, bool]]:
    """(path, method, field, model, many) of every request body field naming a record."""
    found = []
    for path, method, view in _endpoints():
        if method not in ("POST", "PUT", "PATCH"):
            continue
        serializer = view.schema.get_request_serializer()
        if serializer is None or not hasattr(serializer, "fields"):
            continue
        if isinstance(serializer, type):
            serializer = serializer()
        for name, field in serializer.fields.items():
            model = _related_model(field)
            if model is not None:
                many = isinstance(field, serializers.ManyRelatedField)
                found.append((path, method, name, model, many))
    return sorted(set(found), key=lambda row: row[:3])


def filters() -> list[tuple[str, str, type]]:
    """(path, filter, model) of every list filter on a related record."""
    found = []
    for path, method, view in _endpoints():
        if method != "GET" or "{" in path or not getattr(view, "filterset_fields", None):
            continue
        model = view.queryset.model
        for name in view.filterset_fields:
            field = get_model_field(model, name)
            if field is not None and field.is_relation:
                found.append((path, name, field.related_model))
    return sorted(set(found), key=lambda row: row[:2])


BODY_FIELDS = body_fields()
FILTERS = filters()


def test_the_sweep_finds_the_known_fields_and_filters():
    assert ("/api/v1/defects/", "POST", "release") in {row[:3] for row in BODY_FIELDS}
    assert ("/api/v1/waivers/", "POST", "defect") in {row[:3] for row in BODY_FIELDS}
    assert ("/api/v1/plans/{id}/assign/", "POST", "cohort") in {row[:3] for row in BODY_FIELDS}
    assert ("/api/v1/executions/", "plan") in {row[:2] for row in FILTERS}
    assert ("/api/v1/waivers/", "defect") in {row[:2] for row in FILTERS}


@pytest.fixture
def foreign(db):
    """One record of every kind in a product nobody of the world works on."""
    plan = PlanFactory()
    product = plan.release.product
    execution = ExecutionFactory(plan=plan, case=CaseFactory(product=product))
    defect = DefectFactory(release=plan.release)
    report = AcceptanceReportFactory(plan=plan, ready=True)
    report.pdf.save("report.pdf", ContentFile(b"%PDF-1.7"))
    return {
        Product: product,
        Release: plan.release,
        Environment: plan.environment,
        Requirement: RequirementFactory(product=product),
        Case: execution.case,
        Plan: plan,
        Cohort: CohortFactory(product=product),
        Execution: execution,
        Defect: defect,
        Waiver: WaiverFactory(defect=defect),
        User: UserFactory(),
        AcceptanceReport: report,
    }


def _path(path: str, world) -> str:
    """The path with its ids: records of the world's release, which the personas see."""
    ids = {
        "plans": world["plan"].pk,
        "executions": world["own"].pk,
        "defects": world["defect"].pk,
        "releases": world["plan"].release_id,
        "cases": world["case"].pk,
        "cohorts": world["alpha"].pk,
    }
    collection = path.split("/")[3]
    return re.sub(r"\{\w+\}", str(ids.get(collection, 1)), path)


def _answer(response, record_id: int) -> tuple[int, str]:
    return response.status_code, response.content.decode().replace(str(record_id), "<id>")


def _unseen_and_unknown(model, foreign, user) -> tuple[int, int]:
    assert model in foreign, f"add a record of {model.__name__} to the foreign fixture"
    unseen = foreign[model]
    assert not nameable(model.objects.all(), user).filter(pk=unseen.pk).exists(), model
    return unseen.pk, model.objects.order_by("-pk").first().pk + 10_000


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("path", "method", "field", "model", "many"),
    BODY_FIELDS,
    ids=[f"{method} {path} {field}" for path, method, field, _, _ in BODY_FIELDS],
)
def test_a_body_id_you_may_not_see_answers_as_one_that_does_not_exist(
    request, as_user, world, foreign, persona, path, method, field, model, many
):
    user = request.getfixturevalue(persona)
    api = as_user(user)
    url = _path(path, world)
    answers = []
    for record_id in _unseen_and_unknown(model, foreign, user):
        body = {field: [record_id] if many else record_id}
        response = getattr(api, method.lower())(url, body, format="json")
        assert response.status_code < 500, (url, response.status_code)
        answers.append(_answer(response, record_id))
    unseen, unknown = answers
    assert unseen == unknown, (method, url, field)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("path", "name", "model"), FILTERS, ids=[f"{path}?{name}" for path, name, _ in FILTERS]
)
def test_a_filter_on_an_id_you_may_not_see_answers_as_one_that_does_not_exist(
    request, as_user, world, foreign, persona, path, name, model
):
    user = request.getfixturevalue(persona)
    api = as_user(user)
    answers = [
        _answer(api.get(path, {name: record_id}), record_id)
        for record_id in _unseen_and_unknown(model, foreign, user)
    ]
    unseen, unknown = answers
    assert unseen == unknown, (path, name, unseen, unknown)
