"""The front door sends each person where their work is, and the header offers each the
pages of their role (``reports.navigation``, the one home of both)."""

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "target"),
    [
        ("tester", "uat:inbox"),
        ("beta_tester", "uat:inbox"),
        # Rule changed (issue 15): a QA lead lands on the releases they run, not on an
        # empty "My work"; a stakeholder on what waits for their signature.
        ("lead", "reports:index"),
        ("stakeholder", "reports:waiting"),
    ],
)
def test_home_leads_to_the_persons_work(client, request, persona, target):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse(target)


def test_a_stakeholder_lands_on_their_signatures_unless_they_also_test(client, stakeholder):
    client.force_login(stakeholder)
    assert client.get("/")["Location"] == reverse("reports:waiting")
    client.force_login(UserFactory(roles=[Role.STAKEHOLDER, Role.TESTER]))
    assert client.get("/")["Location"] == reverse("uat:inbox")


def test_signing_in_lands_a_lead_on_the_releases(client, lead, password):
    response = client.post(
        reverse("accounts:login"), {"username": lead.email, "password": password}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("reports:index")


def test_home_asks_a_visitor_to_sign_in(client):
    assert client.get("/")["Location"] == reverse("accounts:login")


def nav_links(client) -> list[str]:
    page = client.get(reverse("reports:email_settings")).content.decode()
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.DOTALL).group(1)
    return re.findall(r">([^<>]+)</a>", nav)


NAVIGATION = {
    "tester": ["My work", "My defects"],
    "beta_tester": ["My work", "My defects"],
    "lead": ["Releases", "My work", "My defects", "Defect triage", "Invite testers"],
    "stakeholder": ["Waiting for my signature", "Releases", "My defects"],
}


def test_the_navigation_offers_the_pages_of_each_role(client, request):
    for persona, links in NAVIGATION.items():
        client.force_login(request.getfixturevalue(persona))
        offered = nav_links(client)
        assert offered[: len(links)] == links, persona
        assert set(offered) - set(links) <= {"Admin", "Email settings"}, persona
