"""A release pipeline's token reads releases and their gate and promotes; every other API
route — found in the URLconf, so a new one is covered the day it is added — answers it
403 or 404 (or 405), and nothing of the test work reaches it."""

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from tests.api.test_every_route import PARAMETER, ROUTES, secrets_of, targets, url_of
from tests.factories import ApiTokenFactory

pytestmark = pytest.mark.django_db

__all__ = ["targets"]  # the fixture, shared with test_every_route

# What a pipeline may call, and why; everything else is refused.
PIPELINE_ROUTES = {
    "release-list": "the release summary: id, product, version, kind, stage",
    "release-detail": "the same, of one release",
    "release-gate": "the question it asks",
    "release-promote": "what it does when the gate says go",
    "apitoken-list": "its own tokens",
    "apitoken-detail": "its own tokens",
    "apitoken-revoke": "its own tokens",
    "schema": "the API's description, no data",
    "api-docs": "the API's description, no data",
}
REFUSED = {403, 404, 405}


@pytest.fixture
def machine(pipeline):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiTokenFactory(user=pipeline).secret}")
    return client


def test_the_routes_a_pipeline_may_call_exist():
    assert set(PIPELINE_ROUTES) <= {name for name, _ in ROUTES}


@pytest.mark.parametrize(("name", "pattern"), ROUTES, ids=[name for name, _ in ROUTES])
def test_a_pipeline_token_gets_nothing_but_releases_and_the_gate(
    machine, world, targets, name, pattern
):
    if name in PIPELINE_ROUTES:
        return
    url = url_of(name, pattern, targets)
    for method in ("get", "post"):
        response = getattr(machine, method)(url, {}, format="json")
        assert response.status_code in REFUSED, (method, url, response.status_code)
        body = response.content.decode(errors="replace")
        assert not [text for text in secrets_of(world) if text in body], url


def test_a_pipeline_reads_releases_asks_the_gate_and_promotes(machine, world):
    release = world["plan"].release
    release.stage = "alpha"
    release.save()
    listed = machine.get("/api/v1/releases/")
    assert listed.status_code == 200
    assert release.pk in {row["id"] for row in listed.json()["results"]}
    assert machine.get(f"/api/v1/releases/{release.pk}/").json()["version"] == release.version
    gate = machine.get(f"/api/v1/releases/{release.pk}/gate/", {"stage": "beta"})
    assert gate.status_code == 200
    promote = machine.post(
        f"/api/v1/releases/{release.pk}/promote/", {"stage": "beta", "build": "1.0"}
    )
    assert promote.status_code == 409  # it reached the gate, which is closed (no report)
    # It changes no release.
    assert machine.patch(f"/api/v1/releases/{release.pk}/", {"name": "x"}).status_code == 403


def test_a_pipeline_gets_no_report_pdf_or_dashboard_page(client, pipeline, world):
    from tests.factories import AcceptanceReportFactory

    report = AcceptanceReportFactory(plan=world["plan"], ready=True)
    report.pdf.save("report.pdf", ContentFile(b"%PDF-1.7 pipeline"))
    client.force_login(pipeline)
    for url in (
        f"/reports/{report.uuid}/",
        f"/reports/{report.uuid}/pdf/",
        f"/reports/plans/{world['plan'].pk}/",
        "/reports/",
    ):
        assert client.get(url).status_code == 404, url


def test_a_record_with_an_id_is_refused_as_a_record_is(machine, targets):
    """Sanity of the sweep above: routes about one record were tried with real ids."""
    about_a_record = [name for name, pattern in ROUTES if PARAMETER.search(pattern)]
    assert "case-detail" in about_a_record and "report-pdf" in about_a_record
    assert machine.get(f"/api/v1/cases/{targets['case']}/").status_code in REFUSED
