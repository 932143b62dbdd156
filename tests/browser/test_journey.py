"""The whole journey of a beta tester and a QA lead, in a real browser.

Invite a beta tester → they choose a password → execute a case → fail a step with an
actual result → report a defect with a screenshot → the QA lead marks it fixed → the
tester passes the retest → the lead verifies the defect. Each page is kept as a
screenshot under test-artifacts/.
"""

import re

import pytest
from django.core import mail

from accounts.models import Role
from tests.factories import CaseFactory, CohortFactory, PlanFactory, UserFactory
from uat.models import Defect, DefectStatus
from uat.services import plan_assign

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "blue-meadow-4711"


def sign_in(page, email: str, password: str) -> None:
    page.goto("/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def snap(page, artifacts, name: str) -> None:
    page.screenshot(path=artifacts / f"journey-{name}.png", full_page=True)


def test_invite_execute_fail_report_fix_retest_verify(new_page, live_server, artifacts, settings):
    settings.SITE_URL = live_server.url
    lead = UserFactory(
        email="lead@example.com", full_name="Quinn Lead", staff=True, roles=[Role.QA_LEAD]
    )
    cohort = CohortFactory(beta=True, name="Customer pilots")
    case = CaseFactory(product=cohort.product, title="Create a quote for a customer", steps=3)
    plan = PlanFactory(release__product=cohort.product, beta=True, cases=[case], cohorts=[cohort])

    # The QA lead invites a beta tester.
    lead_page = new_page()
    sign_in(lead_page, lead.email, PASSWORD)
    lead_page.get_by_role("link", name="Invite testers").click()
    lead_page.get_by_label("Email address of the tester").fill("nia@customer.example")
    lead_page.get_by_label("Beta cohort").select_option(label=str(cohort))
    lead_page.get_by_role("button", name="Send invitation").click()
    lead_page.get_by_text("Invitation sent to nia@customer.example").wait_for()
    snap(lead_page, artifacts, "01-lead-invites")

    # The invitee follows the emailed link and chooses a name and password.
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/invitations/\S+/", message.body).group(0)
    page = new_page()
    page.goto(link)
    snap(page, artifacts, "02-invitation")
    page.get_by_label("Your name").fill("Nia Customer")
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Start testing").click()
    page.get_by_role("heading", name="My work").wait_for()

    # The lead assigns the plan to the cohort; the case shows up in the inbox.
    plan_assign(plan=plan, cohort=cohort, actor=lead)
    page.reload()
    snap(page, artifacts, "03-inbox")
    page.get_by_role("link", name=case.title).click()

    # Step 1 passes, step 2 fails with what actually happened: each saves with htmx.
    page.get_by_role("heading", name=re.compile(case.title)).wait_for()
    step1 = page.locator("#step-1")
    step1.get_by_role("button", name="Passed").click()
    page.locator("#step-1 .badge", has_text="Passed").wait_for()
    page.get_by_label("Actual result").nth(1).fill("The quote total shows 0.00 EUR")
    page.locator("#step-2").get_by_role("button", name="Failed").click()
    page.locator("#step-2").get_by_role("button", name="Report defect").wait_for()
    page.get_by_text("result so far:").wait_for()
    snap(page, artifacts, "04-execution-failed-step")

    # Report the defect with a screenshot of the failing page.
    screenshot = artifacts / "journey-evidence.png"
    page.screenshot(path=screenshot)
    page.locator("#step-2").get_by_role("button", name="Report defect").click()
    assert "The quote total shows 0.00 EUR" in page.get_by_label("Steps to reproduce").input_value()
    page.get_by_label("Severity").select_option("major")
    page.get_by_label("Screenshot or file (optional)").set_input_files(screenshot)
    snap(page, artifacts, "05-report-defect")
    page.get_by_role("button", name="Report defect").click()
    page.get_by_text("Thank you!").wait_for()
    page.get_by_role("link", name="journey-evidence.png").wait_for()
    snap(page, artifacts, "06-defect-reported")
    defect = Defect.objects.get()

    # The tester finishes the run: failed.
    page.get_by_role("link", name=re.compile(case.key)).first.click()
    page.get_by_role("button", name="Finish and save the result").click()
    page.get_by_text(f"Saved: {case.key} Failed.").wait_for()

    # The QA lead confirms and fixes the defect: a retest is queued for the tester.
    lead_page.get_by_role("link", name="Defect triage").click()
    lead_page.get_by_role("link", name=re.compile(defect.reference)).click()
    lead_page.get_by_role("button", name="Mark confirmed").click()
    lead_page.get_by_text(f"{defect.reference} is now confirmed.").wait_for()
    # The UAT environment still runs the build that failed: the lead names the fix's.
    lead_page.get_by_label("Fixed in build").fill("journey-fix-1")
    lead_page.get_by_role("button", name="Mark fixed").click()
    lead_page.get_by_text(f"{defect.reference} is now fixed.").wait_for()
    # The move and its build are in the defect's history; a comment joins it in place.
    lead_page.locator("#conversation").get_by_text("fixed in build journey-fix-1").wait_for()
    lead_page.get_by_role("textbox", name="Comment").fill("Please retest on journey-fix-1.")
    lead_page.get_by_role("button", name="Add comment").click()
    lead_page.get_by_text("Your comment is added.").wait_for()
    lead_page.locator("#conversation").get_by_text("Please retest on journey-fix-1.").wait_for()
    snap(lead_page, artifacts, "07-lead-marks-fixed")

    # The tester sees the retest and passes it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My work").click()
    page.get_by_role("link", name="Retests").click()
    retest_row = page.locator("tr", has_text="Retest")
    retest_row.wait_for()
    snap(page, artifacts, "08-inbox-retest")
    retest_row.get_by_role("link", name=case.title).click()
    # The retest names the fix and its build, and what failed last time.
    page.get_by_text("was marked fixed in build journey-fix-1").wait_for()
    page.locator(".retest li", has_text="The quote total shows 0.00 EUR").wait_for()
    for position in (1, 2, 3):
        page.locator(f"#step-{position}").get_by_role("button", name="Passed").click()
        page.locator(f"#step-{position} .badge", has_text="Passed").wait_for()
    page.get_by_role("button", name="Finish and save the result").click()
    page.get_by_text(f"Saved: {case.key} Passed.").wait_for()
    snap(page, artifacts, "09-retest-passed")

    # The lead verifies the defect.
    lead_page.reload()
    lead_page.get_by_role("button", name="Mark verified").click()
    lead_page.get_by_text(f"{defect.reference} is now verified.").wait_for()
    snap(lead_page, artifacts, "10-lead-verifies")
    defect.refresh_from_db()
    assert defect.status == DefectStatus.VERIFIED
    assert defect.executions.get().evidence.get().content_type == "image/png"
