"""JUnit XML from an automated suite recorded as executions of a plan's cases."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import CaseFactory, CohortFactory, PlanFactory
from uat.models import Event, Execution

pytestmark = pytest.mark.django_db

REPORT = b"""<?xml version="1.0"?>
<testsuites><testsuite name="acceptance">
  <testcase classname="tests.test_leads" name="test CRM-C001 create a lead"/>
  <testcase classname="tests.test_leads" name="test_convert">
    <properties><property name="case_key" value="CRM-C002"/></properties>
    <failure message="Expected 2 leads, got 1">assert 1 == 2</failure>
  </testcase>
  <testcase classname="tests.test_leads" name="test CRM-C003 crashes">
    <error message="boom"/>
  </testcase>
  <testcase classname="tests.test_leads" name="test CRM-C001x not a key"/>
  <testcase classname="tests.test_leads" name="test CRM-C004 later"><skipped/></testcase>
</testsuite></testsuites>
"""


@pytest.fixture
def plan(lead):
    cohort = CohortFactory(members=[lead])
    plan = PlanFactory(release__product=cohort.product, cohorts=[cohort])
    for key in ("CRM-C001", "CRM-C002", "CRM-C003", "CRM-C004"):
        plan.cases.add(CaseFactory(product=cohort.product, key=key))
    return plan


def upload(api, plan, content, **extra):
    return api.post(
        f"/api/v1/plans/{plan.pk}/junit/",
        {"file": SimpleUploadedFile("junit.xml", content), **extra},
        format="multipart",
    )


def test_results_are_recorded_by_case_key_and_unknown_ones_listed(as_user, lead, plan):
    response = upload(as_user(lead), plan, REPORT, build="ci-42")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {(r["case_key"], r["status"]) for r in body["recorded"]} == {
        ("CRM-C001", "passed"),
        ("CRM-C002", "failed"),
        ("CRM-C003", "blocked"),
    }
    assert body["unknown"] == ["tests.test_leads::test CRM-C001x not a key"]
    assert body["skipped"] == ["CRM-C004"]
    failed = Execution.objects.get(case__key="CRM-C002")
    assert failed.is_latest and failed.build == "ci-42" and failed.tester == lead
    assert failed.step_results.get().actual_result == "Expected 2 leads, got 1"
    assert Event.objects.filter(verb="execution.recorded").count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<testsuite><testcase", "not well-formed"),
        (b"<html/>", "starts with <testsuites>"),
        (
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>',
            "not well-formed",
        ),
    ],
)
def test_malformed_xml_is_a_clear_400(as_user, lead, plan, content, message):
    response = upload(as_user(lead), plan, content)
    assert response.status_code == 400
    assert message in str(response.json()["error"])
    assert not Execution.objects.exists()


@pytest.mark.parametrize("persona", ["tester", "stakeholder"])
def test_only_qa_leads_and_their_machine_accounts_upload_results(request, as_user, plan, persona):
    user = request.getfixturevalue(persona)
    plan.stakeholders.add(user)
    assert upload(as_user(user), plan, REPORT).status_code == 403
