"""Stored values print as their labels ("In progress", never ``in_progress``) on the
dashboard, the report and its PDF, the signing page and the emails, through one filter
(``reports/templatetags/labels.py``); the progress donut says what its centre counts."""

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from reports.services import report_request
from reports.templatetags.labels import label_of
from tests.factories import RequirementFactory, WaiverFactory
from uat.models import DefectStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(plan, lead, stakeholder, django_capture_on_commit_callbacks):
    """The plan's defect in progress, a revoked waiver, a requirement whose only case
    has not run; then a report built and emailed."""
    from django.utils import timezone

    defect = plan.release.defects.get()
    type(defect).objects.filter(pk=defect.pk).update(status=DefectStatus.IN_PROGRESS)
    waived = WaiverFactory(defect__release=plan.release, defect__severity="critical")
    type(waived).objects.filter(pk=waived.pk).update(revoked_at=timezone.now())
    plan.cases.get(key="C-4").requirements.add(
        RequirementFactory(product=plan.release.product, key="R-3")
    )
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    report.refresh_from_db()
    assert report.status == "ready"
    return report


RAW = ("in_progress", "Notrun", "not_run<", "(major", "(critical", "(alpha)")


def test_the_report_and_its_pdf_print_labels(built):
    assert "(Major, In progress)" in built.html
    assert "(Critical)" in built.html and "(revoked, no longer counts)" in built.html
    assert "Sales (Alpha (internal staff))" in built.html
    for raw in RAW:
        assert raw not in built.html, raw
    text = "".join(page.extract_text() for page in PdfReader(built.pdf.open("rb")).pages)
    assert "In progress" in text and "in_progress" not in text


def test_the_signing_page_prints_labels(client, built, stakeholder):
    client.force_login(stakeholder)
    page = client.get(reverse("reports:report_sign", args=[built.uuid])).content.decode()
    assert "(Major, In progress)" in page and "(Critical)" in page and "(revoked)" in page
    for raw in RAW:
        assert raw not in page, raw


def test_the_email_prints_labels(built):
    (message, *_) = [m for m in mail.outbox if "acceptance report" in m.subject.lower()]
    assert "(Critical)" in message.body and "(revoked)" in message.body
    html = message.alternatives[0][0]
    assert "(Critical)" in html and "(critical)" not in html


def test_the_coverage_badge_and_the_donut_say_what_they_count(client, lead, built):
    client.force_login(lead)
    page = client.get(reverse("reports:dashboard", args=[built.plan_id])).content.decode()
    assert ">Not run</span>" in page and "Notrun" not in page
    # 1 of the 4 cases in scope passed: the centre counts the ring's cases and says so.
    assert "25 % passed" in page and "the share of them that passed" in page
    assert "33.3 %" in page  # the pass rate of the cases with a result, named apart
    assert "of the 3 cases with a result" in page
    assert "25 % passed" in built.html


def test_an_unknown_value_prints_as_stored():
    assert label_of("in_progress", "defect_status") == "In progress"
    assert label_of("no-go", "decision") == "No-go"
    assert label_of("gone", "severity") == "gone"
