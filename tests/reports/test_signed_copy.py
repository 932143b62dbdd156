"""The signed PDF copy: real signatures where a role is signed and the blank lines only
for the roles nobody signed yet; no heading left alone at a page foot."""

import pytest

from reports.services import report_document, report_html_signed
from reports.signing_page import signed_copy_html
from reports.signoffs import signoff_sign
from tests.factories import PlanSignoffRoleFactory

pytestmark = pytest.mark.django_db

BLANK = '<p class="signature-line">'


@pytest.fixture
def report(plan, lead, django_capture_on_commit_callbacks):
    """A real report of the plan (built by its job), with a second role to sign."""
    from reports.services import report_request

    PlanSignoffRoleFactory(plan=plan, role="compliance", signers=[])
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    report.refresh_from_db()
    assert report.status == "ready" and report.html.count(BLANK) == 2
    return report


def test_a_signed_role_prints_its_signature_instead_of_blank_lines(report, stakeholder, password):
    signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="reject",
        reason="Exports lose data",
        password=password,
    )
    html = signed_copy_html(report)
    section = html[html.index('<section class="signatures">') :]
    section = section[: section.index("</section>")]
    business, compliance = section.split("<h3>")[1:]
    assert BLANK not in business and "To be signed by" not in business
    assert "Olive Owner — Rejected as Business Owner" in business
    assert BLANK in compliance and "a signer still to be named" in compliance
    assert html.count('<section class="signatures">') == 1
    # The stored report is as built.
    report.refresh_from_db()
    assert report.html.count(BLANK) == 2


def test_the_report_page_prints_the_same_lines(client, report, stakeholder, password):
    signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
        confirm_no_go=report.decision == "no-go",
    )
    client.force_login(stakeholder)
    page = client.get(f"/reports/{report.uuid}/").content.decode()
    assert page.count(BLANK) == 1


def _pages_with(document, text: str) -> list[int]:
    """The pages (0-based) on which ``text`` is laid out."""
    found = []
    for number, page in enumerate(document.pages):
        words = " ".join(
            box.text
            for box in page._page_box.descendants()
            if isinstance(getattr(box, "text", None), str)
        )
        if text in words:
            found.append(number)
    return found


def test_no_sign_off_heading_is_left_alone_at_a_page_foot(report, stakeholder, password):
    """Push the sign-off block down a line at a time across a page: wherever the page
    ends, each heading is printed on the page of what follows it."""
    signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
        confirm_no_go=report.decision == "no-go",
    )
    signoffs = list(report.signoffs.all())
    for signoff in signoffs:
        signoff.is_stale = False
    block = signed_copy_html(report)[len(report_html_signed(report=report, signoffs=signoffs)) :]
    for lines in range(30, 80, 2):  # a line is ~13 pt: no heading position is skipped
        filler = "".join(f"<p>Line {n}</p>" for n in range(lines))
        document = report_document(html=filler + block, report=report)
        heading = _pages_with(document, "Sign-offs given on this report")
        follows = _pages_with(document, "Printed name")
        assert heading == follows, f"with {lines} lines the heading is on {heading}"
