"""The tester's inbox and the execution page: steps saved one by one (htmx or plain
posts), the result they imply, conflicts, time spent, the next case."""

import pytest
from django.core import signing
from django.urls import reverse

from tests.factories import CaseFactory, ExecutionFactory, PlanFactory, StepResultFactory
from uat.models import Execution, ExecutionStatus
from uat.views.work import OPENED_SALT

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def execution(tester):
    return ExecutionFactory(tester=tester)


def page_url(execution):
    return reverse("uat:execution", args=[execution.uuid])


def mark(client, execution, position, status, actual="", lock=None, **headers):
    lock = execution.lock_version if lock is None else lock
    data = {"mark": f"{position}:{status}", f"actual_{position}": actual, "lock_version": lock}
    return client.post(page_url(execution), data, **headers)


def test_the_inbox_groups_assignments_by_plan_with_counts(client, tester):
    plan = PlanFactory()
    ExecutionFactory(plan=plan, tester=tester, passed=True)
    ExecutionFactory(plan=plan, tester=tester)
    retest = ExecutionFactory(plan=plan, tester=tester, is_latest=False)
    Execution.objects.filter(pk=retest.pk).update(
        retest_of=ExecutionFactory(plan=plan, tester=tester, failed=True, is_latest=False)
    )
    ExecutionFactory(plan=plan)  # somebody else's
    client.force_login(tester)
    response = client.get(reverse("uat:inbox"))
    assert response.status_code == 200
    (summary,) = response.context["summaries"]
    assert (summary["total"], summary["done"], summary["todo"], summary["retests"]) == (
        4,
        2,
        2,
        1,
    )
    assert b"Retest" in response.content
    assert "<progress" in response.text


def test_the_inbox_lists_unfinished_work_first_then_by_case_key(client, tester):
    plan = PlanFactory()
    product = plan.release.product
    for key, finished in [("C-3", False), ("C-1", True), ("C-2", False)]:
        ExecutionFactory(
            plan=plan, tester=tester, passed=finished, case=CaseFactory(product=product, key=key)
        )
    client.force_login(tester)
    response = client.get(reverse("uat:inbox"))
    shown = [e.case_key for group in response.context["groups"] for e in group["executions"]]
    assert shown == ["C-2", "C-3", "C-1"]
    text = response.text
    assert text.index(">C-2<") < text.index(">C-3<") < text.index(">C-1<")


def test_inbox_filters_show_only_the_chosen_state(client, tester):
    ExecutionFactory(tester=tester, failed=True)
    ExecutionFactory(tester=tester)
    client.force_login(tester)
    response = client.get(reverse("uat:inbox"), {"show": "failed"})
    shown = [e for group in response.context["groups"] for e in group["executions"]]
    assert [e.status for e in shown] == [ExecutionStatus.FAILED]


def test_the_execution_page_shows_the_case_and_where_to_test(client, tester, execution):
    client.force_login(tester)
    response = client.get(page_url(execution))
    assert response.status_code == 200
    text = response.text
    assert execution.case_version.title in text
    assert execution.build in text
    assert execution.environment.name in text
    assert 'for="actual-1"' in text and 'id="actual-1"' in text
    assert "<script>" not in text and "style=" not in text


def test_a_step_saves_with_htmx_and_returns_the_step_and_the_new_lock(client, tester, execution):
    client.force_login(tester)
    response = mark(client, execution, 1, "passed", **HTMX)
    assert response.status_code == 200
    assert 'id="step-1"' in response.text
    assert 'hx-swap-oob="true"' in response.text
    assert 'value="1"' in response.text  # the lock version moved on
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.IN_PROGRESS
    assert execution.step_results.get().status == "passed"


def test_without_javascript_a_step_saves_and_redirects_back(client, tester, execution):
    client.force_login(tester)
    response = mark(client, execution, 2, "failed", actual="Error 500")
    assert response.status_code == 302
    assert response.url.startswith(page_url(execution))
    assert response.url.endswith("#step-2")
    result = execution.step_results.get()
    assert (result.status, result.actual_result) == ("failed", "Error 500")


def test_a_failed_step_needs_an_actual_result(client, tester, execution):
    client.force_login(tester)
    response = mark(client, execution, 1, "failed", **HTMX)
    assert "Describe what actually happened" in response.text
    assert not execution.step_results.exists()
    response = mark(client, execution, 1, "failed")
    assert response.status_code == 400


def test_the_later_of_two_saves_is_refused_and_shows_the_current_state(client, tester, execution):
    client.force_login(tester)
    stale = execution.lock_version
    mark(client, execution, 1, "passed", lock=stale)
    response = mark(client, execution, 1, "failed", actual="Broken", lock=stale)
    assert response.status_code == 409
    assert "Someone else saved this execution" in response.text
    assert execution.step_results.get().status == "passed"
    response = mark(client, execution, 2, "passed", lock=stale, **HTMX)
    assert response["HX-Retarget"] == "#execution-form"
    assert "Someone else saved this execution" in response.text


def test_finishing_records_the_result_the_steps_imply_and_the_time_spent(client, tester, execution):
    client.force_login(tester)
    for position in (1, 2, 3):
        mark(client, execution, position, "passed")
        execution.refresh_from_db()
    opened = signing.dumps(int(__import__("time").time()) - 90, salt=OPENED_SALT)
    response = client.post(
        page_url(execution),
        {
            "finish": "1",
            "notes": "All fine",
            "lock_version": execution.lock_version,
            "opened": opened,
        },
    )
    assert response.status_code == 302
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.PASSED
    assert execution.notes == "All fine"
    assert 90 <= execution.time_spent_seconds < 100


def test_finishing_with_unmarked_steps_explains_what_is_missing(client, tester, execution):
    client.force_login(tester)
    mark(client, execution, 1, "passed")
    execution.refresh_from_db()
    response = client.post(
        page_url(execution), {"finish": "1", "lock_version": execution.lock_version}
    )
    assert response.status_code == 400
    assert "Record a result for step 2, 3 first." in response.text


def test_a_forged_opened_time_counts_nothing(client, tester, execution):
    StepResultFactory(execution=execution, position=1, status="failed", actual_result="x")
    client.force_login(tester)
    client.post(page_url(execution), {"finish": "1", "opened": "123:forged"})
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert execution.time_spent_seconds == 0


def test_next_case_goes_to_the_next_pending_assignment_retests_first(client, tester):
    plan = PlanFactory()
    ExecutionFactory(plan=plan, tester=tester, case=CaseFactory(key="A-1"))
    failed = ExecutionFactory(
        plan=plan, tester=tester, case=CaseFactory(key="B-1"), failed=True, is_latest=False
    )
    retest = ExecutionFactory(plan=plan, tester=tester, case=failed.case, retest_of=failed)
    client.force_login(tester)
    response = client.get(reverse("uat:next_case"))
    assert response.url == page_url(retest)
    Execution.objects.filter(tester=tester).update(
        status=ExecutionStatus.PASSED, finished_at=retest.created_at
    )
    response = client.get(reverse("uat:next_case"))
    assert response.url == reverse("uat:inbox")


def test_someone_elses_execution_cannot_be_changed(client, lead, tester, execution):
    client.force_login(lead)
    assert client.get(page_url(execution)).status_code == 200
    assert mark(client, execution, 1, "passed").status_code == 403
    assert not execution.step_results.exists()
