"""The QA lead's workflows in the admin: plan actions, case versions, cohort members and
the defect workflow, each going through its service."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Role
from tests.admin_support import admin_url, changeform_data, post_action, shown_messages
from tests.factories import (
    CaseFactory,
    CohortFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    ReleaseFactory,
    RequirementFactory,
    UserFactory,
)
from uat import services
from uat.models import Case, CohortMembership, Defect, DefectStatus, Event, Execution, Plan


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


# ------------------------------------------------------------------------ plan actions


@pytest.fixture
def staffed_plan(tester):
    plan = PlanFactory()
    product = plan.release.product
    cases = [CaseFactory(product=product) for _ in range(3)]
    second = UserFactory(roles=[Role.TESTER])
    cohort = CohortFactory(product=product, members=[tester, second])
    plan.cases.add(*cases)
    plan.cohorts.add(cohort)
    return plan, cohort


def test_assign_action_asks_for_the_cohort_first(lead_client, staffed_plan):
    plan, cohort = staffed_plan
    response = post_action(lead_client, Plan, "assign_cases", [plan])
    assert response.status_code == 200
    assert response.templates[0].name == "admin/uat/action_form.html"
    assert list(response.context["form"].fields["cohort"].queryset) == [cohort]
    assert not Execution.objects.exists()


def test_assign_action_previews_then_creates_executions_and_an_event(
    lead_client, lead, tester, staffed_plan
):
    # Changed rule (issue 15): the first submit previews who gets what and writes
    # nothing; the confirm writes exactly that.
    plan, cohort = staffed_plan
    choice = {"cohort": cohort.pk, "testers_per_case": 2}
    response = post_action(lead_client, Plan, "assign_cases", [plan], apply="1", **choice)
    assert response.status_code == 200
    assert not Execution.objects.exists()
    preview = response.context["preview"]
    second = cohort.members.exclude(pk=tester.pk).get()
    assert preview.summary == f"Creates 6 executions: {tester} → 3, {second} → 3."
    page = response.content.decode()
    assert escape(preview.summary) in page
    assert 'value="Create 6 executions"' in page
    assert f'name="preview" value="{preview.digest}"' in page

    response = post_action(
        lead_client, Plan, "assign_cases", [plan], confirm="1", preview=preview.digest, **choice
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:uat_plan_change", args=[plan.pk])
    assert Execution.objects.filter(plan=plan, cohort=cohort).count() == 6
    event = Event.objects.for_object(plan).get(verb="plan.assigned")
    assert event.actor == lead
    assert event.after["executions"] == 6
    assert shown_messages(response) == [
        f"Assigned 3 cases of {plan} to {cohort.name}: 6 executions."
    ]


def test_assign_action_shows_a_new_preview_when_the_plan_changed_meanwhile(
    lead_client, staffed_plan
):
    plan, cohort = staffed_plan
    choice = {"cohort": cohort.pk, "testers_per_case": 1}
    response = post_action(lead_client, Plan, "assign_cases", [plan], apply="1", **choice)
    digest = response.context["preview"].digest
    plan.cases.add(CaseFactory(product=plan.release.product))
    response = post_action(
        lead_client, Plan, "assign_cases", [plan], confirm="1", preview=digest, **choice
    )
    assert response.status_code == 200
    assert "changed since the preview" in response.context["form"].non_field_errors()[0]
    assert response.context["preview"].count == 4
    assert not Execution.objects.exists()


def test_assigning_again_previews_nothing_new_without_a_confirm_button(
    lead_client, lead, staffed_plan
):
    plan, cohort = staffed_plan
    services.plan_assign(plan=plan, cohort=cohort, actor=lead)
    response = post_action(
        lead_client, Plan, "assign_cases", [plan], apply="1", cohort=cohort.pk, testers_per_case=1
    )
    assert response.context["preview"].count == 0
    assert "Creates no executions" in response.content.decode()
    assert 'name="confirm"' not in response.content.decode()


def test_assign_action_shows_a_refusal_on_the_form(lead_client, staffed_plan):
    plan, cohort = staffed_plan
    response = post_action(
        lead_client,
        Plan,
        "assign_cases",
        [plan],
        apply="Preview",
        cohort=cohort.pk,
        testers_per_case=5,
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Testers per case must be between 1 and 2 (the cohort's size)."
    ]
    assert not Execution.objects.exists()


def test_assign_action_takes_one_plan_at_a_time(lead_client, staffed_plan):
    plan, _ = staffed_plan
    response = post_action(lead_client, Plan, "assign_cases", [plan, PlanFactory()], follow=True)
    assert shown_messages(response) == ["Choose exactly one plan for this action."]


def test_assign_action_runs_from_the_plan_page(lead_client, staffed_plan):
    plan, _ = staffed_plan
    response = lead_client.post(
        admin_url(Plan, "change", plan.pk),
        {"CHANGE_FORM-action": "assign_cases", ACTION_CHECKBOX_NAME: plan.pk},
    )
    assert response.status_code == 200
    assert response.context["object"] == plan


def test_clone_action_copies_the_plan_to_another_release(lead_client, lead, staffed_plan):
    plan, cohort = staffed_plan
    target = ReleaseFactory(product=plan.release.product)
    ReleaseFactory()  # another product's release is not offered
    response = post_action(lead_client, Plan, "clone_plan", [plan])
    assert list(response.context["form"].fields["release"].queryset) == [target]

    response = post_action(
        lead_client, Plan, "clone_plan", [plan], apply="Clone", release=target.pk
    )
    clone = Plan.objects.get(release=target)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:uat_plan_change", args=[clone.pk])
    assert clone.status == Plan.Status.DRAFT
    assert set(clone.cases.all()) == set(plan.cases.all())
    assert list(clone.cohorts.all()) == [cohort]
    assert Event.objects.for_object(clone).get(verb="plan.cloned").actor == lead


# ------------------------------------------------------------------------ releases


def test_a_release_changes_stage_only_through_the_gate(lead_client):
    release = ReleaseFactory()
    page = lead_client.get(admin_url(type(release), "change", release.pk))
    assert "stage" not in page.context["adminform"].form.fields
    data = changeform_data(page, stage="production", name="Spring")
    assert lead_client.post(admin_url(type(release), "change", release.pk), data).status_code == 302
    release.refresh_from_db()
    assert (release.stage, release.name) == ("planning", "Spring")


# ------------------------------------------------------------------------ plan form


def test_plan_form_refuses_cases_and_cohorts_of_another_product(lead_client, staffed_plan):
    plan, _ = staffed_plan
    stray_case = CaseFactory()
    beta = CohortFactory(product=plan.release.product, beta=True)
    page = lead_client.get(admin_url(Plan, "change", plan.pk))
    data = changeform_data(
        page,
        cases=[str(stray_case.pk)],
        cohorts=[str(beta.pk)],
    )
    response = lead_client.post(admin_url(Plan, "change", plan.pk), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["cases"] == [f"Not cases of {plan.release.product}: {stray_case.key}."]
    assert errors["cohorts"] == [f"A alpha plan is run by alpha cohorts; not {beta.name}."]


def test_plan_page_names_the_required_signers(client, admin_user, staffed_plan, stakeholder):
    # Naming signers is an administrator's (or the release owner's): tests/uat/test_signers.py
    # has a lead refused.
    lead_client = client
    lead_client.force_login(admin_user)
    plan, _ = staffed_plan
    page = lead_client.get(admin_url(Plan, "change", plan.pk))
    data = changeform_data(
        page,
        **{
            "signoff_roles-TOTAL_FORMS": "1",
            "signoff_roles-0-role": "business_owner",
            "signoff_roles-0-signers": [str(stakeholder.pk)],
        },
    )
    assert lead_client.post(admin_url(Plan, "change", plan.pk), data).status_code == 302
    role = plan.signoff_roles.get()
    assert (role.role, list(role.signers.all())) == ("business_owner", [stakeholder])


# ------------------------------------------------------------------------ cohorts


def test_cohort_inline_refuses_an_external_tester_in_an_alpha_cohort(lead_client, beta_tester):
    cohort = CohortFactory()
    page = lead_client.get(admin_url(type(cohort), "change", cohort.pk))
    data = changeform_data(
        page,
        **{"memberships-TOTAL_FORMS": "1", "memberships-0-user": str(beta_tester.pk)},
    )
    response = lead_client.post(admin_url(type(cohort), "change", cohort.pk), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors[0]["user"] == ["External testers cannot join an alpha cohort."]
    assert not CohortMembership.objects.exists()


def test_new_beta_cohort_refuses_internal_staff(lead_client, tester, beta_tester):
    product = CaseFactory().product
    page = lead_client.get(admin_url(type(CohortFactory.build()), "add"))
    data = changeform_data(
        page,
        product=str(product.pk),
        name="Customers",
        kind="beta",
        **{
            "memberships-TOTAL_FORMS": "2",
            "memberships-0-user": str(beta_tester.pk),
            "memberships-1-user": str(tester.pk),
        },
    )
    response = lead_client.post(page.wsgi_request.path, data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors[1]["user"] == ["Only external testers can join a beta cohort."]

    data.update({"memberships-TOTAL_FORMS": "1"})
    del data["memberships-1-user"]
    assert lead_client.post(page.wsgi_request.path, data).status_code == 302
    assert CohortMembership.objects.get().user == beta_tester


def test_membership_page_checks_the_cohort_kind(lead_client, beta_tester):
    cohort = CohortFactory()
    response = lead_client.post(
        admin_url(CohortMembership, "add"), {"cohort": cohort.pk, "user": beta_tester.pk}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user"] == [
        "External testers cannot join an alpha cohort."
    ]
    assert not CohortMembership.objects.exists()


# ------------------------------------------------------------------------ cases


def test_editing_a_case_freezes_version_2_and_keeps_version_1(lead_client, lead):
    case = CaseFactory(steps=2)
    page = lead_client.get(admin_url(Case, "change", case.pk))
    data = changeform_data(page, title="Log in with a passkey", **{"steps-0-action": "Open"})
    response = lead_client.post(admin_url(Case, "change", case.pk), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.version == 2
    first, second = case.versions.order_by("number")
    assert (first.number, second.number) == (1, 2)
    assert first.title != "Log in with a passkey"
    assert second.title == "Log in with a passkey"
    assert second.steps[0]["action"] == "Open"
    assert second.created_by == lead
    assert Event.objects.for_object(case).get(verb="case.versioned").after["version"] == 2


def test_saving_an_unchanged_case_makes_no_new_version(lead_client):
    case = CaseFactory()
    page = lead_client.get(admin_url(Case, "change", case.pk))
    response = lead_client.post(admin_url(Case, "change", case.pk), changeform_data(page))
    assert response.status_code == 302
    assert case.versions.count() == 1


def test_steps_can_swap_places(lead_client):
    case = CaseFactory(steps=2)
    page = lead_client.get(admin_url(Case, "change", case.pk))
    data = changeform_data(page, **{"steps-0-position": "2", "steps-1-position": "1"})
    assert lead_client.post(admin_url(Case, "change", case.pk), data).status_code == 302
    assert [s["action"] for s in case.versions.latest().steps] == ["Do thing 2", "Do thing 1"]


def test_a_ready_case_without_steps_is_refused_on_the_form(lead_client):
    case = CaseFactory(steps=1)
    page = lead_client.get(admin_url(Case, "change", case.pk))
    data = changeform_data(page, **{"steps-0-DELETE": "on"})
    response = lead_client.post(admin_url(Case, "change", case.pk), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == ["A ready case needs at least one step."]
    assert case.steps.count() == 1
    assert case.versions.count() == 1


def test_a_stepless_draft_cannot_become_ready(lead_client):
    # The service lets this through (the status is not part of a version's content), so
    # the form is what stops it.
    case = CaseFactory(steps=0, draft=True)
    page = lead_client.get(admin_url(Case, "change", case.pk))
    response = lead_client.post(
        admin_url(Case, "change", case.pk), changeform_data(page, status="ready")
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == ["A ready case needs at least one step."]
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT


def test_a_refusal_from_the_versioning_service_saves_nothing(lead_client, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError("A ready case needs at least one step.")

    monkeypatch.setattr("uat.admin.catalog.case_version_record", refuse)
    case = CaseFactory()
    page = lead_client.get(admin_url(Case, "change", case.pk))
    response = lead_client.post(
        admin_url(Case, "change", case.pk), changeform_data(page, title="New")
    )
    assert response.status_code == 302
    assert response["Location"] == admin_url(Case, "change", case.pk)
    assert shown_messages(response) == ["Nothing was saved: A ready case needs at least one step."]
    case.refresh_from_db()
    assert case.title != "New"


def test_adding_a_case_freezes_version_1(lead_client, lead):
    product = CaseFactory().product
    requirement = RequirementFactory(product=product)
    page = lead_client.get(admin_url(Case, "add"))
    data = changeform_data(
        page,
        product=str(product.pk),
        key="NEW-1",
        title="Export the pipeline",
        status="ready",
        requirements=[str(requirement.pk)],
        **{
            "steps-TOTAL_FORMS": "1",
            "steps-0-position": "1",
            "steps-0-action": "Click export",
            "steps-0-expected": "A CSV downloads",
        },
    )
    response = lead_client.post(admin_url(Case, "add"), data)
    assert response.status_code == 302
    case = Case.objects.get(key="NEW-1")
    assert case.version == 1
    assert case.versions.get().steps == [{"action": "Click export", "expected": "A CSV downloads"}]
    assert list(case.requirements.all()) == [requirement]


def test_case_requirements_come_from_its_product(lead_client):
    case = CaseFactory()
    stray = RequirementFactory()
    page = lead_client.get(admin_url(Case, "change", case.pk))
    data = changeform_data(page, requirements=[str(stray.pk)])
    response = lead_client.post(admin_url(Case, "change", case.pk), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["requirements"] == [
        f"Not requirements of {case.product}: {stray.key}."
    ]


# ------------------------------------------------------------------------ defects


def test_defect_status_actions_move_allowed_defects_and_refuse_the_rest(lead_client, lead):
    new = DefectFactory()
    closed = DefectFactory(closed=True)
    response = post_action(lead_client, Defect, "mark_in_progress", [new, closed])
    assert response.status_code == 302
    new.refresh_from_db()
    closed.refresh_from_db()
    assert new.status == DefectStatus.IN_PROGRESS
    assert closed.status == DefectStatus.CLOSED
    assert sorted(shown_messages(response)) == sorted(
        [
            f"{closed.reference}: A closed defect cannot become in progress; it can become: "
            "confirmed.",
            f"Marked as in progress: {new.reference}.",
        ]
    )
    event = Event.objects.for_object(new).get(verb="defect.status_changed")
    assert (event.before, event.actor) == ({"status": "new"}, lead)
    assert not Event.objects.for_object(closed).exists()


def test_marking_a_defect_fixed_queues_its_retests(lead_client):
    execution = ExecutionFactory(failed=True)
    defect = DefectFactory(release=execution.plan.release, status="confirmed")
    defect.executions.add(execution)
    post_action(lead_client, Defect, "mark_fixed", [defect], apply="1", fixed_in_build="fix-1")
    retest = Execution.objects.get(retest_of=execution)
    assert retest.is_latest
    assert retest.tester == execution.tester


def test_defect_status_is_not_editable_on_its_page(lead_client):
    defect = DefectFactory()
    page = lead_client.get(admin_url(Defect, "change", defect.pk))
    assert "status" not in page.context["adminform"].form.fields
    data = changeform_data(page, status="closed", severity="minor")
    assert lead_client.post(admin_url(Defect, "change", defect.pk), data).status_code == 302
    defect.refresh_from_db()
    assert (defect.status, defect.severity) == ("new", "minor")
    event = Event.objects.for_object(defect).get(verb="defect.changed")
    assert (event.before, event.after) == ({"severity": "major"}, {"severity": "minor"})


def test_defect_status_actions_run_from_the_defect_page(lead_client):
    defect = DefectFactory()
    response = lead_client.post(
        admin_url(Defect, "change", defect.pk),
        {"CHANGE_FORM-action": "mark_confirmed", ACTION_CHECKBOX_NAME: defect.pk},
    )
    assert response.status_code == 302
    defect.refresh_from_db()
    assert defect.status == DefectStatus.CONFIRMED


def test_reporting_a_defect_in_the_admin_is_audited(lead_client, lead):
    release = ReleaseFactory()
    page = lead_client.get(admin_url(Defect, "add"))
    data = changeform_data(
        page, release=str(release.pk), title="Totals are off by one", severity="major"
    )
    response = lead_client.post(admin_url(Defect, "add"), data)
    assert response.status_code == 302
    defect = Defect.objects.get()
    assert (defect.status, defect.reported_by) == (DefectStatus.NEW, lead)
    event = Event.objects.for_object(defect).get(verb="defect.reported")
    assert event.actor == lead
    assert event.release == release
    assert event.after["severity"] == "major"


def test_defects_are_found_by_their_reference(lead_client):
    wanted, other = DefectFactory(), DefectFactory()
    response = lead_client.get(admin_url(Defect, "changelist"), {"q": wanted.reference.lower()})
    assert list(response.context["cl"].result_list) == [wanted]
    assert other not in response.context["cl"].result_list


# ------------------------------------------------------------------------ audit of edits


def test_editing_plan_criteria_is_audited_from_what_to_what(lead_client, lead, staffed_plan):
    plan, _ = staffed_plan
    page = lead_client.get(admin_url(Plan, "change", plan.pk))
    response = lead_client.post(
        admin_url(Plan, "change", plan.pk), changeform_data(page, min_pass_rate="90")
    )
    assert response.status_code == 302
    event = Event.objects.get(verb="plan.changed")
    assert event.actor == lead
    assert event.release == plan.release
    assert event.before == {"min_pass_rate": "95.00"}
    assert event.after == {"min_pass_rate": "90"}


def test_adding_and_removing_a_cohort_member_is_audited(lead_client, lead, tester):
    cohort = CohortFactory()
    url = admin_url(type(cohort), "change", cohort.pk)
    data = changeform_data(
        lead_client.get(url),
        **{"memberships-TOTAL_FORMS": "1", "memberships-0-user": str(tester.pk)},
    )
    assert lead_client.post(url, data).status_code == 302
    added = Event.objects.get(verb="cohort.cohortmembership_added")
    assert added.object_id == str(cohort.pk)
    assert tester.full_name in added.after["item"]

    data = changeform_data(lead_client.get(url), **{"memberships-0-DELETE": "on"})
    assert lead_client.post(url, data).status_code == 302
    assert not CohortMembership.objects.exists()
    removed = Event.objects.get(verb="cohort.cohortmembership_removed")
    assert tester.full_name in removed.before["item"]


def test_deleting_a_requirement_is_audited(lead_client, lead):
    requirement = RequirementFactory()
    url = admin_url(type(requirement), "delete", requirement.pk)
    assert lead_client.post(url, {"post": "yes"}).status_code == 302
    event = Event.objects.get(verb="requirement.deleted")
    assert event.object_id == str(requirement.pk)
    assert requirement.key in event.before["repr"]
