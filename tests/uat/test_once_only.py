"""What is made once stays made once: a double click, a resent request or concurrent
posts make one defect and one active waiver, enforced below the service where the
database can (PostgreSQL); evidence added to a finished run makes its report stale."""

import datetime as dt
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from reports.currency import report_state
from reports.fingerprint import plan_fingerprint
from tests.factories import (
    AcceptanceReportFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    StepResultFactory,
    UserFactory,
    WaiverFactory,
)
from uat.models import Defect, Waiver
from uat.services import evidence_attach, waiver_grant, waiver_revoke

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def failed_run(tester):
    execution = ExecutionFactory(tester=tester, in_progress=True)
    StepResultFactory(execution=execution, position=1, status="failed", actual_result="500")
    return execution


# ------------------------------------------------------------------------- defects


@pytest.mark.django_db
def test_the_defect_form_sent_twice_makes_one_defect(client, tester, failed_run):
    client.force_login(tester)
    url = reverse("uat:defect_new", args=[failed_run.uuid])
    form = client.get(url, {"step": 1}).text
    key = re.search(r'name="submission" value="([0-9a-f]+)"', form).group(1)
    data = {"step": "1", "title": "Save fails", "severity": "major", "submission": key}
    data["steps_to_reproduce"] = "1. Save"
    shot = SimpleUploadedFile("shot.png", PNG, content_type="image/png")
    first = client.post(url, {**data, "file": shot})
    again = client.post(url, {**data, "file": SimpleUploadedFile("s.png", PNG)}, follow=True)
    defect = Defect.objects.get()
    assert first.url == reverse("uat:defect", args=[defect.pk])
    assert again.redirect_chain[-1][0] == first.url
    assert "was reported already" in again.text
    assert failed_run.evidence.count() == 1
    # A new form is a new submission.
    other = re.search(r'name="submission" value="([0-9a-f]+)"', client.get(url).text).group(1)
    assert other != key


@pytest.mark.django_db
def test_the_api_takes_an_idempotency_key_for_a_defect(tester, failed_run):
    api = APIClient()
    api.force_authenticate(tester)
    url = f"/api/v1/executions/{failed_run.pk}/defects/"
    body = {"title": "Save fails", "severity": "major"}
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="run-7-save")
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="run-7-save")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Defect.objects.count() == 1
    assert api.post(url, body, format="json").status_code == 201  # no key: a new defect
    too_long = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 65)
    assert too_long.status_code == 400 and Defect.objects.count() == 2


@pytest.mark.django_db
def test_a_key_is_the_reporters_own(tester, failed_run):
    from uat.services import defect_report

    someone = DefectFactory(submission_key="same")
    mine = defect_report(
        execution=failed_run, actor=tester, title="x", severity="minor", submission_key="same"
    )
    assert mine.pk != someone.pk and not getattr(mine, "resubmitted", False)


# ------------------------------------------------------------------------- waivers


def staked_defect(stakeholder):
    defect = DefectFactory(critical=True)
    PlanFactory(release=defect.release).stakeholders.add(stakeholder)
    return defect


def grant(defect, stakeholder, days=7):
    return waiver_grant(
        defect=defect,
        actor=stakeholder,
        reason="Workaround documented",
        expires_at=timezone.now() + dt.timedelta(days=days),
    )


@pytest.mark.django_db
def test_a_waiver_after_a_revoked_or_expired_one_is_granted(stakeholder):
    defect = staked_defect(stakeholder)
    waiver_revoke(waiver=grant(defect, stakeholder), actor=stakeholder)
    grant(defect, stakeholder)
    with pytest.raises(ValidationError, match="already has an active waiver"):
        grant(defect, stakeholder)
    other = staked_defect(stakeholder)
    WaiverFactory(defect=other, expired=True)
    assert grant(other, stakeholder).is_active


def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the database's own guard is PostgreSQL's (set DATABASE_URL)")


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_waiver(stakeholder):
    postgresql()
    waiver = WaiverFactory()
    with pytest.raises(IntegrityError, match="waiver_one_active_per_defect"), transaction.atomic():
        WaiverFactory(defect=waiver.defect)
    Waiver.objects.filter(pk=waiver.pk).update(revoked_at=timezone.now())
    WaiverFactory(defect=waiver.defect)  # once revoked, another may follow


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_five_concurrent_grants_make_one_active_waiver():
    postgresql()
    stakeholder = UserFactory(roles=["Stakeholder"])
    defect = staked_defect(stakeholder)
    start, outcomes = threading.Barrier(5), []

    def post():
        try:
            start.wait()
            grant(defect, stakeholder)
            outcomes.append("granted")
        except ValidationError as refused:
            outcomes.append(refused.messages[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("granted") == 1, outcomes
    assert Waiver.objects.filter(defect=defect).active().count() == 1
    waiver_revoke(waiver=Waiver.objects.get(defect=defect), actor=stakeholder)
    assert not Waiver.objects.filter(defect=defect).active().exists()


# ------------------------------------------------------------------------ evidence


@pytest.mark.django_db
def test_evidence_added_to_a_finished_run_makes_the_report_stale(tester):
    run = ExecutionFactory(tester=tester, passed=True)
    report = AcceptanceReportFactory(
        plan=run.plan, ready=True, fingerprint=plan_fingerprint(run.plan)
    )
    assert report_state(report) == "current"
    lock_version = run.lock_version
    evidence_attach(execution=run, actor=tester, upload=SimpleUploadedFile("late.png", PNG))
    assert report_state(report) == "stale"
    run.refresh_from_db()
    assert run.lock_version == lock_version  # the tester's open form is no conflict
