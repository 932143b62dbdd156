"""A fix names the build it is in, and its retests run on that build, not the one that
failed: the service, the defect page (htmx and without JavaScript), the API and the
admin; the retest's page names the fix and shows what failed last time."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from tests.admin_support import post_action, shown_messages
from tests.factories import DefectFactory, EvidenceFactory, ExecutionFactory, StepResultFactory
from uat import services
from uat.models import Defect, DefectStatus, Event, Execution

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def failed(tester):
    """A run the tester failed at step 2 on the UAT environment's current build."""
    execution = ExecutionFactory(tester=tester, failed=True, notes="Gave up after step 2")
    StepResultFactory(execution=execution, position=1, status="passed")
    StepResultFactory(
        execution=execution, position=2, status="failed", actual_result="Total shows 0.00 EUR"
    )
    return execution


@pytest.fixture
def defect(failed, tester):
    defect = DefectFactory(
        release=failed.plan.release, reported_by=tester, status=DefectStatus.CONFIRMED
    )
    defect.executions.add(failed)
    return defect


def retest_of(execution) -> Execution:
    return Execution.objects.get(retest_of=execution)


# ---------------------------------------------------------------------------- service


def test_fixing_while_the_environment_runs_the_failed_build_needs_the_fix_build(
    defect, failed, lead
):
    with pytest.raises(ValidationError) as refused:
        services.defect_transition(defect=defect, status="fixed", actor=lead)
    message = refused.value.message_dict["fixed_in_build"][0]
    assert f"still runs build {failed.build}" in message
    defect.refresh_from_db()
    assert defect.status == DefectStatus.CONFIRMED
    assert not Execution.objects.filter(retest_of=failed).exists()


def test_the_retest_runs_on_the_build_the_lead_names(defect, failed, lead):
    services.defect_transition(
        defect=defect, status="fixed", actor=lead, note="Rounding fixed", fixed_in_build="2.4.1"
    )
    defect.refresh_from_db()
    assert defect.fixed_in_build == "2.4.1"
    retest = retest_of(failed)
    assert (retest.build, retest.environment) == ("2.4.1", failed.environment)
    event = Event.objects.for_object(defect).get(verb="defect.status_changed")
    assert event.after == {"status": "fixed", "note": "Rounding fixed", "fixed_in_build": "2.4.1"}


def test_an_environment_updated_since_the_failure_gives_the_retest_its_build(defect, failed, lead):
    environment = failed.plan.environment
    environment.build = "2.4.2"
    environment.save()
    services.defect_transition(defect=defect, status="fixed", actor=lead)
    defect.refresh_from_db()
    assert defect.fixed_in_build == "2.4.2"
    assert retest_of(failed).build == "2.4.2"


def test_the_build_that_failed_is_not_the_fix(defect, failed, lead):
    with pytest.raises(ValidationError, match="failed on build"):
        services.defect_transition(
            defect=defect, status="fixed", actor=lead, fixed_in_build=failed.build
        )


def test_only_a_fix_names_a_build(defect, lead):
    with pytest.raises(ValidationError, match="Only marking a defect fixed"):
        services.defect_transition(
            defect=defect, status="in_progress", actor=lead, fixed_in_build="2.4.1"
        )


def test_a_defect_without_a_run_to_retest_needs_no_build(lead):
    defect = DefectFactory(status=DefectStatus.CONFIRMED)
    services.defect_transition(defect=defect, status="fixed", actor=lead)
    defect.refresh_from_db()
    assert (defect.status, defect.fixed_in_build) == (DefectStatus.FIXED, None)


# ---------------------------------------------------------------------------- the page


def test_the_page_without_javascript_keeps_what_the_lead_typed_when_the_build_is_missing(
    client, lead, defect, failed
):
    client.force_login(lead)
    url = reverse("uat:defect_transition", args=[defect.pk])
    response = client.post(url, {"status": "fixed", "note": "Rounding fixed upstream"})
    assert response.status_code == 400
    assert "Rounding fixed upstream</textarea>" in response.text
    assert "Say which build has the fix" in response.text
    defect.refresh_from_db()
    assert defect.status == DefectStatus.CONFIRMED

    response = client.post(url, {"status": "fixed", "note": "x", "fixed_in_build": "2.4.1"})
    assert response.status_code == 302
    assert retest_of(failed).build == "2.4.1"
    page = client.get(reverse("uat:defect", args=[defect.pk]))
    assert "Fixed in build" in page.text and "2.4.1" in page.text


