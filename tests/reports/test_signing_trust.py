"""Signing only what one may sign, once: a report built before a role's signers changed
is not signed for it, whoever named a role's signers never signs it, the report and the
signing page name who named them, and a sign-off sent twice makes one row."""

import re
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from reports import signoffs as signing
from reports.currency import report_is_current
from reports.fingerprint import plan_fingerprint
from reports.models import SignOff
from reports.services import report_request
from reports.signoffs import AlreadySigned, signoff_sign
from tests.factories import PASSWORD, AcceptanceReportFactory, UserFactory
from uat import policy
from uat.models import PlanSignoffRole
from uat.services import signoff_role_configure

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(db):
    return UserFactory(email="cfo@example.com", full_name="Cara Finance", roles=[Role.STAKEHOLDER])


def ready_report(plan):
    return AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))


def sign(report, signer, **overrides):
    fields = {"role": "business_owner", "decision": "approve", "password": PASSWORD}
    return signoff_sign(report=report, signer=signer, **{**fields, **overrides})


def sign_url(report):
    return reverse("reports:report_sign", args=[report.uuid])


FORM = {"role": "business_owner", "decision": "approve", "password": PASSWORD}


# --------------------------------------------------- signers changed after the build


def test_a_report_built_before_its_signers_changed_cannot_be_signed_for_that_role(
    client, plan, admin_user, stakeholder, colleague
):
    signoff_role_configure(
        plan=plan, role="business_owner", signers=[stakeholder], actor=admin_user
    )
    report = ready_report(plan)
    signoff_role_configure(
        plan=plan, role="business_owner", signers=[stakeholder, colleague], actor=admin_user
    )
    words = "The signers of the Business Owner sign-off were changed by Ada Admin"
    with pytest.raises(ValidationError, match=words):
        sign(report, stakeholder)

    client.force_login(stakeholder)
    page = client.get(sign_url(report)).content.decode()
    assert words in page and 'name="password"' not in page
    assert client.post(sign_url(report), FORM).status_code in (200, 403)
    api = APIClient()
    api.force_authenticate(stakeholder)
    answer = api.post(f"/api/v1/reports/{report.uuid}/signoffs/", FORM, format="json")
    assert answer.status_code == 400 and words in answer.json()["error"]["message"]
    assert not SignOff.objects.exists()


def test_naming_the_old_signers_again_still_needs_a_new_report(
    plan, lead, admin_user, stakeholder, colleague
):
    """Signers swapped and swapped back leave the same signers, so the signers alone
    would make the old report current again and signable; when they were named is part
    of the report's data, so a new report is built and the old one stays unsigned."""
    signoff_role_configure(
        plan=plan, role="business_owner", signers=[stakeholder], actor=admin_user
    )
    old = ready_report(plan)
    signoff_role_configure(plan=plan, role="business_owner", signers=[colleague], actor=admin_user)
    signoff_role_configure(
        plan=plan, role="business_owner", signers=[stakeholder], actor=admin_user
    )
    assert not report_is_current(old)
    new, created = report_request(plan=plan, actor=lead)
    assert created and new.pk != old.pk
    with pytest.raises(ValidationError):
        sign(old, stakeholder)


# ------------------------------------------------------------ separation of duties


def test_whoever_configured_a_role_never_signs_it(client, plan, stakeholder):
    # Rows written before this rule, or by hand: the configurer is among the signers.
    PlanSignoffRole.objects.filter(plan=plan).update(configured_by=stakeholder)
    report = ready_report(plan)
    assert not policy.can_sign(stakeholder, plan, "business_owner")
    words = "so you cannot sign it yourself (separation of duties)"
    with pytest.raises(PermissionDenied, match=re.escape(words)):
        sign(report, stakeholder)

    client.force_login(stakeholder)
    page = client.get(sign_url(report))
    assert page.status_code == 200 and words in page.content.decode()
    assert 'name="password"' not in page.content.decode()
    posted = client.post(sign_url(report), FORM)
    assert posted.status_code == 403 and words in posted.content.decode()
    api = APIClient()
    api.force_authenticate(stakeholder)
    answer = api.post(f"/api/v1/reports/{report.uuid}/signoffs/", FORM, format="json")
    assert answer.status_code == 403 and words in answer.json()["error"]["message"]
    assert not SignOff.objects.exists()


