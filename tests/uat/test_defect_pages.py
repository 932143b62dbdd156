"""Reporting a defect from a failed step, following it, triaging it, and the retest."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import DefectFactory, ExecutionFactory, StepResultFactory
from uat.models import Defect, DefectStatus, Execution, ExecutionStatus

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def failed_run(tester):
    execution = ExecutionFactory(tester=tester, in_progress=True)
    StepResultFactory(execution=execution, position=1, status="passed")
    StepResultFactory(
        execution=execution, position=2, status="failed", actual_result="Error 500 on save"
    )
    return execution


def test_the_defect_form_is_prefilled_from_the_failed_step(client, tester, failed_run):
    client.force_login(tester)
    url = reverse("uat:defect_new", args=[failed_run.uuid])
    response = client.get(url, {"step": 2})
    form = response.context["form"]
    assert "step 2 — Error 500 on save" in form.initial["title"]
    reproduce = form.initial["steps_to_reproduce"]
    assert "1. Do thing 1" in reproduce and "2. Do thing 2" in reproduce
    assert "Expected: Thing 2 done" in reproduce
    assert "Actual (failed): Error 500 on save" in reproduce
    assert "3. Do thing 3" not in reproduce
    assert f"Build: {failed_run.build}" in reproduce
    assert failed_run.environment.name in response.text


def test_reporting_needs_a_severity_and_links_the_defect_and_the_screenshot(
    client, tester, failed_run
):
    client.force_login(tester)
    url = reverse("uat:defect_new", args=[failed_run.uuid])
    data = {"step": "2", "title": "Save fails", "steps_to_reproduce": "1. Save"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "severity" in response.context["form"].errors
    screenshot = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    response = client.post(url, {**data, "severity": "major", "file": screenshot})
    defect = Defect.objects.get()
    assert response.url == reverse("uat:defect", args=[defect.pk])
    assert list(defect.executions.all()) == [failed_run]
    assert (defect.step_position, defect.build) == (2, failed_run.build)
    evidence = failed_run.evidence.get()
    assert (evidence.step_position, evidence.content_type) == (2, "image/png")


def test_a_tester_sees_the_defects_they_reported(client, tester):
    mine = DefectFactory(reported_by=tester, title="Mine")
    DefectFactory(title="Not mine")
    client.force_login(tester)
    response = client.get(reverse("uat:my_defects"))
    assert list(response.context["page"].object_list) == [mine]


def test_the_lead_filters_defects(client, lead):
    critical = DefectFactory(critical=True)
    DefectFactory(minor=True)
    client.force_login(lead)
    response = client.get(reverse("uat:defect_list"), {"severity": "critical"})
    assert list(response.context["page"].object_list) == [critical]
    response = client.get(reverse("uat:defect_list"), {"release": critical.release_id})
    assert list(response.context["page"].object_list) == [critical]


def test_fixed_defect_queues_a_retest_that_once_passed_lets_the_lead_verify(
    client, lead, tester, failed_run
):
    client.force_login(tester)
    client.post(page_url := reverse("uat:execution", args=[failed_run.uuid]), {"finish": "1"})
    failed_run.refresh_from_db()
    assert failed_run.status == ExecutionStatus.FAILED
    defect = DefectFactory(release=failed_run.plan.release, reported_by=tester)
    defect.executions.add(failed_run)
    Defect.objects.filter(pk=defect.pk).update(status=DefectStatus.CONFIRMED)

    client.force_login(lead)
    move = reverse("uat:defect_transition", args=[defect.pk])
    client.post(move, {"status": "fixed", "fixed_in_build": "fix-1"})
    retest = Execution.objects.get(retest_of=failed_run)
    assert retest.tester == tester

    response = client.post(move, {"status": "verified"}, follow=True)
    assert "verified by a passing retest first" in response.text
    defect.refresh_from_db()
    assert defect.status == DefectStatus.FIXED

    client.force_login(tester)
    inbox = client.get(reverse("uat:inbox"), {"show": "retest"})
    assert "Retest" in inbox.text
    retest_url = reverse("uat:execution", args=[retest.uuid])
    for position in (1, 2, 3):
        retest.refresh_from_db()
        client.post(retest_url, {"mark": f"{position}:passed", "lock_version": retest.lock_version})
    client.post(retest_url, {"finish": "1"})
    retest.refresh_from_db()
    assert retest.status == ExecutionStatus.PASSED

    client.force_login(lead)
    client.post(move, {"status": "verified"})
    defect.refresh_from_db()
    assert defect.status == DefectStatus.VERIFIED
    assert page_url


def test_only_a_lead_moves_a_defect(client, tester):
    defect = DefectFactory(reported_by=tester)
    client.force_login(tester)
    response = client.post(
        reverse("uat:defect_transition", args=[defect.pk]), {"status": "confirmed"}
    )
    assert response.status_code == 403
    defect.refresh_from_db()
    assert defect.status == DefectStatus.NEW


def test_a_beta_tester_sees_nothing_internal_on_a_defect(client, beta_tester, tester):
    beta_run = ExecutionFactory(tester=beta_tester, failed=True)
    internal_run = ExecutionFactory(plan=beta_run.plan, tester=tester, failed=True)
    defect = DefectFactory(
        release=beta_run.plan.release, reported_by=tester, external_key="JIRA-77"
    )
    defect.executions.add(beta_run, internal_run)
    client.force_login(beta_tester)
    response = client.get(reverse("uat:defect", args=[defect.pk]))
    assert response.context["runs"] == [beta_run]
    assert "JIRA-77" not in response.text
    assert tester.full_name not in response.text
