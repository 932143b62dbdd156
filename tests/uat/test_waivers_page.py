"""The waivers page: stakeholders waive open defects until a day, and revoke waivers."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import DefectFactory, PlanFactory, WaiverFactory
from uat.models import Event, Waiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(stakeholder):
    plan = PlanFactory()
    plan.stakeholders.add(stakeholder)
    return plan.release


def waive(client, release, defect, **data):
    url = reverse("uat:waiver_grant", args=[release.pk, defect.pk])
    return client.post(url, {f"d{defect.pk}-{key}": value for key, value in data.items()})


def test_a_stakeholder_waives_an_open_defect_until_a_day(client, stakeholder, release):
    defect = DefectFactory(release=release, critical=True)
    client.force_login(stakeholder)
    day = timezone.localdate() + dt.timedelta(days=3)
    response = waive(client, release, defect, reason="Workaround in the manual", expires_on=day)
    assert response.status_code == 302
    waiver = Waiver.objects.get()
    assert waiver.granted_by == stakeholder
    assert timezone.localtime(waiver.expires_at).date() == day + dt.timedelta(days=1)
    assert Event.objects.filter(verb="waiver.granted").exists()
    page = client.get(reverse("uat:release_waivers", args=[release.pk]))
    assert defect not in [row[0] for row in page.context["rows"]]
    assert b"active" in page.content


def test_a_bad_waiver_shows_its_errors_and_saves_nothing(client, stakeholder, release):
    defect = DefectFactory(release=release)
    client.force_login(stakeholder)
    past = timezone.localdate() - dt.timedelta(days=1)
    response = waive(client, release, defect, reason="", expires_on=past)
    assert response.status_code == 400
    form = dict(response.context["rows"])[defect]
    assert set(form.errors) == {"reason", "expires_on"}
    assert not Waiver.objects.exists()


def test_a_stakeholder_revokes_a_waiver(client, stakeholder, release):
    waiver = WaiverFactory(defect=DefectFactory(release=release), granted_by=stakeholder)
    client.force_login(stakeholder)
    client.post(reverse("uat:waiver_revoke", args=[release.pk, waiver.pk]))
    waiver.refresh_from_db()
    assert waiver.revoked_at is not None


def test_a_qa_lead_sees_but_does_not_waive(client, lead, release):
    defect = DefectFactory(release=release)
    client.force_login(lead)
    assert client.get(reverse("uat:release_waivers", args=[release.pk])).status_code == 200
    response = waive(client, release, defect, reason="x", expires_on=timezone.localdate())
    assert response.status_code == 403


def test_runs_a_fixed_number_of_queries(client, stakeholder, release, django_assert_num_queries):
    client.force_login(stakeholder)
    url = reverse("uat:release_waivers", args=[release.pk])
    client.get(url)
    with django_assert_num_queries(7):
        client.get(url)
    for _ in range(4):
        WaiverFactory(defect=DefectFactory(release=release))
        DefectFactory(release=release)
    with django_assert_num_queries(7):
        client.get(url)