# ---------------------------------------------------- who named the signers, shown


def test_the_report_and_the_signing_page_name_who_named_the_signers(
    client, plan, lead, admin_user, stakeholder, django_capture_on_commit_callbacks
):
    PlanSignoffRole.objects.filter(plan=plan).delete()  # the fixture's, named by nobody
    signoff_role_configure(
        plan=plan, role="business_owner", signers=[stakeholder], actor=admin_user
    )
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = report_request(plan=plan, actor=lead)
    report.refresh_from_db()
    assert report.metrics["signoff_roles"][0]["configured_by"] == "Ada Admin"
    assert "Signers named by Ada Admin" in report.html  # the PDF is printed from it
    client.force_login(stakeholder)
    assert "Signers named by Ada Admin" in client.get(sign_url(report)).content.decode()


# --------------------------------------------------------------- signed twice, once


def test_signing_twice_keeps_the_first_signature(plan, stakeholder):
    report = ready_report(plan)
    first = sign(report, stakeholder, comment="first")
    with pytest.raises(AlreadySigned) as again:
        sign(report, stakeholder, decision="reject", reason="changed my mind")
    assert again.value.signoff == first
    assert SignOff.objects.count() == 1


def test_the_database_holds_one_signature_per_signer_and_role(plan, stakeholder):
    report = ready_report(plan)
    first = sign(report, stakeholder)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignOff.objects.create(
            report=report,
            signer=stakeholder,
            role="business_owner",
            printed_name=first.printed_name,
            meaning=first.meaning,
            decision="approve",
            fingerprint=report.fingerprint,
            signed_at=timezone.now(),
        )


def test_a_race_past_the_check_answers_already_signed(plan, stakeholder, monkeypatch):
    """Two requests at once both find no signature yet; the second's insert hits the
    constraint and answers with the first one, never an error page."""
    report = ready_report(plan)
    first = sign(report, stakeholder)
    looked = []
    existing = signing._existing

    def miss_once(**kwargs):
        looked.append(kwargs)
        return None if len(looked) == 1 else existing(**kwargs)

    monkeypatch.setattr(signing, "_existing", miss_once)
    with pytest.raises(AlreadySigned) as again:
        sign(report, stakeholder)
    assert again.value.signoff == first and SignOff.objects.count() == 1


def test_a_double_click_on_the_page_and_a_retry_on_the_api_sign_once(client, plan, stakeholder):
    report = ready_report(plan)
    client.force_login(stakeholder)
    first = client.post(sign_url(report), FORM)
    second = client.post(sign_url(report), FORM, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "You already signed this report as Business Owner" in second.content.decode()
    api = APIClient()
    api.force_authenticate(stakeholder)
    answer = api.post(f"/api/v1/reports/{report.uuid}/signoffs/", FORM, format="json")
    assert answer.status_code == 200
    assert answer.json()["id"] == SignOff.objects.get().pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once: PostgreSQL")
def test_two_concurrent_sign_offs_make_one_row(plan, stakeholder, monkeypatch):
    report = ready_report(plan)
    both_checked = threading.Barrier(2, timeout=10)
    check_report = signing._check_report

    def after_both_checked(report):
        check_report(report)
        # Both are inside their transactions, with nothing inserted yet, so neither
        # sees the other's signature before it tries to insert its own.
        both_checked.wait()

    monkeypatch.setattr(signing, "_check_report", after_both_checked)
    outcomes = []

    def attempt():
        try:
            outcomes.append(sign(report, stakeholder))
        except AlreadySigned as signed:
            outcomes.append(signed)
        except Exception as error:  # the assertion below names it
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    kinds = sorted(type(outcome).__name__ for outcome in outcomes)
    assert kinds == ["AlreadySigned", "SignOff"], outcomes
    assert SignOff.objects.filter(report=report).count() == 1
