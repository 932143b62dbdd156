"""Finding one's way, in a real browser: each person lands where their work is, and the
buttons of the pages they land on work with JavaScript on (htmx) as well as off."""

import re

import pytest

from accounts.models import Role
from reports.models import AcceptanceReport
from tests.factories import ExecutionFactory, PlanFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "correct-horse-battery"


def sign_in(page, email: str) -> None:
    page.goto("/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_lead_asks_for_a_report_with_htmx_and_the_panel_shows_it(new_page, artifacts):
    lead = UserFactory(email="lead@example.com", staff=True, roles=[Role.QA_LEAD])
    plan = PlanFactory(name="Acme CRM 2.4 alpha")
    ExecutionFactory(plan=plan, passed=True)
    page = new_page()
    answers = []
    page.on("response", lambda response: answers.append((response.request.method, response)))
    sign_in(page, lead.email)
    page.goto(f"/reports/plans/{plan.pk}/")
    panel = page.locator("#report-panel")
    panel.get_by_text("No report has been asked for yet.").wait_for()
    panel.get_by_role("button", name="Build an acceptance report").click()
    panel.get_by_text("The acceptance report is being built.").wait_for()
    page.wait_for_function("!document.querySelector('#report-panel .htmx-request')")
    assert "No report has been asked for yet" not in panel.inner_text()
    (post,) = [
        response
        for method, response in answers
        if method == "POST" and response.url.endswith("/report/request/")
    ]
    assert post.status == 200 and post.request.headers.get("hx-request") == "true"
    # The page was not reloaded: htmx swapped the panel in.
    assert page.url.endswith(f"/reports/plans/{plan.pk}/")
    report = AcceptanceReport.objects.get()
    panel.get_by_text(re.compile("The latest report says|A report is being built")).wait_for()
    page.screenshot(path=artifacts / "navigation-report-asked-with-htmx.png", full_page=True)
    assert report.plan_id == plan.pk
