"""Nothing a tester types is lost: the actual results typed but not marked yet and the
run's note are kept server-side as drafts, and every post from the execution page
keeps all of them — marking a step without JavaScript, uploading evidence, going to
report a defect, a refused finish, a conflict. Drafts are not results: they never move
the report's fingerprint, the lock or the tallies."""

import html
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports.fingerprint import plan_fingerprint
from tests.factories import ExecutionFactory, StepResultFactory, UserFactory
from uat.models import Event, ExecutionTally

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = b"\x89PNG\r\n\x1a\n" + b"rest of the image"


@pytest.fixture
def run(tester):
    return ExecutionFactory(tester=tester, in_progress=True)


def page_url(run):
    return reverse("uat:execution", args=[run.uuid])


def draft_url(run):
    return reverse("uat:execution_draft", args=[run.uuid])


def box(response_or_text, element_id: str) -> str | None:
    """The text of the page's textarea ``element_id`` (None when there is none)."""
    text = getattr(response_or_text, "text", response_or_text)
    found = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', text, re.S)
    return html.unescape(found.group(1)) if found else None


def typed(run, **texts) -> dict:
    """What the execution form posts: every step's actual result box and the note."""
    return {"lock_version": run.lock_version, **texts}


def test_typing_keeps_a_draft_that_the_page_restores(client, tester, run):
    client.force_login(tester)
    response = client.post(
        draft_url(run), {"actual_2": "The total shows 0.00", "notes": "Half done"}, **HTMX
    )
    assert response.status_code == 200
    assert "Draft saved" in response.text
    page = client.get(page_url(run))
    assert box(page, "actual-2") == "The total shows 0.00"
    assert box(page, "notes") == "Half done"
    assert box(page, "actual-1") == ""


def test_marking_a_step_without_javascript_keeps_every_other_typed_text(client, tester, run):
    client.force_login(tester)
    data = typed(run, mark="1:passed", actual_1="", actual_2="Spinner forever", notes="Slow")
    response = client.post(page_url(run), data)
    assert response.status_code == 302
    page = client.get(response.url)
    assert "Step 1 saved as passed." in page.text
    assert box(page, "actual-2") == "Spinner forever"
    assert box(page, "notes") == "Slow"


def test_uploading_evidence_keeps_the_typed_texts(client, tester, run):
    client.force_login(tester)
    data = typed(
        run,
        actual_3="Logo is cut off",
        notes="See the screenshot",
        file=SimpleUploadedFile("shot.png", PNG),
        step_position="3",
    )
    response = client.post(reverse("uat:evidence_upload", args=[run.uuid]), data)
    assert response.status_code == 302
    page = client.get(page_url(run))
    assert "Attached shot.png." in page.text
    assert box(page, "actual-3") == "Logo is cut off"
    assert box(page, "notes") == "See the screenshot"


def test_an_upload_without_a_file_still_keeps_the_typed_texts(client, tester, run):
    client.force_login(tester)
    response = client.post(
        reverse("uat:evidence_upload", args=[run.uuid]), typed(run, actual_1="Typed"), follow=True
    )
    assert "Choose a file to upload." in response.text
    assert box(response, "actual-1") == "Typed"


def test_report_defect_saves_the_typed_texts_before_leaving(client, tester, run):
    StepResultFactory(execution=run, position=2, status="failed", actual_result="Error 500")
    client.force_login(tester)
    page = client.get(page_url(run))
    assert 'name="report_defect" value="2"' in page.text
    data = typed(run, report_defect="2", actual_3="Not reached yet", notes="Stopped at 2")
    response = client.post(page_url(run), data)
    assert response.status_code == 302
    assert response.url == reverse("uat:defect_new", args=[run.uuid]) + "?step=2"
    page = client.get(page_url(run))
    assert box(page, "actual-3") == "Not reached yet"
    assert box(page, "notes") == "Stopped at 2"


def test_next_case_saves_the_typed_texts_before_leaving(client, tester, run):
    client.force_login(tester)
    response = client.post(page_url(run), typed(run, next="1", actual_1="Half typed"))
    assert response.status_code == 302
    assert box(client.get(page_url(run)), "actual-1") == "Half typed"


def test_a_refused_finish_keeps_the_note_and_the_texts(client, tester, run):
    StepResultFactory(execution=run, position=1)
    client.force_login(tester)
    data = typed(run, finish="1", notes="All fine so far", actual_2="Typed, not marked")
    response = client.post(page_url(run), data)
    assert response.status_code == 400
    assert "Record a result for step 2, 3 first." in response.text
    assert box(response, "notes") == "All fine so far"
    assert box(response, "actual-2") == "Typed, not marked"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_conflict_shows_their_text_beside_what_is_saved_now(client, tester, run, headers):
    client.force_login(tester)
    stale = run.lock_version
    # Another tab saved step 1 meanwhile.
    client.post(page_url(run), {"mark": "1:failed", "actual_1": "Theirs", "lock_version": stale})
    data = {
        "mark": "1:failed",
        "actual_1": "Mine",
        "actual_2": "Also mine",
        "notes": "My note",
        "lock_version": stale,
    }
    response = client.post(page_url(run), data, **headers)
    assert response.status_code == (200 if headers else 409)
    assert "Someone else saved this execution" in response.text
    assert box(response, "actual-1") == "Mine"  # theirs, editable
    saved = re.search(r'<div class="saved-now" id="saved-1">(.*?)</div>', response.text, re.S)
    assert saved and "Theirs" in saved.group(1)  # and what is saved now, beside it
    assert box(response, "actual-2") == "Also mine"
    assert box(response, "notes") == "My note"
    assert run.step_results.get().actual_result == "Theirs"
    # Their text stays after a reload too, until they mark the step again.
    assert box(client.get(page_url(run)), "actual-1") == "Mine"


