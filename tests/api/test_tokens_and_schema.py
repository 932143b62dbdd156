"""API tokens of one's own, the OpenAPI schema and the interactive docs."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.factories import ApiTokenFactory

pytestmark = pytest.mark.django_db


def test_a_signed_in_user_makes_a_token_and_sees_the_secret_once(api, tester):
    api.force_login(tester)
    response = api.post("/api/v1/tokens/", {"name": "laptop"}, format="json")
    assert response.status_code == 201
    secret = response.json()["secret"]
    token = ApiToken.objects.get()
    assert ApiToken.find(secret) == token and token.user == tester
    listed = api.get("/api/v1/tokens/").json()["results"]
    assert [row["name"] for row in listed] == ["laptop"]
    assert "secret" not in listed[0]
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert machine.get("/api/v1/executions/").status_code == 200


def test_a_token_cannot_mint_more_tokens(tester):
    token = ApiTokenFactory(user=tester)
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Token {token.secret}")
    response = machine.post("/api/v1/tokens/", {"name": "more"}, format="json")
    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize("how", ["delete", "revoke"])
def test_revoking_a_token_locks_it_out(api, tester, how):
    token = ApiTokenFactory(user=tester)
    api.force_login(tester)
    if how == "delete":
        assert api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    else:
        assert api.post(f"/api/v1/tokens/{token.pk}/revoke/").json()["is_active"] is False
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Token {token.secret}")
    assert machine.get("/api/v1/executions/").status_code == 401
    assert ApiToken.objects.filter(pk=token.pk).exists()  # revoked, kept on record


def test_nobody_sees_or_revokes_anyone_elses_token(api, tester, lead):
    token = ApiTokenFactory(user=lead)
    api.force_login(tester)
    assert api.get("/api/v1/tokens/").json()["count"] == 0
    assert api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    token.refresh_from_db()
    assert token.is_active


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")
    text = (tmp_path / "s.yaml").read_text()
    assert "/api/v1/executions/{id}/steps/" in text
    assert "Error" in text


def test_the_schema_is_served(api, tester):
    api.force_login(tester)
    response = api.get(reverse("schema"))
    assert response.status_code == 200
    assert b"openapi: 3" in response.content


def test_the_docs_page_runs_no_inline_script_and_loads_nothing_from_elsewhere(client, tester):
    client.force_login(tester)
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "Content-Security-Policy" in response.headers
    init = re.search(r"""src=["']([^"']*script[^"']*)["']""", html).group(1)
    script = client.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
