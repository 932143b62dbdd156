"""Whatever people type is shown as text, never run as markup: script and attribute
payloads in every rendered text field come out escaped on the tester pages, the
dashboard, the report and its emails; a ``javascript:`` tracker link is refused and,
if one was stored anyway, never rendered as a link."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from reports.services import report_request
from tests.factories import (
    CaseFactory,
    CohortFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    RequirementFactory,
    StepResultFactory,
)
from uat.models import CaseStep
from uat.services import defect_report

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
RAW = ("<script>alert(1)", "<img src=x onerror")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def x(label: str) -> str:
    return f"{label} {PAYLOAD}"


def assert_escaped(text: str, *, rendered: bool = True) -> None:
    for raw in RAW:
        assert raw not in text
    if rendered:
        assert ESCAPED in text  # the field was shown, escaped


@pytest.fixture
def world(tester, lead, stakeholder):
    tester.full_name = x("Tess")
    tester.save()
    plan = PlanFactory(name=x("Plan"), owner=lead)
    plan.stakeholders.add(stakeholder)
    requirement = RequirementFactory(product=plan.release.product, title=x("Req"))
    case = CaseFactory(product=plan.release.product, title=x("Case"), objective=x("Obj"))
    case.requirements.add(requirement)
    CaseStep.objects.filter(case=case).update(action=x("Act"), expected=x("Exp"))
    plan.cases.add(case)
    cohort = CohortFactory(product=plan.release.product, members=[tester])
    execution = ExecutionFactory(
        plan=plan, case=case, tester=tester, cohort=cohort, failed=True, notes=x("Notes")
    )
    StepResultFactory(execution=execution, status="failed", actual_result=x("Actual"))
    defect = DefectFactory(
        release=plan.release,
        title=x("Defect"),
        steps_to_reproduce=x("Repro"),
        external_key="K <script>alert(1)</script>",  # the field holds 50 characters
        external_url="javascript:alert(1)",
    )
    defect.executions.add(execution)
    return plan, execution, defect, requirement


def test_tester_pages_escape_what_people_typed(client, world, tester):
    _, execution, defect, _ = world
    client.force_login(tester)
    for url in (
        reverse("uat:inbox"),
        reverse("uat:execution", args=[execution.uuid]),
        reverse("uat:my_defects"),
        reverse("uat:defect", args=[defect.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.text)
    assert "javascript:" not in client.get(reverse("uat:defect", args=[defect.pk])).text


def test_lead_pages_and_the_dashboard_escape_what_people_typed(client, world, lead):
    plan, _, defect, requirement = world
    client.force_login(lead)
    for url in (
        reverse("uat:defect_list"),
        reverse("uat:defect", args=[defect.pk]),
        reverse("reports:index"),
        reverse("reports:dashboard", args=[plan.pk]),
        reverse("reports:requirement", args=[plan.pk, requirement.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.text)
        assert 'href="javascript:' not in response.text


def test_the_report_and_its_emails_escape_what_people_typed(
    client, world, lead, django_capture_on_commit_callbacks
):
    plan, *_ = world
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    report.refresh_from_db()
    assert report.status == "ready", report.error if hasattr(report, "error") else ""
    client.force_login(lead)
    assert_escaped(client.get(reverse("reports:report", args=[report.uuid])).text)
    assert mail.outbox
    for message in mail.outbox:
        assert_escaped(message.subject, rendered=False)
        for html, _mime in message.alternatives:
            assert_escaped(html, rendered=False)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "ftp://x.org/"]
)
def test_a_tracker_link_that_is_not_a_web_address_is_refused(world, tester, url):
    _, execution, *_ = world
    with pytest.raises(ValidationError, match="http"):
        defect_report(
            execution=execution,
            actor=tester,
            title="Broken",
            severity="major",
            external_key="JIRA-1",
            external_url=url,
        )


def test_the_api_refuses_a_javascript_tracker_link(client, world, tester):
    _, execution, *_ = world
    client.force_login(tester)
    response = client.post(
        f"/api/v1/executions/{execution.pk}/defects/",
        {"title": "Broken", "severity": "major", "external_url": "javascript:alert(1)"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "external_url" in response.json()["error"]["fields"]
    assert not execution.defects.filter(title="Broken").exists()
