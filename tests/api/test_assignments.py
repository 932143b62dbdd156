"""Assigning over the API with a dry run first, and reassigning or unassigning
executions nobody has started."""

import pytest

from tests.factories import (
    CaseFactory,
    CohortFactory,
    ExecutionFactory,
    PlanFactory,
    StepResultFactory,
    UserFactory,
)
from uat import services
from uat.models import Event, Execution

pytestmark = pytest.mark.django_db


def post(api, url, body):
    return api.post(url, body, format="json")


@pytest.fixture
def staffed(lead):
    plan = PlanFactory(owner=lead)
    product = plan.release.product
    testers = UserFactory.create_batch(2)
    cohort = CohortFactory(product=product, members=testers)
    plan.cohorts.add(cohort)
    plan.cases.add(*(CaseFactory(product=product, key=f"C-{n}") for n in range(1, 4)))
    return plan, cohort, testers


def test_a_dry_run_says_what_assigning_creates_and_writes_nothing(as_user, lead, staffed):
    plan, cohort, (first, second) = staffed
    url = f"/api/v1/plans/{plan.pk}/assign/"
    response = post(as_user(lead), url, {"cohort": cohort.pk, "dry_run": True})
    assert response.status_code == 200
    body = response.json()
    assert not Execution.objects.exists()
    assert body["dry_run"] is True
    assert body["created"] == 3
    assert body["executions"] == []
    assert body["summary"] == f"Creates 3 executions: {first} → 2, {second} → 1."
    assert [row["executions"] for row in body["by_tester"]] == [2, 1]
    assert [case["key"] for case in body["cases"]] == ["C-1", "C-2", "C-3"]

    response = post(as_user(lead), url, {"cohort": cohort.pk, "preview": body["preview"]})
    assert response.status_code == 201
    assert response.json()["created"] == 3
    assert response.json()["cases"] == body["cases"]


def test_a_stale_preview_is_a_400_and_assigning_again_creates_nothing(as_user, lead, staffed):
    plan, cohort, _ = staffed
    url = f"/api/v1/plans/{plan.pk}/assign/"
    dry = post(as_user(lead), url, {"cohort": cohort.pk, "dry_run": True}).json()
    assert post(as_user(lead), url, {"cohort": cohort.pk}).status_code == 201
    response = post(as_user(lead), url, {"cohort": cohort.pk, "preview": dry["preview"]})
    assert response.status_code == 400
    assert "changed since the preview" in str(response.json()["error"])
    again = post(as_user(lead), url, {"cohort": cohort.pk, "dry_run": True}).json()
    assert (again["created"], again["already_held"]) == (0, 3)
    assert Execution.objects.count() == 3


def test_a_lead_moves_a_leavers_work_and_withdraws_some(as_user, lead, staffed):
    plan, cohort, (leaver, taker) = staffed
    services.plan_assign(plan=plan, cohort=cohort, actor=lead)
    moving = list(Execution.objects.filter(tester=leaver).order_by("pk"))
    response = post(
        as_user(lead),
        "/api/v1/executions/reassign/",
        {"executions": [e.pk for e in moving], "tester": taker.pk},
    )
    assert response.status_code == 200, response.content
    assert [row["tester"] for row in response.json()["reassigned"]] == [taker.pk] * 2
    assert not Execution.objects.filter(tester=leaver).exists()
    assert Event.objects.filter(verb="execution.reassigned").count() == 2

    response = post(as_user(lead), "/api/v1/executions/unassign/", {"executions": [moving[0].pk]})
    assert response.status_code == 200
    assert response.json() == {"unassigned": [moving[0].pk]}
    assert not Execution.objects.filter(pk=moving[0].pk).exists()


def test_started_work_and_unknown_ids_are_400s_and_testers_get_403(as_user, lead, staffed):
    plan, cohort, (first, _) = staffed
    started = ExecutionFactory(plan=plan, cohort=cohort, tester=first, in_progress=True)
    StepResultFactory(execution=started)
    for url in ("/api/v1/executions/reassign/", "/api/v1/executions/unassign/"):
        response = post(as_user(lead), url, {"executions": [started.pk]})
        assert response.status_code == 400
        assert "Already started" in str(response.json()["error"])
        response = post(as_user(lead), url, {"executions": [987654]})
        assert response.status_code == 400
        assert post(as_user(first), url, {"executions": [started.pk]}).status_code == 403
    assert Execution.objects.filter(pk=started.pk, tester=first).exists()
