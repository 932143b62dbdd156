"""Each workflow transition over the API goes through the same service as the pages,
and bad input is a 400 in the one error format, never a 500."""

import pytest

from tests.factories import CaseFactory, ReleaseFactory, UserFactory
from uat.models import Case, CohortMembership, Defect, Event, Execution, Plan

pytestmark = pytest.mark.django_db


def post(api, url, body=None):
    return api.post(url, body or {}, format="json")


def test_a_tester_runs_their_execution_step_by_step(world, as_user, tester):
    api = as_user(tester)
    url = f"/api/v1/executions/{world['own'].pk}/"
    for position in (1, 2, 3):
        response = post(api, url + "steps/", {"position": position, "status": "passed"})
        assert response.status_code == 200
    response = post(api, url + "finish/", {"notes": "All good", "time_spent_seconds": 60})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "passed"
    assert [step["status"] for step in body["step_results"]] == ["passed"] * 3
    assert Event.objects.filter(verb="execution.recorded", actor=tester).exists()


def test_a_stale_lock_version_is_a_409_with_the_current_state(world, as_user, tester):
    api = as_user(tester)
    url = f"/api/v1/executions/{world['own'].pk}/steps/"
    assert post(api, url, {"position": 1, "status": "passed", "lock_version": 0}).status_code == 200
    response = post(api, url, {"position": 2, "status": "passed", "lock_version": 0})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["current"]["lock_version"] == 1
    assert [step["position"] for step in error["current"]["step_results"]] == [1]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"position": "one", "status": "passed"},
        {"position": 99, "status": "passed"},
        {"position": 1, "status": "exploded"},
        {"position": 1, "status": "failed"},
    ],
)
def test_bad_step_input_is_a_400_naming_the_problem(world, as_user, tester, body):
    response = post(as_user(tester), f"/api/v1/executions/{world['own'].pk}/steps/", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]


def test_finishing_before_every_step_is_recorded_is_refused(world, as_user, tester):
    response = post(as_user(tester), f"/api/v1/executions/{world['own'].pk}/finish/")
    assert response.status_code == 400
    assert "step 1, 2, 3" in response.json()["error"]["message"]


def test_a_tester_reports_a_defect_on_their_execution(world, as_user, tester):
    response = post(
        as_user(tester),
        f"/api/v1/executions/{world['own'].pk}/defects/",
        {"title": "Save button does nothing", "severity": "major", "step_position": 2},
    )
    assert response.status_code == 201
    defect = Defect.objects.get(pk=response.json()["id"])
    assert list(defect.executions.all()) == [world["own"]]
    assert defect.reported_by == tester


def test_only_the_assigned_tester_records_on_an_execution_as_on_the_page(world, as_user, lead):
    other_tester = UserFactory(roles=["Tester"])
    CohortMembership.objects.create(cohort=world["alpha"], user=other_tester)
    Execution.objects.filter(pk=world["own"].pk).update(tester=other_tester)
    world["plan"].stakeholders.add(other_tester)  # sees the plan's executions, as a stakeholder
    body = {"position": 1, "status": "passed"}
    url = f"/api/v1/executions/{world['own'].pk}/steps/"
    assert post(as_user(world["tester"]), url, body).status_code == 404
    world["plan"].stakeholders.add(world["tester"])
    assert post(as_user(world["tester"]), url, body).status_code == 403
    # A result is its tester's testimony: a QA lead sees the run but does not record it.
    assert post(as_user(lead), url, body).status_code == 403
    assert post(as_user(other_tester), url, body).status_code == 200


def test_a_lead_moves_a_defect_along_its_workflow(world, as_user, lead):
    api = as_user(lead)
    url = f"/api/v1/defects/{world['defect'].pk}/transition/"
    response = post(api, url, {"status": "confirmed", "note": "Seen it"})
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    response = post(api, url, {"status": "verified"})
    assert response.status_code == 400
    assert "cannot become verified" in response.json()["error"]["message"]


def test_a_lead_records_a_defect_that_escaped_to_production(world, as_user, lead):
    release = world["plan"].release
    body = {"release": release.pk, "title": "Crash", "severity": "critical", "build": "b7"}
    api = as_user(lead)
    response = post(api, "/api/v1/defects/", body)
    assert response.status_code == 400
    assert "not reached production" in str(response.json()["error"]["fields"])
    release.stage = "production"
    release.save()
    response = post(api, "/api/v1/defects/", body)
    assert response.status_code == 201
    assert response.json()["found_in"] == "production"