@pytest.mark.parametrize("action", ["finish", "mark"])
def test_a_run_finished_in_another_tab_still_shows_what_they_typed(client, tester, run, action):
    for position in (1, 2, 3):
        StepResultFactory(execution=run, position=position)
    client.force_login(tester)
    stale = run.lock_version
    client.post(page_url(run), {"finish": "1", "notes": "Finished in the other tab"})
    data = {action: "1" if action == "finish" else "2:failed", "lock_version": stale}
    data |= {"notes": "Typed here", "actual_2": "Mine"}
    response = client.post(page_url(run), data)
    assert response.status_code == 400
    assert "finished" in response.text
    assert box(response, "unsaved-notes") == "Typed here"
    assert box(response, "unsaved-2") == "Mine"
    assert "Finished in the other tab" in response.text


def test_marking_a_step_clears_its_draft_and_finishing_clears_them_all(client, tester, run):
    client.force_login(tester)
    client.post(draft_url(run), {"actual_1": "Draft one", "notes": "Draft note"}, **HTMX)
    client.post(page_url(run), typed(run, mark="1:passed", actual_1="Recorded"), **HTMX)
    assert run.drafts.filter(field="actual_1").count() == 0
    assert run.step_results.get().actual_result == "Recorded"
    run.refresh_from_db()
    for position in (2, 3):
        client.post(page_url(run), typed(run, mark=f"{position}:passed"))
        run.refresh_from_db()
    client.post(page_url(run), typed(run, finish="1", notes="Done"))
    run.refresh_from_db()
    assert (run.status, run.notes) == ("passed", "Done")
    assert not run.drafts.exists()


def test_a_text_equal_to_what_is_saved_keeps_no_draft(client, tester, run):
    StepResultFactory(execution=run, position=1, status="failed", actual_result="Error")
    client.force_login(tester)
    client.post(draft_url(run), {"actual_1": "Error ", "actual_2": "", "notes": ""}, **HTMX)
    assert not run.drafts.exists()
    client.post(draft_url(run), {"actual_1": "Error, and more"}, **HTMX)
    assert list(run.drafts.values_list("field", "text")) == [("actual_1", "Error, and more")]
    page = client.get(page_url(run))
    assert box(page, "actual-1") == "Error, and more"
    assert "Error" in re.search(r'id="saved-1">(.*?)</div>', page.text, re.S).group(1)


def test_drafts_are_not_results(client, tester, run):
    """Typing moves nothing a report reads, and no lock: it never makes a conflict."""
    client.force_login(tester)
    fingerprint = plan_fingerprint(run.plan)
    tally = ExecutionTally.objects.get(plan_id=run.plan_id).changes
    events = Event.objects.count()
    client.post(draft_url(run), {"actual_1": "Typed", "notes": "Note"}, **HTMX)
    assert run.drafts.count() == 2
    assert plan_fingerprint(run.plan) == fingerprint
    assert ExecutionTally.objects.get(plan_id=run.plan_id).changes == tally
    assert Event.objects.count() == events
    lock = run.lock_version
    run.refresh_from_db()
    assert run.lock_version == lock


def test_without_javascript_the_draft_endpoint_goes_back_to_the_page(client, tester, run):
    client.force_login(tester)
    response = client.post(draft_url(run), {"notes": "Kept"})
    assert response.status_code == 302
    assert response.url == page_url(run) + "#execution-form"
    assert box(client.get(response.url), "notes") == "Kept"


@pytest.mark.parametrize("persona", ["lead", "stakeholder", "other_tester"])
def test_only_the_runs_tester_keeps_drafts(client, request, run, persona, lead, stakeholder):
    run.plan.stakeholders.add(stakeholder)
    if persona == "other_tester":
        user = UserFactory(roles=["Tester"])
        expected = 404  # they cannot see the run at all
    else:
        user = request.getfixturevalue(persona)
        expected = 403
    client.force_login(user)
    assert client.post(draft_url(run), {"notes": "Not mine"}, **HTMX).status_code == expected
    assert not run.drafts.exists()


def test_the_service_asks_the_policy(run, lead):
    from uat.services import execution_drafts_save

    with pytest.raises(PermissionDenied):
        execution_drafts_save(execution=run, actor=lead, texts={"notes": "x"})


def test_a_finished_run_keeps_no_drafts(client, tester):
    run = ExecutionFactory(tester=tester, passed=True)
    client.force_login(tester)
    response = client.post(draft_url(run), {"notes": "Too late"}, **HTMX)
    assert response.status_code == 409
    assert "finished" in response.text
    assert not run.drafts.exists()


def test_a_draft_is_the_testers_own(client, tester, run):
    """A run handed to someone else does not show them the first tester's drafts."""
    client.force_login(tester)
    client.post(draft_url(run), {"notes": "Mine"}, **HTMX)
    colleague = UserFactory(roles=["Tester"])
    type(run).objects.filter(pk=run.pk).update(tester=colleague)
    client.force_login(colleague)
    assert box(client.get(page_url(run)), "notes") == ""


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
@pytest.mark.parametrize("position", [0, 9])
def test_marking_a_step_the_case_lacks_is_a_400_that_keeps_the_texts(
    client, tester, run, headers, position
):
    client.force_login(tester)
    data = typed(run, mark=f"{position}:passed", notes="Kept anyway")
    response = client.post(page_url(run), data, **headers)
    assert response.status_code == 400
    assert box(client.get(page_url(run)), "notes") == "Kept anyway"
