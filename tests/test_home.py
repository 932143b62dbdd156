"""The front door sends each person where their work is."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "target"),
    [
        ("tester", "uat:inbox"),
        ("beta_tester", "uat:inbox"),
        ("lead", "uat:inbox"),
        ("stakeholder", "reports:index"),
    ],
)
def test_home_leads_to_the_persons_work(client, request, persona, target):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse(target)


def test_home_asks_a_visitor_to_sign_in(client):
    assert client.get("/")["Location"] == reverse("accounts:login")
