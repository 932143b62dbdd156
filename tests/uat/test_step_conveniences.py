"""The execution page's conveniences: pass all remaining steps, steps not run shown as
such, the time spent, a step's defect linked instead of a duplicate invited, evidence
attached from the step itself with image thumbnails."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import DefectFactory, ExecutionFactory, StepResultFactory
from uat.models import Event, ExecutionStatus

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def execution(tester):
    return ExecutionFactory(tester=tester, case__steps=3)


def page_url(execution):
    return reverse("uat:execution", args=[execution.uuid])


def test_pass_all_remaining_marks_every_unmarked_step_without_javascript(client, tester, execution):
    StepResultFactory(execution=execution, position=2, status="blocked", actual_result="x")
    client.force_login(tester)
    response = client.post(
        page_url(execution),
        {"pass_remaining": "1", "lock_version": execution.lock_version, "actual_3": "fine"},
    )
    assert response.status_code == 302
    results = dict(execution.step_results.values_list("position", "status"))
    assert results == {1: "passed", 2: "blocked", 3: "passed"}
    assert execution.step_results.get(position=3).actual_result == "fine"
    marks = Event.objects.filter(verb="execution.step_recorded")
    assert sorted(event.after["position"] for event in marks) == [1, 3]
    followed = client.get(response["Location"])
    assert "2 remaining steps saved as passed." in followed.text


def test_pass_all_remaining_with_htmx_returns_the_form(client, tester, execution):
    client.force_login(tester)
    response = client.post(
        page_url(execution),
        {"pass_remaining": "1", "lock_version": execution.lock_version},
        **HTMX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<form id="execution-form"')
    assert "3 remaining steps saved as passed." in response.text
    assert set(execution.step_results.values_list("status", flat=True)) == {"passed"}
    assert "Pass all remaining steps" not in response.text


def test_pass_all_remaining_is_refused_on_a_finished_run(client, tester):
    execution = ExecutionFactory(tester=tester, failed=True, case__steps=2)
    client.force_login(tester)
    response = client.post(
        page_url(execution), {"pass_remaining": "1", "lock_version": execution.lock_version}
    )
    assert response.status_code == 400
    assert "This execution is finished" in response.text
    assert not execution.step_results.exists()


def test_pass_all_remaining_with_a_stale_lock_is_a_conflict_and_saves_nothing(
    client, tester, execution
):
    client.force_login(tester)
    response = client.post(
        page_url(execution), {"pass_remaining": "1", "lock_version": execution.lock_version + 5}
    )
    assert response.status_code == 409
    assert not execution.step_results.exists()


def test_finishing_after_a_failure_shows_the_unmarked_steps_as_not_run(client, tester, execution):
    StepResultFactory(execution=execution, position=1, status="failed", actual_result="broke")
    client.force_login(tester)
    response = client.post(
        page_url(execution), {"finish": "1", "lock_version": execution.lock_version}
    )
    assert response.status_code == 302
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    (event,) = Event.objects.filter(verb="execution.recorded")
    assert event.after["not_run"] == [2, 3]
    page = client.get(response["Location"])
    assert "Not run: step 2, 3." in page.text
    assert page.text.count('<span class="badge status-not_run">Not run</span>') == 2
    assert "not run: step 2, 3" in page.text


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "None recorded yet"), (45, "45 s"), (12 * 60 + 10, "12 min"), (3900, "1 h 5 min")],
)
def test_the_execution_page_shows_the_time_spent(client, tester, seconds, shown):
    execution = ExecutionFactory(tester=tester, passed=True, time_spent_seconds=seconds)
    client.force_login(tester)
    response = client.get(page_url(execution))
    assert f'<dd id="time-spent">{shown}</dd>' in response.text


def test_a_step_with_a_defect_links_to_it_and_still_offers_another(client, tester):
    execution = ExecutionFactory(tester=tester, failed=True, case__steps=2)
    StepResultFactory(execution=execution, position=1, status="failed", actual_result="a")
    StepResultFactory(execution=execution, position=2, status="failed", actual_result="b")
    defect = DefectFactory(release=execution.plan.release, step_position=1, title="Total wrong")
    defect.executions.add(execution)
    client.force_login(tester)
    response = client.get(page_url(execution))
    first, second = response.text.split('id="step-2"')
    assert f'See <a href="{reverse("uat:defect", args=[defect.pk])}">' in first
    assert f"{defect.reference} Total wrong</a> (new) reported for this step." in first
    assert "Report another defect" in first and ">Report defect<" not in first
    assert ">Report defect<" in second and "reported for this step" not in second
    # "Report another" goes on to the report form for that step, as *Report defect* does.
    another = client.post(page_url(execution), {"report_defect": "1"})
    assert another["Location"] == reverse("uat:defect_new", args=[execution.uuid]) + "?step=1"


PNG = b"\x89PNG\r\n\x1a\n" + b"rest of the image"


def test_evidence_is_attached_from_the_step_itself_without_javascript(client, tester, execution):
    client.force_login(tester)
    shot = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    response = client.post(
        reverse("uat:evidence_upload", args=[execution.uuid]),
        {"upload_step": "2", "file_2": shot, "actual_2": "it showed an error", "lock_version": 0},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#step-2")
    evidence = execution.evidence.get()
    assert (evidence.step_position, evidence.original_name) == (2, "shot.png")
    page = client.get(page_url(execution))
    step_two = page.text.split('id="step-2"')[1].split('id="step-3"')[0]
    image = reverse("uat:evidence", args=[execution.uuid, evidence.pk]) + "?view=1"
    assert f'<img class="thumb" src="{image}" alt="shot.png, open full size"' in step_two
    assert f'href="{image}" target="_blank"' in step_two
    assert "it showed an error" in step_two  # what was typed is kept across the upload
    assert 'name="file_2"' in step_two and 'value="2" formaction=' in step_two


def test_a_step_upload_without_a_file_asks_for_one(client, tester, execution):
    client.force_login(tester)
    response = client.post(
        reverse("uat:evidence_upload", args=[execution.uuid]), {"upload_step": "1"}
    )
    assert response["Location"].endswith("#step-1")  # back to the step it came from
    assert "Choose a file to upload." in client.get(response["Location"]).text
    assert not execution.evidence.exists()


def test_an_image_is_shown_inline_only_when_asked_and_only_if_it_is_an_image(
    client, tester, execution
):
    client.force_login(tester)
    url = reverse("uat:evidence_upload", args=[execution.uuid])
    client.post(url, {"file": SimpleUploadedFile("a.png", PNG)})
    client.post(url, {"file": SimpleUploadedFile("b.txt", b"<script>alert(1)</script>")})
    image, text = execution.evidence.order_by("pk")
    inline = client.get(reverse("uat:evidence", args=[execution.uuid, image.pk]) + "?view=1")
    assert inline["Content-Disposition"].startswith("inline")
    assert inline["Content-Type"] == "image/png"
    assert inline["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in inline["Content-Security-Policy"]
    asked = client.get(reverse("uat:evidence", args=[execution.uuid, text.pk]) + "?view=1")
    assert asked["Content-Disposition"].startswith("attachment")
    plain = client.get(reverse("uat:evidence", args=[execution.uuid, image.pk]))
    assert plain["Content-Disposition"].startswith("attachment")
