"""The QA lead's case editor and plan scope in the admin, in Chromium at a laptop's
1366 x 768: the steps table fits its column, steps move up and down with the keyboard or
the mouse, and the plan's case picker filters and adds in place with htmx."""

import pytest

from accounts.models import Role
from tests.factories import CaseFactory, PlanFactory, UserFactory
from uat.models import Event

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "correct-horse-battery"
LAPTOP = {"width": 1366, "height": 768}


def admin_sign_in(page) -> None:
    lead = UserFactory(
        email="lead@example.com", full_name="Quinn Lead", staff=True, roles=[Role.QA_LEAD]
    )
    page.goto("/admin/login/")
    page.get_by_label("Email address").fill(lead.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def _inside(page, locator) -> None:
    """``locator`` is drawn whole inside the viewport's width and inside every box that
    clips it (the inline's own column)."""
    box = locator.bounding_box()
    assert box is not None and box["width"] > 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], box
    clipped = locator.evaluate(
        """element => {
            const own = element.getBoundingClientRect();
            for (let box = element.parentElement; box; box = box.parentElement) {
                const style = getComputedStyle(box);
                if (style.overflowX === 'visible') continue;
                const edge = box.getBoundingClientRect();
                if (own.right > edge.right + 0.5 || own.left < edge.left - 0.5) return true;
            }
            return false;
        }"""
    )
    assert not clipped


def test_the_steps_table_fits_a_laptop_screen(new_page, artifacts):
    case = CaseFactory(steps=3)
    page = new_page(viewport=LAPTOP)
    admin_sign_in(page)
    page.goto(f"/admin/uat/case/{case.pk}/change/")
    row = page.locator("#steps-group tr.form-row").first
    _inside(page, row.locator("textarea[name$='-expected']"))
    _inside(page, row.locator("input[name$='-DELETE']"))
    # Nothing makes the page itself scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    page.screenshot(path=artifacts / "case-editor-1366.png", full_page=True)


def test_steps_move_up_and_down_and_are_saved_in_that_order(new_page):
    case = CaseFactory(steps=3)
    page = new_page(viewport=LAPTOP)
    admin_sign_in(page)
    page.goto(f"/admin/uat/case/{case.pk}/change/")
    # With the keyboard: step 3 up to second place.
    page.get_by_role("button", name="Move step 3 up").focus()
    page.keyboard.press("Enter")
    # The moved step keeps the focus, under its new number.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == ("Move step 2 up")
    page.get_by_role("status").filter(has_text="Step moved to position 2.").wait_for(
        state="attached"
    )
    # With the mouse: the first step down to second place.
    page.get_by_role("button", name="Move step 1 down").click()
    orders = page.locator("#steps-group tr.form-row:not(.empty-form) td.field-position input")
    actions = page.locator("#steps-group tr.form-row:not(.empty-form) td.field-action textarea")
    assert orders.evaluate_all("inputs => inputs.map(i => i.value)") == ["1", "2", "3", "4"]
    assert actions.evaluate_all("areas => areas.map(a => a.value)")[:3] == [
        "Do thing 3",
        "Do thing 1",
        "Do thing 2",
    ]
    assert page.get_by_role("button", name="Move step 1 up").is_disabled()
    # A number typed by hand moves its step there on leaving the field.
    orders.nth(2).fill("1")
    orders.nth(2).press("Tab")
    assert orders.evaluate_all("inputs => inputs.map(i => i.value)") == ["1", "2", "3", "4"]
    assert actions.evaluate_all("areas => areas.map(a => a.value)")[:3] == [
        "Do thing 2",
        "Do thing 3",
        "Do thing 1",
    ]
    page.get_by_role("button", name="Move step 1 down").click()
    page.get_by_role("button", name="Move step 2 down").click()
    # A step added with "Add another" gets the next number.
    page.get_by_role("button", name="Add another Case step").click()
    assert orders.evaluate_all("inputs => inputs.map(i => i.value)") == ["1", "2", "3", "4", "5"]
    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_text("was changed successfully").wait_for()
    assert [s.action for s in case.steps.order_by("position")] == [
        "Do thing 3",
        "Do thing 1",
        "Do thing 2",
    ]
    assert [s["action"] for s in case.versions.latest().steps] == [
        "Do thing 3",
        "Do thing 1",
        "Do thing 2",
    ]


def test_the_case_picker_filters_as_the_lead_types_and_adds_all_shown(new_page, artifacts):
    plan = PlanFactory()
    product = plan.release.product
    CaseFactory(product=product, key="CRM-001", title="Sign in")
    CaseFactory(product=product, key="CRM-002", title="Sign out")
    CaseFactory(product=product, key="CRM-003", title="Create a quote")
    page = new_page(viewport=LAPTOP)
    admin_sign_in(page)
    page.goto(f"/admin/uat/plan/{plan.pk}/change/")
    page.get_by_role("link", name="Choose cases with filters").click()
    results = page.locator("#scope-results")
    page.wait_for_url("**/scope/")
    page.wait_for_load_state("load")  # htmx (deferred) is listening
    results.get_by_text("CRM-003").wait_for()
    page.get_by_label("Key or title contains").fill("sign")
    # htmx redraws the results alone, and the address keeps the filter.
    results.get_by_text("CRM-003").wait_for(state="detached")
    assert "q=sign" in page.url
    page.get_by_role("button", name="Add all 2 shown").click()
    page.get_by_role("status").filter(has_text="added 2 cases (CRM-001, CRM-002)").wait_for()
    assert results.locator("tbody td").get_by_text("In scope", exact=True).count() == 2
    assert sorted(case.key for case in plan.cases.all()) == ["CRM-001", "CRM-002"]
    assert Event.objects.filter(verb="plan.scope_changed").count() == 1
    page.screenshot(path=artifacts / "plan-case-picker.png", full_page=True)
