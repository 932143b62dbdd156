"""POST /api/v1/plans/{id}/reports/ and GET /api/v1/reports/."""

import pytest
from rest_framework.test import APIClient

from reports.models import AcceptanceReport
from tests.factories import AcceptanceReportFactory, ApiTokenFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    token = ApiTokenFactory(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.secret}")
    return client


def test_a_qa_lead_asks_for_a_report_and_reads_it(lead, plan, django_capture_on_commit_callbacks):
    api = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/plans/{plan.pk}/reports/")
    assert response.status_code == 202
    report = AcceptanceReport.objects.get()
    assert response.json()["id"] == str(report.uuid)
    assert response["Location"] == response.json()["url"]
    detail = api.get(response.json()["url"]).json()
    assert detail["status"] == "ready" and detail["decision"] == "no-go"
    assert detail["stale"] is False
    assert detail["metrics"]["progress"]["overall"]["total"] == 4
    assert {c["key"] for c in detail["criteria"]} >= {"pass_rate"}
    pdf = api.get(detail["pdf_url"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    # Unchanged data: the same report comes back, ready.
    again = api.post(f"/api/v1/plans/{plan.pk}/reports/")
    assert again.status_code == 200 and again.json()["id"] == str(report.uuid)


def test_stakeholders_read_reports_but_cannot_ask(stakeholder, plan):
    report = AcceptanceReportFactory(plan=plan, ready=True)
    api = client_for(stakeholder)
    assert api.post(f"/api/v1/plans/{plan.pk}/reports/").status_code == 403
    listing = api.get("/api/v1/reports/").json()
    assert [row["id"] for row in listing["results"]] == [str(report.uuid)]


@pytest.mark.parametrize("persona", ["tester", "beta_tester", "outsider"])
def test_others_get_404(request, persona, plan):
    report = AcceptanceReportFactory(plan=plan, ready=True)
    api = client_for(request.getfixturevalue(persona))
    assert api.post(f"/api/v1/plans/{plan.pk}/reports/").status_code == 404
    assert api.get(f"/api/v1/reports/{report.uuid}/").status_code == 404
    assert api.get("/api/v1/reports/").json()["results"] == []


def test_anonymous_callers_are_refused(plan):
    assert APIClient().post(f"/api/v1/plans/{plan.pk}/reports/").status_code == 401


def test_the_list_costs_a_fixed_number_of_queries(lead, plan, django_assert_num_queries):
    api = client_for(lead)
    AcceptanceReportFactory(plan=plan, ready=True)
    api.get("/api/v1/reports/")
    with django_assert_num_queries(4) as few:
        api.get("/api/v1/reports/")
    AcceptanceReportFactory.create_batch(4, plan=plan)
    with django_assert_num_queries(len(few)):
        api.get("/api/v1/reports/")