def test_a_lead_assigns_a_plan_to_a_cohort(world, as_user, lead):
    plan, cohort = world["plan"], world["alpha"]
    Execution.objects.filter(plan=plan).delete()
    response = post(as_user(lead), f"/api/v1/plans/{plan.pk}/assign/", {"cohort": cohort.pk})
    assert response.status_code == 201
    assert response.json()["created"] == 2
    response = post(as_user(lead), f"/api/v1/plans/{plan.pk}/assign/", {"cohort": 999999})
    assert response.status_code == 400
    assert "cohort" in response.json()["error"]["fields"]


def test_a_lead_clones_a_plan_to_the_next_release(world, as_user, lead):
    plan = world["plan"]
    release = ReleaseFactory(product=plan.release.product)
    api = as_user(lead)
    response = post(api, f"/api/v1/plans/{plan.pk}/clone/", {"release": release.pk})
    assert response.status_code == 201
    clone = Plan.objects.get(pk=response.json()["id"])
    assert clone.release == release and clone.status == "draft"
    response = post(api, f"/api/v1/plans/{plan.pk}/clone/", {"release": release.pk})
    assert response.status_code == 400
    assert "already has" in response.json()["error"]["message"]


def test_editing_a_case_makes_a_new_version(world, as_user, lead):
    case = world["case"]
    api = as_user(lead)
    url = f"/api/v1/cases/{case.pk}/"
    steps = [{"action": "Open the form", "expected": "It opens"}]
    response = api.patch(url, {"steps": steps}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["steps"] == [{"position": 1, **steps[0]}]
    # The same content again is no new version.
    assert api.patch(url, {"steps": steps}, format="json").json()["version"] == 2
    assert api.patch(url, {"title": "Renamed"}, format="json").json()["version"] == 3
    assert world["own"].case_version.number == 1
    assert Event.objects.filter(verb="case.changed", object_id=str(case.pk)).exists()


def test_a_lead_creates_a_case_with_steps_and_requirements(world, as_user, lead):
    product = world["product"]
    body = {
        "product": product.pk,
        "key": "NEW-1",
        "title": "New case",
        "status": "ready",
        "requirements": [world["requirement"].pk],
        "steps": [{"action": "a", "expected": "b"}, {"action": "c", "expected": "d"}],
    }
    response = post(as_user(lead), "/api/v1/cases/", body)
    assert response.status_code == 201
    case = Case.objects.get(key="NEW-1")
    assert case.version == 1 and case.steps.count() == 2
    assert list(case.requirements.all()) == [world["requirement"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": []}, None),
        ({"key": "C-dup"}, "non_field_errors"),
        ({"requirements": ["x"]}, "requirements"),
        ({"priority": "urgent"}, "priority"),
        ({"steps": [{"action": "only"}]}, "steps"),
    ],
)
def test_a_bad_case_is_a_400_and_nothing_is_saved(world, as_user, lead, change, field):
    CaseFactory(product=world["product"], key="C-dup")
    body = {
        "product": world["product"].pk,
        "key": "NEW-2",
        "title": "t",
        "status": "ready",
        "steps": [{"action": "a", "expected": "b"}],
        **change,
    }
    response = post(as_user(lead), "/api/v1/cases/", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    if field and field != "non_field_errors":
        assert field in error["fields"]
    assert not Case.objects.filter(key="NEW-2").exists()


def test_a_case_cannot_cover_another_products_requirement(world, as_user, lead):
    foreign = world["other_case"].product.requirements.create(key="R-X", title="x")
    response = as_user(lead).patch(
        f"/api/v1/cases/{world['case'].pk}/", {"requirements": [foreign.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "requirements" in response.json()["error"]["fields"]


def test_lists_filter_order_and_page(world, as_user, lead):
    api = as_user(lead)
    response = api.get("/api/v1/executions/", {"tester": world["tester"].pk})
    assert [row["id"] for row in response.json()["results"]] == [world["own"].pk]
    response = api.get("/api/v1/cases/", {"ordering": "-key", "page_size": 1})
    body = response.json()
    assert body["count"] == 3 and len(body["results"]) == 1 and body["next"]
    assert api.get("/api/v1/cases/", {"product__slug": "nope"}).json()["count"] == 0
    response = api.get("/api/v1/cases/", {"status": "exploded"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_an_id_out_of_range_in_a_filter_is_a_400(world, as_user, lead):
    response = as_user(lead).get("/api/v1/cases/", {"requirements": 2**63})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
