"""Dates far away — a waiver until 9999-12-31, an audit filter from 0001-01-01 — are
refused with a message or filter nothing, never a server error (datetime overflow)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import DefectFactory, EventFactory, PlanFactory, ReleaseFactory
from uat.models import Waiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(stakeholder):
    plan = PlanFactory()
    plan.stakeholders.add(stakeholder)
    return plan.release


def waive(client, release, defect, **data):
    url = reverse("uat:waiver_grant", args=[release.pk, defect.pk])
    return client.post(url, {f"d{defect.pk}-{key}": value for key, value in data.items()})


@pytest.mark.parametrize("day", ["9999-12-31", "2999-12-31", "10000-01-01"])
def test_a_waiver_until_a_far_day_is_refused_keeping_the_reason(client, stakeholder, release, day):
    defect = DefectFactory(release=release, critical=True)
    client.force_login(stakeholder)
    response = waive(client, release, defect, reason="Known risk, typed once", expires_on=day)
    assert response.status_code == 400
    assert "Known risk, typed once" in response.text
    form = {d.pk: f for d, f in response.context["rows"]}[defect.pk]
    assert form.errors["expires_on"]
    assert not Waiver.objects.exists()


def test_a_waiver_lasts_at_most_a_year(client, stakeholder, release):
    defect = DefectFactory(release=release, critical=True)
    client.force_login(stakeholder)
    too_late = timezone.localdate() + dt.timedelta(days=400)
    response = waive(client, release, defect, reason="x", expires_on=too_late)
    assert response.status_code == 400 and "at most a year" in response.text
    within = timezone.localdate() + dt.timedelta(days=300)
    assert waive(client, release, defect, reason="x", expires_on=within).status_code == 302


@pytest.mark.parametrize(
    "expires_at", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-12:00", "2999-01-01T00:00:00Z"]
)
def test_the_api_refuses_a_far_expiry_with_a_400(stakeholder, release, expires_at):
    api = APIClient()
    defect = DefectFactory(release=release, critical=True)
    api.force_authenticate(stakeholder)
    payload = {"defect": defect.pk, "reason": "Known risk", "expires_at": expires_at}
    response = api.post("/api/v1/waivers/", payload, format="json")
    assert response.status_code == 400
    assert not Waiver.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"until": "9999-12-31"},
        {"since": "0001-01-01"},
        {"since": "9999-12-31"},
        {"format": "csv", "until": "9999-12-31"},
    ],
)
def test_the_audit_page_answers_far_dates_without_an_error(client, lead, params):
    release = ReleaseFactory()
    EventFactory(release=release)
    client.force_login(lead)
    response = client.get(reverse("uat:release_audit", args=[release.pk]), params)
    assert response.status_code < 500
