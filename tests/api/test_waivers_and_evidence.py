"""Waivers over the API (listed by stake, granted and revoked by stakeholders through
their services) and the evidence package endpoints (202 then status and download)."""

import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.criteria import criteria_evaluate
from reports.evidence_packages import evidence_package_build_now
from reports.metrics import plan_metrics
from reports.models import EvidencePackage
from tests.factories import DefectFactory, PlanFactory, WaiverFactory
from uat.models import Event, Waiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(stakeholder):
    plan = PlanFactory(max_open_critical_defects=0)
    plan.stakeholders.add(stakeholder)
    return plan


def tomorrow() -> str:
    return (timezone.now() + dt.timedelta(days=1)).isoformat()


class TestWaivers:
    def test_a_stakeholder_grants_and_revokes_a_waiver(self, api, stakeholder, plan):
        defect = DefectFactory(release=plan.release, critical=True)
        api.force_authenticate(stakeholder)
        payload = {
            "defect": defect.pk,
            "reason": "Workaround in the manual",
            "expires_at": tomorrow(),
        }
        response = api.post("/api/v1/waivers/", payload, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["is_active"] and body["release"] == plan.release_id
        assert Event.objects.filter(verb="waiver.granted").exists()
        revoked = api.post(f"/api/v1/waivers/{body['id']}/revoke/")
        assert revoked.status_code == 200 and revoked.json()["is_active"] is False
        again = api.post(f"/api/v1/waivers/{body['id']}/revoke/")
        assert again.status_code == 400

    def test_refusals_are_400_with_fields(self, api, stakeholder, plan):
        api.force_authenticate(stakeholder)
        defect = DefectFactory(release=plan.release, closed=True)
        past = (timezone.now() - dt.timedelta(days=1)).isoformat()
        payload = {"defect": defect.pk, "reason": " x ", "expires_at": past}
        response = api.post("/api/v1/waivers/", payload, format="json")
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"defect", "expires_at"}

    def test_a_defect_of_another_release_cannot_be_waived(self, api, stakeholder, plan):
        api.force_authenticate(stakeholder)
        payload = {"defect": DefectFactory().pk, "reason": "no", "expires_at": tomorrow()}
        assert api.post("/api/v1/waivers/", payload, format="json").status_code == 400
        assert not Waiver.objects.exists()

    def test_qa_leads_read_but_do_not_grant(self, api, lead, plan):
        api.force_authenticate(lead)
        defect = DefectFactory(release=plan.release)
        payload = {"defect": defect.pk, "reason": "mine", "expires_at": tomorrow()}
        assert api.post("/api/v1/waivers/", payload, format="json").status_code == 403
        WaiverFactory(defect=defect, release=plan.release)
        assert api.get("/api/v1/waivers/").json()["count"] == 1

    def test_waivers_are_never_edited_or_deleted(self, api, stakeholder, plan):
        waiver = WaiverFactory(defect__release=plan.release, release=plan.release)
        api.force_authenticate(stakeholder)
        url = f"/api/v1/waivers/{waiver.pk}/"
        assert api.patch(url, {"reason": "x"}, format="json").status_code == 405
        assert api.delete(url).status_code == 405

    def test_an_outsider_sees_none(self, api, outsider, plan):
        WaiverFactory(defect__release=plan.release, release=plan.release)
        api.force_authenticate(outsider)
        assert api.get("/api/v1/waivers/").json()["count"] == 0

    def test_list_queries_are_fixed(self, api, lead, warm_caches):
        api.force_login(lead)

        def count():
            with CaptureQueriesContext(connection) as queries:
                assert api.get("/api/v1/waivers/").status_code == 200
            return len(queries)

        WaiverFactory.create_batch(2)
        small = count()
        WaiverFactory.create_batch(8)
        assert count() == small == 5


class TestWaivedDefectsAndCriteria:
    def criterion(self, plan, at=None):
        metrics = plan_metrics(plan, at=at)
        return next(
            c for c in criteria_evaluate(plan, metrics) if c["key"] == "open_critical_defects"
        )

    def test_a_waived_defect_stops_counting_until_the_waiver_expires(self, plan):
        defect = DefectFactory(release=plan.release, critical=True)
        assert self.criterion(plan)["passed"] is False
        waiver = WaiverFactory(
            defect=defect, release=plan.release, expires_at=timezone.now() + dt.timedelta(days=2)
        )
        assert self.criterion(plan)["passed"] is True
        later = timezone.now() + dt.timedelta(days=3)
        assert self.criterion(plan, at=later)["passed"] is False
        Waiver.objects.filter(pk=waiver.pk).update(revoked_at=timezone.now())
        assert self.criterion(plan)["passed"] is False

    def test_the_report_lists_every_waiver_active_or_not(self, plan, stakeholder):
        active = WaiverFactory(defect__release=plan.release, release=plan.release)
        # Made expired: the database refuses to change a waiver's expiry afterwards.
        expired = WaiverFactory(defect__release=plan.release, release=plan.release, expired=True)
        waivers = plan_metrics(plan)["defects"]["waivers"]
        states = {w["defect"]: w["state"] for w in waivers}
        assert states == {active.defect.reference: "active", expired.defect.reference: "expired"}


class TestEvidencePackageApi:
    def test_post_answers_202_then_get_shows_status_and_download(self, api, stakeholder, plan):
        api.force_authenticate(stakeholder)
        response = api.post(f"/api/v1/releases/{plan.release_id}/evidence-package/")
        assert response.status_code == 202, response.json()
        body = response.json()
        assert body["status"] == "pending" and body["download_url"] is None
        assert response["Location"] == body["url"]
        package = EvidencePackage.objects.get()
        evidence_package_build_now(package_id=package.pk)
        status = api.get(body["url"]).json()
        assert status["status"] == "ready" and status["download_url"]
        assert (
            api.get(f"/api/v1/releases/{plan.release_id}/evidence-package/").json()["id"]
            == body["id"]
        )
        download = api.get(status["download_url"])
        content = b"".join(download.streaming_content)
        assert hashlib.sha256(content).hexdigest() == status["sha256"]
        archive = zipfile.ZipFile(io.BytesIO(content))
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["version"] == plan.release.version
        assert set(manifest["files"]) == set(archive.namelist()) - {"manifest.json"}
        for name, entry in manifest["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == entry["sha256"]

    def test_others_get_404_and_pipelines_too(self, api, outsider, tester, plan):
        for who in (outsider, tester):
            api.force_authenticate(who)
            url = f"/api/v1/releases/{plan.release_id}/evidence-package/"
            assert api.post(url).status_code == 404
            assert api.get(url).status_code == 404
        assert not EvidencePackage.objects.exists()
