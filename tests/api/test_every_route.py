"""Every API route, found in the URLconf rather than listed by hand, refuses strangers:
without credentials a 401 in the error format; for a signed-in account with no role in
UAT, nothing of anybody's — a 401, 403, 404 or 405, or an empty answer — and no write
gets as far as validating its input. A new endpoint is covered the day it is added.
What each role sees and may do is tests/api/test_access.py."""

import re

import pytest
from django.urls import URLResolver, get_resolver

from tests.factories import (
    AcceptanceReportFactory,
    ApiTokenFactory,
    EventFactory,
    SignOffFactory,
    WaiverFactory,
)

pytestmark = pytest.mark.django_db

# The schema and its docs describe the API, not anybody's data; but with DEBUG off (as
# here) they need a sign-in too unless API_DOCS_PUBLIC opens them (test_docs_access.py).
PUBLIC: set[str] = set()
REFUSED = {401, 403, 404, 405}
PARAMETER = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.name


def api_routes() -> list[tuple[str, str]]:
    """(name, pattern) of every API route; the ``.json``-style suffix twins left out."""
    return sorted(
        {
            (name, pattern)
            for pattern, name in _walk(get_resolver().url_patterns)
            if pattern.startswith("api/") and "format>" not in pattern
        }
    )


ROUTES = api_routes()


@pytest.fixture
def targets(world, stakeholder, lead):
    """An existing record for every kind of id a route takes, from the world's release."""
    plan = world["plan"]
    report = AcceptanceReportFactory(plan=plan)
    return {
        "product": plan.release.product_id,
        "release": plan.release_id,
        "environment": plan.environment_id,
        "requirement": world["requirement"].pk,
        "case": world["case"].pk,
        "plan": plan.pk,
        "cohort": world["alpha"].pk,
        "execution": world["own"].pk,
        "defect": world["defect"].pk,
        "report": report.uuid,
        "signoff": SignOffFactory(report=report, signer=stakeholder).pk,
        "waiver": WaiverFactory(defect=world["defect"], granted_by=stakeholder).pk,
        "event": EventFactory(actor=lead).pk,
        "apitoken": ApiTokenFactory(user=lead).pk,
        "evidence-package": report.uuid,
    }


def url_of(name: str, pattern: str, targets: dict) -> str:
    kind = next((k for k in sorted(targets, key=len, reverse=True) if name.startswith(k)), "")
    path = pattern.replace("^", "").replace("$", "").replace("\\", "")
    path = path.replace("<int:plan_id>", str(targets["plan"]))
    return "/" + PARAMETER.sub(lambda _: str(targets.get(kind, 1)), path)


def secrets_of(world) -> list[str]:
    """Text only someone with a stake in the world's release could have read."""
    return [
        world["plan"].name,
        world["case"].title,
        world["beta_case"].title,
        world["requirement"].title,
        world["defect"].title,
        world["other_defect"].title,
        world["plan"].release.product.name,
        world["tester"].email,
    ]


def test_every_api_route_is_found():
    names = {name for name, _ in ROUTES}
    assert {"execution-detail", "release-gate", "report-pdf", "apitoken-revoke"} <= names
    assert len(ROUTES) > 40


@pytest.mark.parametrize(("name", "pattern"), ROUTES, ids=[name for name, _ in ROUTES])
def test_without_credentials_every_route_is_a_401(api, targets, name, pattern):
    url = url_of(name, pattern, targets)
    for method in ("get", "post"):
        response = getattr(api, method)(url, {}, format="json")
        if name in PUBLIC and method == "get":
            continue
        assert response.status_code in {401, 405}, (method, url, response.status_code)
        if response.status_code == 401:
            assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(("name", "pattern"), ROUTES, ids=[name for name, _ in ROUTES])
def test_an_account_without_a_role_gets_nothing_from_any_route(
    as_user, outsider, world, targets, name, pattern
):
    api, url = as_user(outsider), url_of(name, pattern, targets)
    # A route about one record answers a stranger only with a refusal; a collection may
    # answer a read, with nothing in it.
    about_a_record = PARAMETER.search(pattern) is not None
    for method in ("get", "post"):
        response = getattr(api, method)(url, {}, format="json")
        if response.status_code in REFUSED or (name in PUBLIC and method == "get"):
            continue
        assert not about_a_record, (method, url, response.status_code)
        assert method == "get" and response.status_code == 200, (method, url, response)
        body = response.content.decode(errors="replace")
        leaked = [text for text in secrets_of(world) if text in body]
        assert not leaked, (url, leaked)
        if response["Content-Type"].startswith("application/json"):
            results = response.json().get("results") if isinstance(response.json(), dict) else None
            assert not results, (url, results)
