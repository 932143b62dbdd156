"""Every file Greenlight hands out or keeps is named by uat.downloads: a release's
version is letters, digits and . _ + - (checked in the admin and the API), and a
version stored before that rule — with a line break, a quote or a slash — still gives
working downloads with a safe name, and no folder under the media root."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from reports.evidence_packages import evidence_package_build_now, evidence_package_request
from reports.fingerprint import plan_fingerprint
from reports.signoffs import signoff_sign
from tests.factories import (
    AcceptanceReportFactory,
    EventFactory,
    EvidenceFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    ProductFactory,
    ReleaseFactory,
)
from uat.downloads import download_filename, download_filename_of
from uat.models import Release

pytestmark = pytest.mark.django_db

HOSTILE = [
    "2.4\r\nX-Injected: yes",
    '2.4"; filename="evil.exe',
    "../../etc/passwd",
    "2/4",
    "a\x00b",
]


@pytest.mark.parametrize("version", HOSTILE)
def test_a_hostile_part_gives_one_plain_file_name(version):
    name = download_filename("acceptance-report", version, "beta", ext="pdf")
    assert name.startswith("acceptance-report-") and name.endswith("-beta.pdf")
    assert not set(name) & set('/\\"\r\n\x00;') and ".." not in name


def test_ordinary_names_are_unchanged():
    assert download_filename("acceptance-report", "2.4.1", "beta", ext="pdf") == (
        "acceptance-report-2.4.1-beta.pdf"
    )
    assert download_filename_of("Écran 1.png") == "Écran 1.png"
    assert download_filename_of("../../.bashrc") == "bashrc.bin"
    assert download_filename("", ext="../csv") == "download.csv"


@pytest.mark.parametrize("version", [*HOSTILE, "2.4 beta", "-1", ".hidden", ""])
def test_a_release_version_with_other_characters_is_refused(version):
    release = ReleaseFactory.build(product=ProductFactory(), version=version)
    with pytest.raises(ValidationError) as error:
        release.full_clean()
    assert "version" in error.value.message_dict


@pytest.mark.parametrize("version", ["2.4", "2.4.1", "2.5.0-rc1", "1.0+build.7", "2026_Q3"])
def test_ordinary_versions_are_accepted(version):
    ReleaseFactory.build(product=ProductFactory(), version=version).full_clean()


def test_the_api_and_the_admin_refuse_a_hostile_version(client, admin_user):
    product = ProductFactory()
    api = APIClient()
    api.force_authenticate(admin_user)
    body = {"product": product.pk, "version": "2.4\nX", "name": "x", "kind": "normal"}
    response = api.post("/api/v1/releases/", body, format="json")
    assert response.status_code == 400
    assert "version" in response.json()["error"]["fields"]
    client.force_login(admin_user)
    add = reverse("admin:uat_release_add")
    data = {"product": product.pk, "version": '2.4"x', "name": "x", "kind": "normal"}
    data.update(stage="planning")
    response = client.post(add, data)
    assert response.status_code == 200 and not Release.objects.exists()
    assert "letters, digits" in response.text


@pytest.fixture
def old_release(stakeholder):
    """A release whose version was stored before the rule, with everything hostile."""
    plan = PlanFactory()
    plan.stakeholders.add(stakeholder)
    Release.objects.filter(pk=plan.release.pk).update(version='2.4"\r\n/../x')
    plan.release.refresh_from_db()
    return plan.release


def _safe(disposition: str) -> None:
    filename = disposition.split("filename=", 1)[1]
    assert disposition.startswith("attachment; ") and "\n" not in disposition
    assert filename.count('"') == 2 and "/" not in filename and ";" not in filename


def test_the_audit_csv_of_an_old_release_downloads(client, lead, old_release):
    EventFactory(release=old_release)
    client.force_login(lead)
    url = reverse("uat:release_audit", args=[old_release.pk])
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 200
    _safe(response["Content-Disposition"])


def test_the_report_pdfs_of_an_old_release_download(client, stakeholder, old_release, password):
    plan = old_release.plans.get()
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    report.pdf.save("report.pdf", ContentFile(b"%PDF-1.7 test"))
    signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
    )
    client.force_login(stakeholder)
    for route in ("reports:report_pdf", "reports:report_signed_pdf"):
        response = client.get(reverse(route, args=[report.uuid]))
        assert response.status_code == 200, route
        _safe(response["Content-Disposition"])


def test_an_evidence_package_of_an_old_release_stays_in_its_folder(
    client, lead, old_release, settings, tmp_path
):
    package, _ = evidence_package_request(release=old_release, actor=lead)
    evidence_package_build_now(package_id=package.pk)
    package.refresh_from_db()
    assert package.file.name.count("/") == 1 and package.file.name.startswith("evidence-packages/")
    client.force_login(lead)
    response = client.get(reverse("uat:evidence_package_download", args=[package.uuid]))
    assert response.status_code == 200
    _safe(response["Content-Disposition"])


def test_an_evidence_file_with_a_hostile_name_downloads(client, tester):
    evidence = EvidenceFactory(execution__tester=tester, original_name='shot"\r\n.png')
    client.force_login(tester)
    url = reverse("uat:evidence", args=[evidence.execution.uuid, evidence.pk])
    response = client.get(url)
    assert response.status_code == 200
    _safe(response["Content-Disposition"])
