"""The release dashboard and report pages: who sees them, what they show, their cost."""

import pytest
from django.urls import reverse

from reports.models import AcceptanceReport
from reports.views import DASHBOARD_ROWS
from tests.factories import AcceptanceReportFactory, RequirementFactory

from .conftest import grow

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(plan):
    return AcceptanceReportFactory(plan=plan, ready=True, html="<p>Snapshot</p>")


def routes(plan, report):
    return [
        ("get", reverse("reports:dashboard", args=[plan.pk])),
        ("get", reverse("reports:report_status", args=[plan.pk])),
        ("post", reverse("reports:report_request", args=[plan.pk])),
        (
            "get",
            reverse(
                "reports:requirement",
                args=[plan.pk, plan.cases.get(key="C-1").requirements.get().pk],
            ),
        ),
        ("get", reverse("reports:report", args=[report.uuid])),
        ("get", reverse("reports:report_pdf", args=[report.uuid])),
    ]


@pytest.mark.parametrize("persona", ["tester", "beta_tester", "outsider"])
def test_people_without_a_stake_get_404_everywhere(client, request, plan, ready, persona):
    client.force_login(request.getfixturevalue(persona))
    for method, url in routes(plan, ready):
        assert getattr(client, method)(url).status_code == 404, url
    assert client.get(reverse("reports:index")).status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client, plan, ready):
    for method, url in routes(plan, ready):
        assert getattr(client, method)(url).status_code == 302, url


def test_stakeholders_see_but_do_not_ask_for_reports(client, stakeholder, plan, ready):
    client.force_login(stakeholder)
    response = client.get(reverse("reports:dashboard", args=[plan.pk]))
    assert response.status_code == 200
    assert b"Build an acceptance report" not in response.content
    assert client.post(reverse("reports:report_request", args=[plan.pk])).status_code == 403
    assert client.get(reverse("reports:index")).status_code == 200


def test_the_dashboard_shows_progress_criteria_matrix_and_charts(client, lead, plan):
    client.force_login(lead)
    response = client.get(reverse("reports:dashboard", args=[plan.pk]))
    page = response.content.decode()
    assert "Sales" in page and "R-1" in page and "Overall pass rate" in page
    assert page.count("<svg") >= 5 and "<script>" not in page and "style=" not in page
    assert "Build an acceptance report" in page


def test_the_dashboard_costs_a_fixed_number_of_queries(
    client, lead, plan, ready, django_assert_num_queries, warm_caches
):
    client.force_login(lead)
    url = reverse("reports:dashboard", args=[plan.pk])
    client.get(url)
    with django_assert_num_queries(24) as small:
        client.get(url)
    grow(plan, 5)
    with django_assert_num_queries(len(small)):
        client.get(url)


def test_the_dashboard_shows_the_requirement_matrix_a_page_at_a_time(client, lead, plan):
    case = plan.cases.get(key="C-4")
    extra = [
        RequirementFactory(product=plan.release.product, key=f"R-9{n:03}")
        for n in range(DASHBOARD_ROWS)
    ]
    case.requirements.add(*extra)
    client.force_login(lead)
    url = reverse("reports:dashboard", args=[plan.pk])
    first = client.get(url).content.decode()
    last_on_first = f"R-9{DASHBOARD_ROWS - 3:03}<"  # by key, R-9000, …
    assert "R-1<" in first and "R-2<" in first and last_on_first in first
    assert f"R-9{DASHBOARD_ROWS - 2:03}<" not in first
    assert f"1\u2013{DASHBOARD_ROWS} of {DASHBOARD_ROWS + 2}" in first and "requirements=2" in first
    second = client.get(url, {"requirements": 2, "testers": 1}).content.decode()
    assert f"R-9{DASHBOARD_ROWS - 2:03}<" in second and f"R-9{DASHBOARD_ROWS - 1:03}<" in second
    assert "R-1<" not in second and last_on_first not in second
    assert "testers=1&amp;requirements=1" in second


def test_asking_from_the_dashboard_builds_and_shows_the_report(
    client, lead, plan, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:report_request", args=[plan.pk]))
    assert response.status_code == 302
    report = AcceptanceReport.objects.get()
    assert report.status == "ready"
    page = client.get(reverse("reports:report", args=[report.uuid])).content.decode()
    assert "Acceptance report" in page and "Download the PDF" in page
    pdf = client.get(reverse("reports:report_pdf", args=[report.uuid]))
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_asking_with_htmx_answers_the_panel_with_the_report_asked_for(
    client, lead, plan, django_capture_on_commit_callbacks
):
    """The dashboard's button posts with htmx and swaps in the panel: it answered 405
    (the panel view takes GET only) and the panel went on saying nothing was asked."""
    client.force_login(lead)
    url = reverse("reports:report_request", args=[plan.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    panel = response.content.decode()
    assert "<html" not in panel and 'id="report-panel"' in panel
    assert "No report has been asked for yet" not in panel
    assert "The acceptance report is being built." in panel
    # The job is queued after the commit: the panel polls until the report is ready.
    assert "A report is being built" in panel and 'hx-trigger="every 2s"' in panel
    assert AcceptanceReport.objects.get().status == "ready"
    # Asked again with nothing changed: the same report, and the panel says so.
    again = client.post(url, headers={"HX-Request": "true"})
    assert again.status_code == 200 and AcceptanceReport.objects.count() == 1
    assert "Nothing changed since the last report" in again.content.decode()
    # The notice was shown in the panel, not left waiting for the next page.
    dashboard = client.get(reverse("reports:dashboard", args=[plan.pk])).content.decode()
    assert "being built" not in dashboard and "Nothing changed" not in dashboard


def test_htmx_polls_a_pending_report_and_stops_when_ready(client, lead, plan):
    client.force_login(lead)
    report = AcceptanceReportFactory(plan=plan)
    url = reverse("reports:report_status", args=[plan.pk])
    pending = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in pending and "<html" not in pending
    AcceptanceReport.objects.filter(pk=report.pk).update(status="ready", decision="go")
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done and "Read the report" in done


def test_the_requirement_page_links_executions_and_defects(client, lead, plan):
    client.force_login(lead)
    requirement = plan.cases.get(key="C-1").requirements.get()
    page = client.get(
        reverse("reports:requirement", args=[plan.pk, requirement.pk])
    ).content.decode()
    defect = plan.release.defects.get()
    assert "C-1" in page and "C-2" in page and defect.reference in page
    assert reverse("admin:uat_defect_change", args=[defect.pk]) in page


def test_people_opt_out_of_digests_and_reminders(client, tester):
    client.force_login(tester)
    url = reverse("reports:email_settings")
    assert client.get(url).status_code == 200
    client.post(url, {"receives_reminders": "on"})
    tester.refresh_from_db()
    assert not tester.receives_digests and tester.receives_reminders
