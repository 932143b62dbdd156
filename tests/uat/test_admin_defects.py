"""A QA lead creating a defect in the admin goes through the defect services: one found in
production through ``defect_report_escaped``, one found in UAT through ``defect_record``;
their refusals show on the form, and the audit event is theirs."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from tests.admin_support import admin_url, changeform_data
from tests.factories import EnvironmentFactory, ExecutionFactory, ReleaseFactory, UserFactory
from uat import policy
from uat.models import Defect, DefectStatus, Event, Release
from uat.services import defect_record


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def _add(client, **values):
    page = client.get(admin_url(Defect, "add"))
    data = changeform_data(page, title="Totals are off by one", severity="major", **values)
    return client.post(admin_url(Defect, "add"), data)


def _errors(response) -> dict:
    assert response.status_code == 200, "the form should have been refused"
    return response.context["adminform"].form.errors


def test_an_escaped_defect_needs_the_production_build(lead_client):
    release = ReleaseFactory(stage=Release.Stage.PRODUCTION)
    response = _add(lead_client, release=str(release.pk), found_in="production")
    assert _errors(response)["build"] == ["Say which production build shows the defect."]
    assert not Defect.objects.exists()


def test_an_escaped_defect_needs_a_release_in_production(lead_client):
    release = ReleaseFactory(stage=Release.Stage.BETA)
    response = _add(lead_client, release=str(release.pk), found_in="production", build="2.4.1")
    assert _errors(response)["release"] == [
        f"{release} has not reached production; report it from UAT."
    ]
    assert not Defect.objects.exists() and not Event.objects.exists()


def test_an_escaped_defect_links_no_uat_run(lead_client):
    execution = ExecutionFactory(plan__release__stage=Release.Stage.PRODUCTION)
    response = _add(
        lead_client,
        release=str(execution.plan.release_id),
        found_in="production",
        build="2.4.1",
        executions=[str(execution.pk)],
    )
    assert _errors(response)["executions"] == [
        "A defect found in production has no UAT executions, step or environment."
    ]


def test_an_escaped_defect_is_recorded_by_its_service(lead_client, lead):
    release = ReleaseFactory(stage=Release.Stage.PRODUCTION)
    response = _add(lead_client, release=str(release.pk), found_in="production", build=" 2.4.1 ")
    assert response.status_code == 302
    defect = Defect.objects.get()
    assert (defect.found_in, defect.build, defect.status) == ("production", "2.4.1", "new")
    event = Event.objects.for_object(defect).get()
    assert (event.verb, event.actor, event.release) == ("defect.reported", lead, release)
    assert event.after == {
        "severity": "major",
        "found_in": "production",
        "title": "Totals are off by one",
    }


def test_a_defect_found_in_uat_is_linked_to_its_runs_by_the_service(lead_client, lead):
    execution = ExecutionFactory(failed=True)
    response = _add(
        lead_client,
        release=str(execution.plan.release_id),
        executions=[str(execution.pk)],
        step_position="2",
    )
    assert response.status_code == 302
    defect = Defect.objects.get()
    assert list(defect.executions.all()) == [execution]
    assert (defect.reported_by, defect.status, defect.step_position) == (lead, "new", 2)
    # Where it was found: the run's environment and build, as a tester's report takes.
    assert (defect.environment, defect.build) == (execution.environment, execution.build)
    event = Event.objects.for_object(defect).get()
    assert event.verb == "defect.reported"
    assert event.after == {
        "severity": "major",
        "found_in": "uat",
        "executions": [execution.pk],
        "title": "Totals are off by one",
    }


def test_a_defect_found_in_uat_is_refused_runs_of_another_release(lead_client):
    execution = ExecutionFactory()
    release = ReleaseFactory()
    response = _add(lead_client, release=str(release.pk), executions=[str(execution.pk)])
    assert _errors(response)["executions"] == [f"Not executions of {release}: #{execution.pk}."]
    assert not Defect.objects.exists()


def test_a_defect_found_in_uat_names_a_step_its_case_has(lead_client):
    execution = ExecutionFactory()
    response = _add(
        lead_client,
        release=str(execution.plan.release_id),
        executions=[str(execution.pk)],
        step_position="9",
    )
    assert _errors(response)["step_position"] == ["This case has no step 9."]


def test_a_defect_found_in_uat_takes_an_environment_of_its_product(lead_client):
    release = ReleaseFactory()
    other = EnvironmentFactory()
    response = _add(lead_client, release=str(release.pk), environment=str(other.pk))
    assert _errors(response)["environment"] == [f"Choose an environment of {release.product}."]


def test_only_qa_leads_log_defects_found_in_uat(lead, tester, beta_tester, stakeholder):
    release = ReleaseFactory()
    assert [policy.can_log_defect(user) for user in (lead, tester, beta_tester, stakeholder)] == [
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(PermissionDenied, match="Only QA leads log defects"):
        defect_record(release=release, actor=tester, title="Broken", severity="minor")
    with pytest.raises(ValidationError):
        defect_record(release=release, actor=lead, title=" ", severity="minor")
    defect = defect_record(release=release, actor=lead, title="Broken", severity="minor")
    assert (defect.status, defect.found_in) == (DefectStatus.NEW, "uat")


def test_the_policy_refuses_on_the_form_whoever_holds_the_add_permission(client, db):
    clerk = UserFactory(staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_defect", "view_defect"])
    )
    client.force_login(clerk)
    response = _add(client, release=str(ReleaseFactory().pk))
    assert _errors(response)["__all__"] == [policy.REFUSALS["log_defect"]]
    assert not Defect.objects.exists()
