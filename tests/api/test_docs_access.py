"""With DEBUG off the API schema, its docs and the browsable API need a sign-in, unless
API_DOCS_PUBLIC opens the schema and docs."""

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import ApiTokenFactory

pytestmark = pytest.mark.django_db

DOCS = ["schema", "api-docs"]


@override_settings(DEBUG=False, API_DOCS_PUBLIC=False)
@pytest.mark.parametrize("name", DOCS)
def test_with_debug_off_only_signed_in_callers_get_the_schema_and_docs(api, client, tester, name):
    stranger = api.get(reverse(name))
    assert stranger.status_code in (401, 302)
    assert b"openapi" not in stranger.content and b"swagger" not in stranger.content.lower()
    # The browsable API's pages, likewise.
    assert client.get(reverse("api-root"), HTTP_ACCEPT="text/html").status_code == 401
    client.force_login(tester)
    assert client.get(reverse(name)).status_code == 200
    token = ApiTokenFactory(user=tester)
    with_token = api.get(reverse(name), HTTP_AUTHORIZATION=f"Token {token.secret}")
    assert with_token.status_code == 200


@pytest.mark.parametrize("opened", [{"API_DOCS_PUBLIC": True}, {"DEBUG": True}])
def test_api_docs_public_or_debug_opens_what_is_closed_otherwise(api, opened):
    with override_settings(DEBUG=False, API_DOCS_PUBLIC=False):
        assert api.get(reverse("schema")).status_code == 401
    with override_settings(**{"DEBUG": False, **opened}):
        response = api.get(reverse("schema"))
    assert response.status_code == 200 and b"openapi: 3" in response.content
