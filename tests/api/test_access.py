"""Who sees and changes what over the API: the same rules as the pages. A record the
caller may not see is a 404; one they see but may not change is a 403."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PERSONAS = ["lead", "tester", "beta_tester", "stakeholder", "outsider"]


def ids(api, name):
    response = api.get(f"/api/v1/{name}/", {"page_size": 200})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def expected_visible(world, persona):
    """What each persona sees of the world, endpoint by endpoint."""
    mine, other = world["plan"], world["other_plan"]
    everything = persona == "lead"
    internal = persona in ("tester", "stakeholder")
    product = {mine.release.product_id}
    return {
        "products": product | {other.release.product_id}
        if everything
        else (product if internal else set()),
        "releases": {mine.release_id, other.release_id}
        if everything
        else ({mine.release_id} if persona == "stakeholder" else set()),
        "plans": {mine.pk, world["beta_plan"].pk, other.pk}
        if everything
        else {
            "tester": {mine.pk},
            "beta_tester": {world["beta_plan"].pk},
            "stakeholder": {mine.pk, world["beta_plan"].pk},
        }.get(persona, set()),
        "executions": {world["own"].pk, world["beta_own"].pk, world["other"].pk}
        if everything
        else {
            "tester": {world["own"].pk},
            "beta_tester": {world["beta_own"].pk},
            "stakeholder": {world["own"].pk, world["beta_own"].pk},
        }.get(persona, set()),
        "defects": {world["defect"].pk, world["other_defect"].pk}
        if everything
        else ({world["defect"].pk} if persona in ("tester", "stakeholder") else set()),
        "cohorts": {world["alpha"].pk, world["beta"].pk}
        | set(other.cohorts.values_list("pk", flat=True))
        | {world["other"].cohort_id}
        if everything
        else ({world["alpha"].pk} if persona == "tester" else set()),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_sees_exactly_their_part(request, world, as_user, persona):
    api = as_user(request.getfixturevalue(persona))
    for name, wanted in expected_visible(world, persona).items():
        assert ids(api, name) == wanted, name


@pytest.mark.parametrize("persona", ["beta_tester", "outsider"])
def test_nothing_internal_for_beta_testers_and_strangers(request, world, as_user, persona):
    api = as_user(request.getfixturevalue(persona))
    for name in ("products", "environments", "requirements", "cases", "releases", "events"):
        assert ids(api, name) == set(), name


DETAIL = {
    "products": lambda w: w["other_plan"].release.product_id,
    "releases": lambda w: w["other_plan"].release_id,
    "environments": lambda w: w["other_plan"].environment_id,
    "cases": lambda w: w["other_case"].pk,
    "plans": lambda w: w["other_plan"].pk,
    "executions": lambda w: w["other"].pk,
    "defects": lambda w: w["other_defect"].pk,
}


@pytest.mark.parametrize("persona", ["tester", "beta_tester", "stakeholder", "outsider"])
@pytest.mark.parametrize("name", sorted(DETAIL))
def test_a_record_you_may_not_see_is_a_404_for_reads_and_writes(
    request, world, as_user, persona, name
):
    api = as_user(request.getfixturevalue(persona))
    url = f"/api/v1/{name}/{DETAIL[name](world)}/"
    write = (
        api.post(f"{url}finish/", {}, format="json")
        if name == "executions"
        else api.patch(url, {}, format="json")
    )
    for response in (api.get(url), write):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


WORKFLOW = [
    ("executions", "own", "steps", {"position": 1, "status": "passed"}),
    ("executions", "own", "finish", {}),
    ("executions", "own", "defects", {"title": "Broken", "severity": "minor"}),
    ("defects", "defect", "transition", {"status": "confirmed"}),
    ("plans", "plan", "assign", {"cohort": 0}),
    ("plans", "plan", "clone", {"release": 0}),
]


@pytest.mark.parametrize(("name", "key", "verb", "body"), WORKFLOW)
def test_a_stakeholder_sees_but_may_not_act(world, as_user, stakeholder, name, key, verb, body):
    api = as_user(stakeholder)
    response = api.post(f"/api/v1/{name}/{world[key].pk}/{verb}/", body, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("products", {"name": "New", "slug": "new"}),
        ("requirements", {"key": "R-9", "title": "x"}),
        ("cases", {"key": "C-9", "title": "x"}),
        ("plans", {"name": "x"}),
        ("cohorts", {"name": "x", "kind": "alpha"}),
    ],
)
@pytest.mark.parametrize("persona", ["tester", "beta_tester", "stakeholder", "outsider"])
def test_only_qa_leads_write_the_library_and_plans(request, world, as_user, persona, name, body):
    api = as_user(request.getfixturevalue(persona))
    response = api.post(f"/api/v1/{name}/", body, format="json")
    assert response.status_code == 403


def test_without_credentials_every_endpoint_is_a_401_in_the_error_format(api, world):
    for name in ("products", "cases", "plans", "executions", "defects", "events", "tokens"):
        response = api.get(f"/api/v1/{name}/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    assert api.get(reverse("api-root")).status_code == 401
