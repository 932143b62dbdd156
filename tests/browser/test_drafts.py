"""Nothing a tester types is lost, in a real browser: what is typed is kept as a draft
as they type (htmx), and every way off the page — uploading evidence, reporting a
defect, a reload, a conflict with another tab — finds it again."""

import re

import pytest

from tests.factories import ExecutionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def tester(db):
    return UserFactory(email="alpha@example.com", full_name="Alex Alpha", roles=["Tester"])


@pytest.fixture
def run(tester):
    return ExecutionFactory(tester=tester, in_progress=True)


def open_run(new_page, tester, run, **options):
    page = new_page(**options)
    page.goto("/")
    page.get_by_label("Email address").fill(tester.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My work").wait_for()
    page.goto(f"/executions/{run.uuid}/")
    return page


def actual(page, position: int):
    return page.locator(f"#step-{position}").get_by_label("Actual result")


def test_typed_text_survives_an_evidence_upload(new_page, tester, run, tmp_path):
    page = open_run(new_page, tester, run)
    shot = tmp_path / "logo.png"
    shot.write_bytes(PNG)
    page.get_by_label("Screenshot or file").set_input_files(shot)
    page.get_by_label("For step").select_option("2")
    actual(page, 2).fill("The logo is cut off")
    page.get_by_text(re.compile("Draft saved at")).wait_for()
    # At once, before the typing's draft is saved: the upload itself carries the text.
    page.get_by_label("Note (optional)").fill("Screenshot attached")
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Attached logo.png.").wait_for()
    assert actual(page, 2).input_value() == "The logo is cut off"
    assert page.get_by_label("Note (optional)").input_value() == "Screenshot attached"
    assert run.evidence.get().step_position == 2


def test_typed_text_is_restored_after_a_reload(new_page, tester, run):
    page = open_run(new_page, tester, run)
    actual(page, 1).fill("Half way through")
    page.get_by_label("Note (optional)").fill("Coffee break")
    page.get_by_text(re.compile("Draft saved at")).wait_for()
    page.wait_for_load_state("networkidle")
    page.reload()
    assert actual(page, 1).input_value() == "Half way through"
    assert page.get_by_label("Note (optional)").input_value() == "Coffee break"


def test_typed_text_is_restored_after_reporting_a_defect(new_page, tester, run):
    page = open_run(new_page, tester, run)
    actual(page, 1).fill("Error 500 on save")
    page.locator("#step-1").get_by_role("button", name="Failed").click()
    report = page.locator("#step-1").get_by_role("button", name="Report defect")
    report.wait_for()
    actual(page, 2).fill("Not reached: step 1 failed")
    page.get_by_label("Note (optional)").fill("Stopped early")
    report.click()
    page.get_by_role("heading", name="Report a defect").wait_for()
    assert "Error 500 on save" in page.get_by_label("Steps to reproduce").input_value()
    page.get_by_role("link", name="Cancel").click()
    assert actual(page, 2).input_value() == "Not reached: step 1 failed"
    assert page.get_by_label("Note (optional)").input_value() == "Stopped early"
    assert actual(page, 1).input_value() == "Error 500 on save"


def test_a_conflict_shows_their_text_beside_what_is_saved_now(new_page, tester, run, artifacts):
    page = open_run(new_page, tester, run)
    other_tab = page.context.new_page()
    other_tab.goto(f"/executions/{run.uuid}/")
    actual(other_tab, 1).fill("Saved from the other tab")
    other_tab.locator("#step-1").get_by_role("button", name="Failed").click()
    other_tab.locator("#step-1 .badge", has_text="Failed").wait_for()

    actual(page, 1).fill("Typed in this tab")
    actual(page, 2).fill("Also typed here")
    page.locator("#step-1").get_by_role("button", name="Blocked").click()
    page.get_by_role("alert").filter(has_text="Someone else saved this execution").wait_for()
    assert actual(page, 1).input_value() == "Typed in this tab"
    assert actual(page, 1).is_editable()
    saved = page.locator("#saved-1")
    assert "Saved from the other tab" in saved.inner_text()
    assert actual(page, 2).input_value() == "Also typed here"
    page.screenshot(path=artifacts / "drafts-conflict.png", full_page=True, caret="initial")
    # Their text wins only once they say so: marking again saves it.
    page.locator("#step-1").get_by_role("button", name="Blocked").click()
    page.locator("#step-1 .badge", has_text="Blocked").wait_for()
    result = run.step_results.get(position=1)
    assert (result.status, result.actual_result) == ("blocked", "Typed in this tab")


def test_without_javascript_marking_a_step_keeps_the_other_texts(new_page, tester, run):
    page = open_run(new_page, tester, run, java_script_enabled=False)
    actual(page, 2).fill("Typed before marking step 1")
    page.get_by_label("Note (optional)").fill("A note")
    page.locator("#step-1").get_by_role("button", name="Passed").click()
    page.get_by_text("Step 1 saved as passed.").wait_for()
    assert actual(page, 2).input_value() == "Typed before marking step 1"
    assert page.get_by_label("Note (optional)").input_value() == "A note"
