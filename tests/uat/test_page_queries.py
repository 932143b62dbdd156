"""The inbox and the execution page run a fixed number of queries, whatever the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    DefectFactory,
    EvidenceFactory,
    ExecutionFactory,
    PlanFactory,
    StepResultFactory,
)

pytestmark = pytest.mark.django_db

# session, user, membership check, paginator count, page, the page's case versions,
# counts by plan, roles (nav)
INBOX_QUERIES = 8
# session, user, roles (nav), execution, step results, evidence, defects, and the
# tester's drafts (what they typed and did not save yet, restored in the text boxes)
EXECUTION_QUERIES = 8


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def assignments(tester, plans: int, per_plan: int) -> None:
    for _ in range(plans):
        plan = PlanFactory()
        for n in range(per_plan):
            ExecutionFactory(plan=plan, tester=tester, passed=n % 2 == 0)


@pytest.mark.parametrize(("plans", "per_plan"), [(1, 1), (3, 8)])
def test_the_inbox_runs_a_fixed_number_of_queries(client, tester, warm_caches, plans, per_plan):
    assignments(tester, plans, per_plan)
    client.force_login(tester)
    assert queries(client, reverse("uat:inbox")) == INBOX_QUERIES
    assert queries(client, reverse("uat:inbox") + "?show=done") == INBOX_QUERIES


@pytest.mark.parametrize("size", [1, 6])
def test_the_execution_page_runs_a_fixed_number_of_queries(client, tester, warm_caches, size):
    execution = ExecutionFactory(tester=tester, in_progress=True, case__steps=size)
    for position in range(1, size + 1):
        StepResultFactory(execution=execution, position=position)
    for _ in range(size):
        EvidenceFactory(execution=execution)
        DefectFactory(release=execution.plan.release).executions.add(execution)
    client.force_login(tester)
    assert queries(client, reverse("uat:execution", args=[execution.uuid])) == EXECUTION_QUERIES
