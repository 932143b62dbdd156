"""The QA lead's case editor and plan scope in the admin: steps numbered on save in the
order shown, the diff between two versions of a case, and the plan's case picker."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tests.admin_support import admin_url, changeform_data
from tests.factories import CaseFactory, PlanFactory, RequirementFactory, UserFactory
from uat.models import Case, Event, Plan, ScopeTally
from uat.services import plan_scope_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def _save_case(lead_client, case, **changes):
    page = lead_client.get(admin_url(Case, "change", case.pk))
    data = changeform_data(page, **changes)
    return lead_client.post(admin_url(Case, "change", case.pk), data)


def _steps(case) -> list[tuple[int, str]]:
    return [(step.position, step.action) for step in case.steps.order_by("position")]


# ------------------------------------------------------------------ step numbering


def test_typed_orders_with_gaps_and_ties_are_saved_as_1_to_n_in_the_order_shown(
    lead_client,
):
    case = CaseFactory(steps=3)
    response = _save_case(
        lead_client,
        case,
        **{"steps-0-position": "7", "steps-1-position": "7", "steps-2-position": "2"},
    )
    assert response.status_code == 302
    assert _steps(case) == [(1, "Do thing 3"), (2, "Do thing 1"), (3, "Do thing 2")]
    assert [s["action"] for s in case.versions.latest().steps] == [
        "Do thing 3",
        "Do thing 1",
        "Do thing 2",
    ]


def test_removing_a_step_closes_the_gap(lead_client):
    case = CaseFactory(steps=3)
    response = _save_case(lead_client, case, **{"steps-1-DELETE": "on"})
    assert response.status_code == 302
    assert _steps(case) == [(1, "Do thing 1"), (2, "Do thing 3")]


def test_a_new_step_without_an_order_goes_last_and_one_with_an_order_goes_there(lead_client):
    case = CaseFactory(steps=2)
    response = _save_case(
        lead_client,
        case,
        **{
            "steps-TOTAL_FORMS": "4",
            "steps-2-action": "Appended",
            "steps-2-expected": "At the end",
            "steps-3-position": "1",
            "steps-3-action": "First of all",
            "steps-3-expected": "At the start",
        },
    )
    assert response.status_code == 302
    assert _steps(case) == [
        (1, "First of all"),
        (2, "Do thing 1"),
        (3, "Do thing 2"),
        (4, "Appended"),
    ]


def test_an_empty_new_row_holding_only_its_number_is_no_step(lead_client):
    # The page numbers the empty row for a new step too; saving leaves it out.
    case = CaseFactory(steps=2)
    response = _save_case(lead_client, case, **{"steps-TOTAL_FORMS": "3", "steps-2-position": "3"})
    assert response.status_code == 302
    assert _steps(case) == [(1, "Do thing 1"), (2, "Do thing 2")]
    assert case.versions.count() == 1


# ------------------------------------------------------------------ plan scope picker


@pytest.fixture
def library():
    """A plan and six cases of its product: two covering R-LOGIN (one critical), a draft,
    and three others; plus a case of another product."""
    plan = PlanFactory()
    product = plan.release.product
    login = RequirementFactory(product=product, key="R-LOGIN")
    cases = {
        "login": CaseFactory(product=product, key="CRM-001", title="Sign in", critical=True),
        "logout": CaseFactory(product=product, key="CRM-002", title="Sign out"),
        "draft": CaseFactory(product=product, key="CRM-003", title="Export quotes", draft=True),
        "quote": CaseFactory(product=product, key="CRM-004", title="Create a quote"),
        "lead": CaseFactory(product=product, key="CRM-005", title="Add a lead"),
        "stray": CaseFactory(key="OTHER-1", title="Sign in elsewhere"),
    }
    cases["login"].requirements.add(login)
    cases["logout"].requirements.add(login)
    return {"plan": plan, "requirement": login, **cases}


def scope_url(plan, **query) -> str:
    url = reverse("admin:uat_plan_scope", args=[plan.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def shown_keys(response) -> list[str]:
    return [case.key for case, _ in response.context["rows"]]


def scope_changes(plan) -> int:
    tally = ScopeTally.objects.filter(plan_id=plan.pk).first()
    return tally.changes if tally else 0


def test_the_case_picker_filters_by_requirement_priority_status_and_text(
    lead_client, library, django_assert_num_queries
):
    plan = library["plan"]
    everything = lead_client.get(scope_url(plan))
    assert everything.status_code == 200
    assert shown_keys(everything) == ["CRM-001", "CRM-002", "CRM-003", "CRM-004", "CRM-005"]
    by_requirement = lead_client.get(scope_url(plan, requirement=library["requirement"].pk))
    assert shown_keys(by_requirement) == ["CRM-001", "CRM-002"]
    assert shown_keys(lead_client.get(scope_url(plan, priority="critical"))) == ["CRM-001"]
    assert shown_keys(lead_client.get(scope_url(plan, status="draft"))) == ["CRM-003"]
    assert shown_keys(lead_client.get(scope_url(plan, q="sign"))) == ["CRM-001", "CRM-002"]
    assert shown_keys(lead_client.get(scope_url(plan, q="crm-004"))) == ["CRM-004"]
    # A fixed number of queries whatever the number of cases shown: the session, user
    # and permissions, the plan, the requirements to filter by, the cases with their
    # requirements, the scope.
    for _ in range(5):
        RequirementFactory(product=plan.release.product).cases.add(
            CaseFactory(product=plan.release.product)
        )
    with django_assert_num_queries(10):
        assert len(shown_keys(lead_client.get(scope_url(plan)))) == 10


def test_adding_the_selected_cases_without_javascript(lead_client, lead, library):
    plan = library["plan"]
    url = scope_url(plan, q="sign")
    before = scope_changes(plan)
    response = lead_client.post(
        url, {"scope": "add_selected", "case": [library["login"].pk, library["logout"].pk]}
    )
    assert response.status_code == 302 and response["Location"] == url
    assert set(plan.cases.all()) == {library["login"], library["logout"]}
    assert scope_changes(plan) > before  # the reports of the plan are stale
    event = Event.objects.for_object(plan).get(verb="plan.scope_changed")
    assert (event.actor, event.after["added"], event.after["removed"]) == (
        lead,
        ["CRM-001", "CRM-002"],
        [],
    )
    (message,) = [m.message for m in get_messages(response.wsgi_request)]
    assert message == f"Scope of {plan}: added 2 cases (CRM-001, CRM-002)."
    page = lead_client.get(url)
    assert [in_scope for _, in_scope in page.context["rows"]] == [True, True]


def test_adding_all_shown_and_removing_the_selected(lead_client, library):
    plan = library["plan"]
    response = lead_client.post(scope_url(plan, status="ready"), {"scope": "add_shown"})
    assert response.status_code == 302
    assert sorted(c.key for c in plan.cases.all()) == ["CRM-001", "CRM-002", "CRM-004", "CRM-005"]
    response = lead_client.post(
        scope_url(plan), {"scope": "remove_selected", "case": [library["quote"].pk]}
    )
    assert response.status_code == 302
    assert sorted(c.key for c in plan.cases.all()) == ["CRM-001", "CRM-002", "CRM-005"]
    removal = Event.objects.for_object(plan).filter(verb="plan.scope_changed").latest("pk")
    assert removal.after["removed"] == ["CRM-004"]


def test_the_case_picker_with_htmx_redraws_its_results_in_place(lead_client, library):
    plan = library["plan"]
    htmx = {"HTTP_HX_REQUEST": "true"}
    filtered = lead_client.get(scope_url(plan, priority="critical"), **htmx)
    body = filtered.content.decode()
    assert filtered.status_code == 200
    assert body.lstrip().startswith('<div id="scope-results">') and "<html" not in body
    assert "CRM-001" in body and "CRM-002" not in body
    added = lead_client.post(scope_url(plan, priority="critical"), {"scope": "add_shown"}, **htmx)
    body = added.content.decode()
    assert added.status_code == 200 and "<html" not in body
    assert f"Scope of {plan}: added 1 case (CRM-001)." in body
    assert "In scope" in body
    assert list(plan.cases.all()) == [library["login"]]


def test_bad_filters_and_selections_answer_clearly(lead_client, library):
    plan = library["plan"]
    bad = lead_client.get(scope_url(plan, priority="urgent", requirement="abc", q="sign"))
    assert bad.status_code == 400
    assert "Select a valid choice" in bad.content.decode()
    # What was typed stays in the filter form.
    assert bad.context["filters"]["q"].value() == "sign"
    nothing = lead_client.post(scope_url(plan), {"scope": "add_selected", "case": ["x", ""]})
    assert nothing.status_code == 302
    assert [m.message for m in get_messages(nothing.wsgi_request)] == [
        "Select at least one case first."
    ]
    stray = lead_client.post(
        scope_url(plan), {"scope": "add_selected", "case": [library["stray"].pk]}
    )
    assert stray.status_code == 302
    assert not plan.cases.exists()
    unknown = lead_client.post(scope_url(plan), {"scope": "everything"}, HTTP_HX_REQUEST="true")
    assert unknown.status_code == 400
    assert lead_client.get(reverse("admin:uat_plan_scope", args=[10**9])).status_code == 404


def test_only_qa_leads_use_the_case_picker(client, library):
    plan = library["plan"]
    tester = UserFactory(staff=True, roles=["Tester"])
    client.force_login(tester)
    assert client.get(scope_url(plan)).status_code == 403
    response = client.post(scope_url(plan), {"scope": "add_shown"})
    assert response.status_code == 403
    assert not plan.cases.exists()
    with pytest.raises(PermissionDenied):
        plan_scope_change(plan=plan, actor=tester, add=[library["login"]])


def test_the_scope_service_refuses_cases_of_another_product(lead, library):
    plan = library["plan"]
    with pytest.raises(ValidationError, match="Not cases of"):
        plan_scope_change(plan=plan, actor=lead, add=[library["login"], library["stray"]])
    assert not plan.cases.exists()


def test_the_plan_form_changes_the_scope_through_the_service(lead_client, lead, library):
    plan = library["plan"]
    plan.cases.add(library["quote"])
    page = lead_client.get(admin_url(Plan, "change", plan.pk))
    assert reverse("admin:uat_plan_scope", args=[plan.pk]) in page.content.decode()
    data = changeform_data(page, cases=[str(library["login"].pk)])
    response = lead_client.post(admin_url(Plan, "change", plan.pk), data)
    assert response.status_code == 302
    assert list(plan.cases.all()) == [library["login"]]
    event = Event.objects.for_object(plan).get(verb="plan.scope_changed")
    assert (event.after["added"], event.after["removed"]) == (["CRM-001"], ["CRM-004"])
    # One event for the scope, not a second copy in the plain edit's.
    assert not Event.objects.for_object(plan).filter(verb="plan.changed").exists()


# ------------------------------------------------------------------ version diff


def _edit(lead_client, case, **changes):
    response = _save_case(lead_client, case, **changes)
    assert response.status_code == 302
    case.refresh_from_db()


def compare_url(case, **query) -> str:
    url = reverse("admin:uat_case_compare", args=[case.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_diff_of_two_versions_names_every_change_in_words(lead_client):
    case = CaseFactory(steps=4, title="Create a quote")
    # Version 2: a new title; step 2's expected result reworded; step 3 removed; step 4
    # moved first; a new step at the end.
    _edit(
        lead_client,
        case,
        title="Create and send a quote",
        **{
            "steps-1-expected": "Thing 2 is done and saved",
            "steps-2-DELETE": "on",
            "steps-3-position": "1",
            "steps-TOTAL_FORMS": "5",
            "steps-4-action": "Send it",
            "steps-4-expected": "The customer gets an email",
        },
    )
    assert case.version == 2
    response = lead_client.get(compare_url(case, older=1, newer=2))
    assert response.status_code == 200
    diff = response.context["diff"]
    assert [(f.label, f.before, f.after) for f in diff.fields] == [
        ("Title", "Create a quote", "Create and send a quote")
    ]
    assert [(s.kind, s.before_number, s.after_number) for s in diff.steps] == [
        ("moved", 4, 1),
        ("unchanged", 1, 2),
        ("changed", 2, 3),
        ("removed", 3, None),
        ("added", None, 4),
    ]
    body = response.content.decode()
    for words in (
        "Moved: step 4 is now step 1",
        "Expected result changed; step 2 is now step 3",
        "Removed (was step 3)",
        "Added as step 4",
        "1 field changed, 1 step added, 1 step removed, 1 step moved, 1 step changed.",
    ):
        assert words in body
    # Marked up, not coloured only: what went and what came are <del> and <ins>.
    assert '<del><span class="visually-hidden">Changed from: </span>Thing 2 done</del>' in body
    assert (
        '<ins><span class="visually-hidden">Changed to: </span>Thing 2 is done and saved</ins>'
        in body
    )


def test_the_case_page_links_each_version_to_its_diff_and_the_latest_is_the_default(
    lead_client, django_assert_num_queries
):
    case = CaseFactory(steps=2)
    _edit(lead_client, case, title="Second")
    _edit(lead_client, case, title="Third")
    page = lead_client.get(admin_url(Case, "change", case.pk)).content.decode()
    assert f'{compare_url(case)}?older=2&amp;newer=3">Compare with version 2</a>' in page
    assert f'{compare_url(case)}?older=1&amp;newer=2">Compare with version 1</a>' in page
    with django_assert_num_queries(6):
        default = lead_client.get(compare_url(case))
    diff = default.context["diff"]
    assert (diff.older.number, diff.newer.number) == (2, 3)
    # Either order compares the older with the newer.
    reverse_order = lead_client.get(compare_url(case, older=3, newer=1)).context["diff"]
    assert (reverse_order.older.number, reverse_order.newer.number) == (1, 3)


def test_comparing_versions_that_do_not_exist_answers_400(lead_client):
    case = CaseFactory(steps=1)
    _edit(lead_client, case, title="Second")
    for query in ({"older": 1, "newer": 9}, {"older": "x", "newer": 2}, {"older": 2, "newer": 2}):
        response = lead_client.get(compare_url(case, **query))
        assert response.status_code == 400, query
        assert response.context["diff"] is None
    assert lead_client.get(reverse("admin:uat_case_compare", args=[10**9])).status_code == 404


def test_only_staff_who_may_see_cases_compare_versions(client, library):
    # As the case's own admin page: staff with permission to view cases.
    case = library["login"]
    client.force_login(UserFactory(roles=["Tester"]))
    response = client.get(compare_url(case))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(UserFactory(staff=True))
    assert client.get(compare_url(case)).status_code == 403


def test_every_field_of_the_steps_table_has_a_name(lead_client):
    # The table's column headers label nothing: each field carries its own name.
    case = CaseFactory(steps=2)
    body = lead_client.get(admin_url(Case, "change", case.pk)).content.decode()
    for name, label in (
        ("position", "Order"),
        ("action", "Action"),
        ("expected", "Expected result"),
        ("DELETE", "Delete this step"),
    ):
        for index in (0, 1):
            field = re.search(rf'<[^>]*name="steps-{index}-{name}"[^>]*>', body).group(0)
            assert f'aria-label="{label}"' in field, field


def test_the_api_changes_a_plans_scope_through_the_service_too(lead, library):
    from rest_framework.test import APIClient

    plan = library["plan"]
    plan.cases.add(library["quote"])
    api = APIClient()
    api.force_authenticate(lead)
    response = api.patch(
        reverse("plan-detail", args=[plan.pk]),
        {"cases": [library["login"].pk, library["logout"].pk]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert sorted(response.json()["cases"]) == sorted([library["login"].pk, library["logout"].pk])
    assert set(plan.cases.all()) == {library["login"], library["logout"]}
    event = Event.objects.for_object(plan).get(verb="plan.scope_changed")
    assert (event.actor, event.after["added"], event.after["removed"]) == (
        lead,
        ["CRM-001", "CRM-002"],
        ["CRM-004"],
    )
    created = api.post(
        reverse("plan-list"),
        {
            "release": plan.release.pk,
            "stage": "beta",
            "name": "Beta plan",
            "cases": [library["quote"].pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    new_plan = Plan.objects.get(pk=created.json()["id"])
    assert list(new_plan.cases.all()) == [library["quote"]]
    assert Event.objects.for_object(new_plan).get(verb="plan.scope_changed").after["added"] == [
        "CRM-004"
    ]
