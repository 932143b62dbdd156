"""Printing a report loads only Greenlight's own static files: an image, stylesheet or
link its content names — file://, another host, a loopback port, data: — is never
fetched, and the PDF still builds with its stylesheet and charts."""

import socket
import urllib.request

import pytest
from pypdf import PdfReader

from reports.pdf_fetcher import StaticOnlyFetcher, base_url
from reports.services import report_pdf, report_request

pytestmark = pytest.mark.django_db

HOSTILE = (
    '<img src="file:///etc/passwd">'
    '<img src="http://127.0.0.1:1/probe.png">'
    '<link rel="stylesheet" href="https://example.com/x.css">'
    '<img src="data:image/png;base64,iVBORw0KGgo=">'
    '<img src="../../../../etc/passwd">'
    f'<img src="{base_url()}../../config/settings.py">'
    '<p style="background: url(file:///etc/hostname)">Hostile</p>'
)


@pytest.fixture
def fetched(monkeypatch):
    """Every URL the printer asks for, and a tripwire on any real fetch or connection."""
    asked = []
    original = StaticOnlyFetcher.fetch

    def recording(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)

    def tripwire(*args, **kwargs):
        raise AssertionError(f"the printer opened a real connection: {args[:2]}")

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", recording)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", tripwire)
    monkeypatch.setattr(socket, "create_connection", tripwire)
    monkeypatch.setattr(socket.socket, "connect", tripwire)
    return asked


def test_a_report_naming_outside_resources_prints_without_fetching_them(plan, lead, fetched):
    report, _ = report_request(plan=plan, actor=lead)
    pdf = report_pdf(html=f"<h1>Report</h1>{HOSTILE}", report=report)
    assert pdf.startswith(b"%PDF")
    assert any(url.endswith("/css/report-print.css") for url in fetched)
    refused = [url for url in fetched if not url.endswith("/css/report-print.css")]
    assert len(refused) >= 5  # asked, refused by the fetcher, left out of the PDF
    assert b"root:x:0:0" not in pdf


def test_the_fetcher_serves_static_files_and_refuses_the_rest():
    fetcher = StaticOnlyFetcher()
    css = fetcher.fetch(f"{base_url()}css/report-print.css")
    assert css.content_type == "text/css" and b"{" in css.read()
    for url in [
        "file:///etc/passwd",
        "http://127.0.0.1:1/",
        "data:text/plain,hello",
        f"{base_url()}../../manage.py",
        f"{base_url()}%2e%2e/%2e%2e/manage.py",
        f"{base_url()}missing.css",
        "https://greenlight-static.invalid.example.com/static/css/report-print.css",
    ]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_a_built_report_still_has_its_charts_and_styles(
    plan, lead, django_capture_on_commit_callbacks, fetched
):
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    report.refresh_from_db()
    assert report.status == "ready", report.error
    assert "<svg" in report.html
    with report.pdf.open("rb") as handle:
        text = "".join(page.extract_text() for page in PdfReader(handle).pages)
    assert "Tester participation" in text
    assert any(url.endswith("/css/report-print.css") for url in fetched)
