"""Every list endpoint runs a fixed number of queries, whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    ApiTokenFactory,
    CaseFactory,
    CohortFactory,
    DefectFactory,
    EventFactory,
    ExecutionFactory,
    PlanFactory,
    RequirementFactory,
    SignOffFactory,
    StepResultFactory,
)

pytestmark = pytest.mark.django_db

# The pinned counts, for a QA lead signed in with a session (loading the session and
# the user, the role check, the count and the page, and one per prefetched relation).
PINNED = {
    "products": 5,
    "releases": 5,
    "environments": 5,
    "requirements": 5,
    "cases": 7,
    "plans": 8,
    "cohorts": 6,
    "executions": 7,
    "defects": 6,
    "signoffs": 9,  # + 4 to tell current from stale: the plans' fingerprints in one batch
    "events": 7,
    "tokens": 4,
}


def add_rows(n: int, lead, stakeholder):
    for _ in range(n):
        cohort = CohortFactory()
        plan = PlanFactory(release__product=cohort.product, cohorts=[cohort])
        plan.stakeholders.add(stakeholder)
        case = CaseFactory(product=cohort.product)
        case.requirements.add(RequirementFactory(product=cohort.product))
        plan.cases.add(case)
        execution = ExecutionFactory(plan=plan, case=case, cohort=cohort)
        StepResultFactory(execution=execution)
        DefectFactory(release=plan.release).executions.add(execution)
        EventFactory(release=plan.release, actor=lead)
        SignOffFactory(report__plan=plan)
        ApiTokenFactory(user=lead)


def count(api, name: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/{name}/")
    assert response.status_code == 200, response.content
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_list_runs_the_same_queries_for_2_and_10_rows(api, lead, stakeholder, name, warm_caches):
    api.force_login(lead)
    add_rows(2, lead, stakeholder)
    small, rows = count(api, name)
    assert rows >= 2
    add_rows(8, lead, stakeholder)
    large, rows = count(api, name)
    assert rows >= 10
    assert (small, large) == (PINNED[name], PINNED[name])


def test_a_stakeholders_list_is_fixed_too(api, lead, stakeholder, warm_caches):
    api.force_login(stakeholder)
    add_rows(2, lead, stakeholder)
    small = [count(api, name)[0] for name in ("executions", "defects", "plans", "events")]
    add_rows(8, lead, stakeholder)
    large = [count(api, name)[0] for name in ("executions", "defects", "plans", "events")]
    assert small == large
