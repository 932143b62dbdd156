"""The per-release audit view: who may see it, its filters, its CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from tests.factories import EventFactory, PlanFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(stakeholder, lead):
    plan = PlanFactory()
    plan.stakeholders.add(stakeholder)
    EventFactory(release=plan.release, actor=lead, verb="plan.changed", after={"min_pass_rate": 90})
    EventFactory(release=plan.release, actor=stakeholder, verb="waiver.granted")
    return plan.release


def url(release, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("uat:release_audit", args=[release.pk]) + (f"?{query}" if query else "")


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 200), ("stakeholder", 200), ("tester", 404), ("beta_tester", 404), ("outsider", 404)],
)
def test_only_leads_and_the_releases_stakeholders_see_it(client, request, release, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url(release)).status_code == status


def test_a_stakeholder_of_another_release_gets_404(client, stakeholder, release):
    client.force_login(stakeholder)
    assert client.get(url(ReleaseFactory())).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, release):
    response = client.get(url(release))
    assert response.status_code == 302


def test_filters_by_action_and_person(client, lead, release):
    client.force_login(lead)
    page = client.get(url(release, verb="waiver")).context["page"]
    assert [event.verb for event in page] == ["waiver.granted"]
    page = client.get(url(release, actor="Quinn")).context["page"]
    assert [event.verb for event in page] == ["plan.changed"]


def test_exports_csv_with_formulas_neutralised(client, lead, release):
    EventFactory(release=release, actor=lead, verb="defect.reported", object_repr="=HYPERLINK()")
    client.force_login(lead)
    response = client.get(url(release, format="csv"))
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["time", "actor", "verb"]
    assert len(rows) == 4
    assert "'=HYPERLINK()" in [row[4] for row in rows]


def test_runs_a_fixed_number_of_queries(client, lead, release, django_assert_num_queries):
    client.force_login(lead)
    client.get(url(release))
    with django_assert_num_queries(8):
        client.get(url(release))
    EventFactory.create_batch(10, release=release, actor=lead)
    with django_assert_num_queries(8):
        assert client.get(url(release)).status_code == 200
