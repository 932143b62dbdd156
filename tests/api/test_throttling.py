"""The API's rate limits answer 429 in the API's error format, per user and per address."""

import pytest
from django.core.cache import cache

from tests.factories import ApiTokenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def test_a_token_over_its_rate_gets_429_in_the_error_format(api, settings, tester):
    settings.API_RATE_USER = "3/hour"
    api.credentials(HTTP_AUTHORIZATION=f"Token {ApiTokenFactory(user=tester).secret}")
    assert [api.get("/api/v1/executions/").status_code for _ in range(3)] == [200] * 3
    response = api.get("/api/v1/executions/")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert "available in" in response.json()["error"]["message"]
    assert int(response["Retry-After"]) > 0


def test_each_user_has_their_own_count(api, settings, tester, lead):
    settings.API_RATE_USER = "2/hour"
    for user in (tester, lead):
        api.force_authenticate(user=user)
        assert [api.get("/api/v1/plans/").status_code for _ in range(2)] == [200, 200]
    assert api.get("/api/v1/plans/").status_code == 429


def test_anonymous_callers_are_limited_per_address(api, settings):
    # Only what answers without signing in counts against it: the schema, when opened.
    settings.API_RATE_ANON = "2/hour"
    settings.API_DOCS_PUBLIC = True
    assert [api.get("/api/schema/?format=json").status_code for _ in range(2)] == [200, 200]
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert api.get("/api/schema/?format=json", REMOTE_ADDR="10.9.8.7").status_code == 200


def test_an_empty_rate_turns_the_limit_off(api, settings, tester):
    settings.API_RATE_USER = ""
    api.force_authenticate(user=tester)
    assert {api.get("/api/v1/plans/").status_code for _ in range(20)} == {200}
