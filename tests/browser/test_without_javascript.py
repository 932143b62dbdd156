"""The execution page works with JavaScript off, on a tablet-sized screen."""

import pytest

from tests.factories import ExecutionFactory, UserFactory
from uat.models import ExecutionStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_tester_runs_a_case_with_javascript_off(new_page, artifacts):
    tester = UserFactory(email="alpha@example.com", full_name="Alex Alpha", roles=["Tester"])
    execution = ExecutionFactory(tester=tester)
    page = new_page(java_script_enabled=False, viewport={"width": 820, "height": 1180})
    page.goto("/")
    page.get_by_label("Email address").fill(tester.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=execution.case_version.title).click()

    page.locator("#step-1").get_by_role("button", name="Passed").click()
    page.get_by_text("Step 1 saved as passed.").wait_for()
    page.locator("#step-2").get_by_label("Actual result").fill("Nothing happens")
    page.locator("#step-2").get_by_role("button", name="Failed").click()
    page.get_by_text("Step 2 saved as failed.").wait_for()
    page.get_by_label("Note (optional)").fill("Tried twice.")
    page.screenshot(path=artifacts / "no-js-tablet-execution.png", full_page=True)
    page.get_by_role("button", name="Finish and save the result").click()
    page.get_by_text("Failed.").first.wait_for()

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert execution.notes == "Tried twice."
    assert execution.step_results.get(position=2).actual_result == "Nothing happens"