def test_the_page_with_htmx_swaps_the_defect_and_keeps_the_typed_build_on_refusal(
    client, lead, defect, failed
):
    client.force_login(lead)
    url = reverse("uat:defect_transition", args=[defect.pk])
    refused = client.post(
        url, {"status": "fixed", "note": "Why", "fixed_in_build": failed.build}, **HTMX
    )
    assert refused.status_code == 200
    assert refused.text.lstrip().startswith('<div id="defect-main">')
    assert f'value="{failed.build}"' in refused.text and "failed on build" in refused.text
    assert ">Why</textarea>" in refused.text

    moved = client.post(url, {"status": "fixed", "fixed_in_build": "2.4.1"}, **HTMX)
    assert moved.status_code == 200
    assert f"{defect.reference} is now fixed." in moved.text
    assert "<dt>Fixed in build</dt><dd>2.4.1</dd>" in moved.text
    assert retest_of(failed).build == "2.4.1"


def test_other_moves_of_the_page_leave_the_typed_build_aside(client, lead, defect):
    client.force_login(lead)
    url = reverse("uat:defect_transition", args=[defect.pk])
    response = client.post(url, {"status": "in_progress", "fixed_in_build": "2.4.1"})
    assert response.status_code == 302
    defect.refresh_from_db()
    assert (defect.status, defect.fixed_in_build) == (DefectStatus.IN_PROGRESS, None)


# ---------------------------------------------------------------------------- API, admin


def test_the_api_takes_the_fix_build(lead, defect, failed):
    api = APIClient()
    api.force_authenticate(lead)
    url = reverse("defect-transition", args=[defect.pk])
    refused = api.post(url, {"status": "fixed"}, format="json")
    assert refused.status_code == 400
    assert "fixed_in_build" in str(refused.json())
    answer = api.post(url, {"status": "fixed", "fixed_in_build": "2.4.1"}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["fixed_in_build"]) == ("fixed", "2.4.1")
    assert retest_of(failed).build == "2.4.1"


def test_the_admin_asks_for_the_fix_build_before_marking_fixed(client, lead, defect, failed):
    client.force_login(lead)
    form = post_action(client, Defect, "mark_fixed", [defect])
    assert form.status_code == 200
    assert 'name="fixed_in_build"' in form.text

    refused = post_action(client, Defect, "mark_fixed", [defect], apply="1", note="Keep me")
    assert refused.status_code == 200
    assert "Say which build has the fix" in refused.text and "Keep me" in refused.text
    defect.refresh_from_db()
    assert defect.status == DefectStatus.CONFIRMED

    done = post_action(
        client, Defect, "mark_fixed", [defect], apply="1", fixed_in_build="2.4.1", note="Done"
    )
    assert done.status_code == 302
    assert shown_messages(done) == [f"Marked as fixed: {defect.reference}."]
    defect.refresh_from_db()
    assert (defect.status, defect.fixed_in_build) == (DefectStatus.FIXED, "2.4.1")
    assert retest_of(failed).build == "2.4.1"


# ---------------------------------------------------------------------------- the retest


def test_the_retest_page_names_the_fix_the_build_and_what_failed_last_time(
    client, tester, lead, defect, failed
):
    shot = EvidenceFactory(execution=failed, original_name="total.png", step_position=2)
    services.defect_transition(defect=defect, status="fixed", actor=lead, fixed_in_build="2.4.1")
    client.force_login(tester)
    page = client.get(reverse("uat:execution", args=[retest_of(failed).uuid]))
    text = page.text
    assert f"{defect.reference} {defect.title}</a> was marked fixed in build 2.4.1" in text
    assert "Run the case again on build <strong>2.4.1</strong>" in text
    assert "Total shows 0.00 EUR" in text and "Gave up after step 2" in text
    assert reverse("uat:evidence", args=[failed.uuid, shot.pk]) in text
    assert reverse("uat:execution", args=[failed.uuid]) in text


# The execution page's eight (tests/uat/test_page_queries.py; the tester's drafts are the
# eighth), and five for a retest: the earlier run, its step results, its evidence, the
# event naming the defect, the defect.
RETEST_PAGE_QUERIES = 8 + 5


@pytest.mark.parametrize("evidence", [1, 6])
def test_the_retest_page_runs_a_fixed_number_of_queries(
    client, tester, lead, defect, failed, warm_caches, django_assert_num_queries, evidence
):
    for _ in range(evidence):
        EvidenceFactory(execution=failed)
    services.defect_transition(defect=defect, status="fixed", actor=lead, fixed_in_build="2.4.1")
    client.force_login(tester)
    url = reverse("uat:execution", args=[retest_of(failed).uuid])
    with django_assert_num_queries(RETEST_PAGE_QUERIES):
        assert client.get(url).status_code == 200
