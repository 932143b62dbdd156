"""The evidence package: its contents, its manifest hashes, and who may get it."""

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from reports.evidence_packages import evidence_package_build_now, evidence_package_request
from reports.fingerprint import plan_fingerprint
from reports.models import EvidencePackage
from reports.signoffs import signoff_sign
from tests.factories import (
    AcceptanceReportFactory,
    DefectFactory,
    EvidenceFactory,
    ExecutionFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    StepResultFactory,
)
from uat.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(stakeholder, password, lead):
    plan = PlanFactory()
    plan.stakeholders.add(stakeholder)
    execution = ExecutionFactory(plan=plan, failed=True)
    StepResultFactory(execution=execution, status="failed", actual_result="Boom")
    EvidenceFactory(execution=execution, original_name="../../etc/screen.png")
    DefectFactory(release=plan.release, title="Phone number lost").executions.add(execution)
    PlanSignoffRoleFactory(plan=plan, signers=[stakeholder])
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    report.pdf.save("report.pdf", ContentFile(b"%PDF-1.7 test"))
    signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
    )
    return plan.release


def test_contains_what_an_auditor_asks_for_with_hashes(
    release, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        package, _ = evidence_package_request(release=release, actor=lead)
    package.refresh_from_db()
    assert package.status == "ready", package.error
    data = package.file.read()
    assert hashlib.sha256(data).hexdigest() == package.sha256
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    report = release.plans.get().reports.get()
    assert {
        "manifest.json",
        "signoffs.csv",
        "audit-events.csv",
        "defects.csv",
        "executions.csv",
        "step-results.csv",
        f"reports/{report.uuid}.json",
        f"reports/{report.uuid}.pdf",
    } <= names
    [evidence] = [name for name in names if name.startswith("evidence/")]
    assert ".." not in evidence
    assert evidence.endswith("/1-screen.png")

    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["files"]) == names - {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == entry["sha256"]

    signoffs = archive.read("signoffs.csv").decode()
    assert "Approved as Business Owner" in signoffs and "current" in signoffs
    assert "Phone number lost" in archive.read("defects.csv").decode()
    assert "signoff.recorded" in archive.read("audit-events.csv").decode()
    assert json.loads(archive.read(f"reports/{report.uuid}.json"))["fresh"] is True
    assert Event.objects.filter(verb="evidence_package.requested").exists()


def test_a_stale_signature_is_marked_stale(release, lead, django_capture_on_commit_callbacks):
    plan = release.plans.get()
    plan.min_pass_rate = 10
    plan.save()
    with django_capture_on_commit_callbacks(execute=True):
        package, _ = evidence_package_request(release=release, actor=lead)
    package.refresh_from_db()
    signoffs = zipfile.ZipFile(package.file).read("signoffs.csv").decode()
    assert signoffs.strip().endswith("stale")


def test_a_second_delivery_of_the_task_builds_nothing(release, lead):
    package = EvidencePackage.objects.create(release=release, requested_by=lead)
    assert evidence_package_build_now(package_id=package.pk) is not None
    assert evidence_package_build_now(package_id=package.pk) is None


@pytest.mark.parametrize(
    ("persona", "status"),
    [("lead", 200), ("stakeholder", 200), ("tester", 404), ("beta_tester", 404), ("outsider", 404)],
)
def test_only_leads_and_stakeholders_download_it(client, request, release, lead, persona, status):
    package = EvidencePackage.objects.create(release=release, requested_by=lead)
    evidence_package_build_now(package_id=package.pk)
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("uat:evidence_package_download", args=[package.uuid]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Disposition"].startswith("attachment;")


def test_the_audit_page_builds_one(
    client, stakeholder, release, django_capture_on_commit_callbacks
):
    client.force_login(stakeholder)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("uat:evidence_package_create", args=[release.pk]))
    assert response.status_code == 302
    assert EvidencePackage.objects.get().status == "ready"
    assert client.get(reverse("uat:evidence_package_create", args=[release.pk])).status_code == 405


def _tables(release, lead) -> dict[str, list[dict[str, str]]]:
    package = EvidencePackage.objects.create(release=release, requested_by=lead)
    evidence_package_build_now(package_id=package.pk)
    archive = zipfile.ZipFile(EvidencePackage.objects.get(pk=package.pk).file)
    return {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
        if name.endswith(".csv")
    }


def test_text_a_spreadsheet_would_run_stays_text(release, lead):
    execution = release.plans.get().executions.get()
    execution.notes = '=HYPERLINK("http://x","y")'
    execution.save()
    execution.step_results.update(actual_result="@SUM(A1)")
    release.defects.update(title="=1+2")
    tables = _tables(release, lead)
    assert tables["defects.csv"][0]["title"] == "'=1+2"
    assert tables["executions.csv"][0]["notes"] == '\'=HYPERLINK("http://x","y")'
    assert tables["step-results.csv"][0]["actual_result"] == "'@SUM(A1)"


@pytest.mark.parametrize(("name", "route"), [("executions", "executions"), ("defects", "defects")])
def test_executions_and_defects_have_the_api_exports_columns(release, lead, name, route):
    api = APIClient()
    api.force_authenticate(user=lead)
    exported = api.get(f"/api/v1/{route}/export/", {"format": "csv"})
    api_rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    package_rows = _tables(release, lead)[f"{name}.csv"]
    assert list(package_rows[0]) == list(api_rows[0])
    assert package_rows == api_rows


def test_execution_rows_name_their_evidence_folder(release, lead):
    tables = _tables(release, lead)
    [execution] = tables["executions.csv"]
    [step] = tables["step-results.csv"]
    assert execution["id"] == step["execution"] == str(release.plans.get().executions.get().pk)
    assert execution["uuid"] == step["execution_uuid"]
    evidence = zipfile.ZipFile(EvidencePackage.objects.first().file).namelist()
    assert any(name.startswith(f"evidence/{execution['uuid']}/") for name in evidence)


def test_asking_again_while_one_is_built_gets_that_one(release, lead, stakeholder):
    # Not built yet (its task waits for the commit): five people asking get one package.
    first, created = evidence_package_request(release=release, actor=lead)
    assert created
    for _ in range(4):
        assert evidence_package_request(release=release, actor=stakeholder) == (first, False)
    EvidencePackage.objects.filter(pk=first.pk).update(status="running")
    assert evidence_package_request(release=release, actor=lead) == (first, False)
    EvidencePackage.objects.filter(pk=first.pk).update(status="failed")
    second, created = evidence_package_request(release=release, actor=lead)
    assert created and second != first
    assert Event.objects.filter(verb="evidence_package.requested").count() == 2


def test_the_database_holds_one_package_in_the_making_per_release(release, lead):
    EvidencePackage.objects.create(release=release, requested_by=lead, status="ready")
    EvidencePackage.objects.create(release=release, requested_by=lead)
    with pytest.raises(IntegrityError), transaction.atomic():
        EvidencePackage.objects.create(release=release, requested_by=lead, status="running")


def test_the_audit_page_says_when_one_is_being_built_already(client, lead, release):
    client.force_login(lead)
    url = reverse("uat:evidence_package_create", args=[release.pk])
    first = client.post(url, follow=True).content.decode()
    assert "Building the evidence package" in first
    again = client.post(url, follow=True).content.decode()
    assert "An evidence package of this release is being built already" in again
    assert EvidencePackage.objects.count() == 1


def test_the_api_answers_with_the_package_being_built(lead, release):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(lead)
    url = f"/api/v1/releases/{release.pk}/evidence-package/"
    first, again = api.post(url), api.post(url)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "pending" and again["Location"] == first["Location"]


def test_a_failed_build_keeps_its_error(release, lead, monkeypatch):
    from reports import evidence_packages as evidence

    def broken(package, release):
        raise OSError("disk full")

    monkeypatch.setattr(evidence, "_evidence", broken)
    package = EvidencePackage.objects.create(release=release, requested_by=lead)
    with pytest.raises(OSError):
        evidence_package_build_now(package_id=package.pk)
    package.refresh_from_db()
    assert (package.status, package.error) == ("failed", "disk full")
    assert package.started_at and package.finished_at
