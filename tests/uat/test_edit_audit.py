"""Plain edits (the model's own fields, no service) are audited by one helper,
``uat.audit.edit_record``: the same edit made in the admin or over the API writes the
same event."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.admin_support import admin_url, changeform_data
from tests.factories import PlanFactory, ProductFactory, UserFactory
from uat.audit import edit_record
from uat.models import Event, Plan, Requirement


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def lead_api(lead):
    api = APIClient()
    api.force_authenticate(user=lead)
    return api


def _shape(event: Event) -> tuple:
    return (event.verb, event.actor_id, event.release_id, event.before, event.after)


def _plan_edit_in_the_admin(client, plan, stakeholders):
    page = client.get(admin_url(Plan, "change", plan.pk))
    data = changeform_data(
        page, name="Alpha, second round", stakeholders=[str(s.pk) for s in stakeholders]
    )
    assert client.post(admin_url(Plan, "change", plan.pk), data).status_code == 302


def _plan_edit_over_the_api(api, plan, stakeholders):
    response = api.patch(
        reverse("plan-detail", args=[plan.pk]),
        {"name": "Alpha, second round", "stakeholders": [s.pk for s in stakeholders]},
        format="json",
    )
    assert response.status_code == 200


def test_the_same_plan_edit_writes_the_same_event_in_the_admin_and_the_api(
    lead_client, lead_api, lead
):
    people = [UserFactory(), UserFactory(), UserFactory()]
    shapes = []
    for edit, caller in (
        (_plan_edit_in_the_admin, lead_client),
        (_plan_edit_over_the_api, lead_api),
    ):
        plan = PlanFactory(name="Alpha")
        plan.stakeholders.add(people[0])
        # Chosen out of id order: the trail holds related rows as sorted ids either way.
        edit(caller, plan, [people[2], people[1]])
        event = Event.objects.for_object(plan).get(verb="plan.changed")
        assert event.release_id == plan.release_id
        shapes.append(_shape(event)[:2] + _shape(event)[3:])
    admin_shape, api_shape = shapes
    assert admin_shape == api_shape
    assert admin_shape == (
        "plan.changed",
        lead.pk,
        {"name": "Alpha", "stakeholders": [people[0].pk]},
        {"name": "Alpha, second round", "stakeholders": sorted([people[1].pk, people[2].pk])},
    )


def test_the_same_new_requirement_writes_the_same_event_in_the_admin_and_the_api(
    lead_client, lead_api
):
    values = {"key": "CRM-R9", "title": "Export", "acceptance_text": "CSV", "criticality": "high"}
    admin_product, api_product = ProductFactory(), ProductFactory()
    page = lead_client.get(admin_url(Requirement, "add"))
    data = changeform_data(page, product=str(admin_product.pk), **values)
    assert lead_client.post(admin_url(Requirement, "add"), data).status_code == 302
    response = lead_api.post(
        reverse("requirement-list"), {"product": api_product.pk, **values}, format="json"
    )
    assert response.status_code == 201
    admin_event, api_event = (
        Event.objects.get(verb="requirement.created", object_id=str(row.pk))
        for row in (
            Requirement.objects.get(product=admin_product),
            Requirement.objects.get(product=api_product),
        )
    )
    assert admin_event.before is None and api_event.before is None
    assert admin_event.after == {"product": admin_product.pk, **values}
    assert api_event.after == {"product": api_product.pk, **values}


def test_an_edit_that_changes_nothing_writes_no_event(lead):
    plan = PlanFactory(name="Alpha")
    same = {"name": "Alpha"}
    assert edit_record(actor=lead, obj=plan, before=same, after=dict(same)) is None
    assert not Event.objects.exists()


def test_a_change_keeps_only_the_fields_that_changed(lead):
    plan = PlanFactory(name="Alpha")
    event = edit_record(
        actor=lead,
        obj=plan,
        before={"name": "Alpha", "owner": plan.owner},
        after={"name": "Beta", "owner": plan.owner_id},
    )
    assert (event.verb, event.before, event.after) == (
        "plan.changed",
        {"name": "Alpha"},
        {"name": "Beta"},
    )


def test_a_deletion_records_what_was_there(lead):
    plan = PlanFactory()
    event = edit_record(actor=lead, obj=plan, before={"repr": str(plan)}, after=None)
    assert (event.verb, event.before, event.after) == ("plan.deleted", {"repr": str(plan)}, None)
