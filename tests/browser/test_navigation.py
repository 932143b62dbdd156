"""Finding one's way, in a real browser: each person lands where their work is, and the
buttons of the pages they land on work with JavaScript on (htmx) as well as off."""

import re

import pytest

from accounts.models import Role
from reports.fingerprint import plan_fingerprint
from reports.models import AcceptanceReport, SignOff
from tests.factories import (
    AcceptanceReportFactory,
    ExecutionFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    UserFactory,
)

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


def test_each_person_lands_where_their_work_is_and_finds_the_release(new_page, artifacts):
    lead = UserFactory(email="lead@example.com", staff=True, roles=[Role.QA_LEAD])
    owner = UserFactory(email="owner@example.com", roles=[Role.STAKEHOLDER])
    plan = PlanFactory(name="Acme CRM 2.4 alpha", owner=lead)
    plan.stakeholders.add(owner)
    PlanSignoffRoleFactory(plan=plan, signers=[owner])
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    release = plan.release

    # The QA lead lands on the releases they run, and reaches the release's records.
    page = new_page()
    sign_in(page, lead.email)
    page.get_by_role("heading", name="Releases", exact=True).wait_for()
    page.get_by_role("heading", name="Releases you run").wait_for()
    page.get_by_role("link", name=str(release)).click()
    page.get_by_role("heading", name=str(release)).wait_for()
    for name in ("Waivers", "Audit trail", "Evidence package"):
        assert page.get_by_role("link", name=name, exact=True).is_visible(), name
    page.screenshot(path=artifacts / "navigation-release-page.png", full_page=True)
    page.get_by_role("link", name="Evidence package", exact=True).click()
    page.get_by_role("button", name="Build evidence package").wait_for()

    # The stakeholder lands on what waits for their signature, and on to their release.
    page = new_page()
    sign_in(page, owner.email)
    page.get_by_role("heading", name="Waiting for my signature").wait_for()
    assert page.get_by_role("link", name="Releases", exact=True).is_visible()
    assert page.get_by_role("link", name="My work").count() == 0
    page.screenshot(path=artifacts / "navigation-waiting-for-signature.png", full_page=True)
    assert page.locator(f"a[href='/reports/{report.uuid}/sign/']").is_visible()
    page.get_by_role("link", name=str(release)).first.click()
    page.get_by_role("heading", name=str(release)).wait_for()


def test_the_gate_command_is_copied_with_one_click(new_page, live_server, settings):
    settings.SITE_URL = live_server.url
    lead = UserFactory(email="lead@example.com", staff=True, roles=[Role.QA_LEAD])
    release = PlanFactory().release
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    sign_in(page, lead.email)
    page.goto(f"/reports/releases/{release.pk}/")
    page.get_by_role("button", name="Copy the release id").click()
    page.locator("#release-id-copied").get_by_text("Copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == str(release.pk)
    page.get_by_role("button", name="Copy the command").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        f"GREENLIGHT_URL={live_server.url} GREENLIGHT_TOKEN=glt_… "
        f"scripts/release-gate {release.pk} beta"
    )


def test_without_javascript_the_commands_show_and_no_copy_button_does(new_page):
    lead = UserFactory(email="lead@example.com", staff=True, roles=[Role.QA_LEAD])
    release = PlanFactory().release
    page = new_page(java_script_enabled=False)
    sign_in(page, lead.email)
    page.goto(f"/reports/releases/{release.pk}/")
    assert page.get_by_text(f"scripts/release-gate {release.pk} production").is_visible()
    assert page.get_by_role("button", name="Copy the release id").count() == 0


def test_approving_a_no_go_report_asks_for_the_confirmation(new_page):
    owner = UserFactory(
        email="owner@example.com", full_name="Olive Owner", roles=[Role.STAKEHOLDER]
    )
    plan = PlanFactory()
    PlanSignoffRoleFactory(plan=plan, signers=[owner])
    report = AcceptanceReportFactory(
        plan=plan, ready=True, decision="no-go", fingerprint=plan_fingerprint(plan)
    )
    page = new_page()
    sign_in(page, owner.email)
    page.goto(f"/reports/{report.uuid}/sign/")
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Comment (optional)").fill("Accepted for the pilot")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    page.get_by_text("confirm that you accept the release despite them").wait_for()
    assert page.get_by_label("Comment (optional)").input_value() == "Accepted for the pilot"
    assert not SignOff.objects.exists()
    page.get_by_label("I approve this release although").check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign", exact=True).click()
    page.get_by_text("Signed: Approved as Business Owner.").wait_for()
    assert page.get_by_role("link", name="Sign this report").count() == 0
