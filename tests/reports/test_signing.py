"""The signing page and the sign-off endpoint: what a signer sees, what the form and the
API refuse and how, the sign-offs on the report page with their state, and the signed
PDF copy."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from reports.fingerprint import plan_fingerprint
from reports.models import SignOff
from tests.factories import AcceptanceReportFactory, PlanFactory, PlanSignoffRoleFactory
from uat.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(stakeholder):
    plan = PlanFactory()
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    PlanSignoffRoleFactory(plan=plan, role="compliance", signers=[])
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    report.pdf.save("report.pdf", ContentFile(b"%PDF-1.7 test"))
    return report


def sign_url(report):
    return reverse("reports:report_sign", args=[report.uuid])


def form(password, **overrides):
    return {"role": "business_owner", "decision": "approve", "password": password, **overrides}


class TestSigningPage:
    def test_shows_the_report_and_the_meaning_of_each_held_role(self, client, report, stakeholder):
        client.force_login(stakeholder)
        page = client.get(sign_url(report)).content.decode()
        assert "Approved as Business Owner" in page and "Rejected as Business Owner" in page
        assert report.fingerprint in page
        # Only the roles the signer holds are offered.
        assert 'value="business_owner"' in page and 'value="compliance"' not in page
        assert 'for="id_password"' in page and "<script" not in page.split("</head>")[1]

    def test_signing_records_and_returns_to_the_report(self, client, report, stakeholder, password):
        client.force_login(stakeholder)
        response = client.post(sign_url(report), form(password, comment="Fine by me"))
        assert response.status_code == 302
        assert response.url == reverse("reports:report", args=[report.uuid])
        signoff = SignOff.objects.get()
        assert (signoff.meaning, signoff.comment) == ("Approved as Business Owner", "Fine by me")
        page = client.get(response.url).content.decode()
        assert "Signed: Approved as Business Owner." in page
        assert "Olive Owner" in page and "Current" in page

    def test_a_wrong_password_is_shown_on_the_form(self, client, report, stakeholder):
        client.force_login(stakeholder)
        response = client.post(sign_url(report), form("guess"))
        assert response.status_code == 200
        assert "That password is not correct." in response.content.decode()
        assert not SignOff.objects.exists()
        assert Event.objects.filter(verb="signoff.password_refused").exists()

    def test_a_rejection_without_reason_is_refused_on_the_form(
        self, client, report, stakeholder, password
    ):
        client.force_login(stakeholder)
        response = client.post(sign_url(report), form(password, decision="reject"))
        assert response.status_code == 200
        assert "Say why you reject the release." in response.content.decode()

    def test_a_locked_signer_gets_a_clear_message(
        self, client, report, stakeholder, password, settings
    ):
        settings.SIGNING_MAX_FAILURES = 2
        client.force_login(stakeholder)
        for _ in range(2):
            client.post(sign_url(report), form("guess"))
        response = client.post(sign_url(report), form(password))
        assert response.status_code == 200
        assert "Signing is locked" in response.content.decode()
        assert not SignOff.objects.exists()

    def test_a_role_not_held_cannot_be_posted(self, client, report, stakeholder, password):
        client.force_login(stakeholder)
        response = client.post(sign_url(report), form(password, role="compliance"))
        assert response.status_code == 200 and not SignOff.objects.exists()

    def test_a_stale_report_shows_no_form(self, client, report, stakeholder):
        report.plan.min_pass_rate = 10
        report.plan.save()
        client.force_login(stakeholder)
        page = client.get(sign_url(report)).content.decode()
        assert "can no longer be signed" in page and 'name="password"' not in page

    def test_a_reader_without_a_role_gets_403(self, client, report, lead):
        client.force_login(lead)
        assert client.get(sign_url(report)).status_code == 403

    def test_page_queries_are_fixed(
        self, client, report, stakeholder, django_assert_num_queries, warm_caches
    ):
        client.force_login(stakeholder)
        client.get(sign_url(report))
        with django_assert_num_queries(9):
            assert client.get(sign_url(report)).status_code == 200


class TestReportPage:
    def test_lists_each_signoff_with_its_state_and_offers_to_sign(
        self, client, report, stakeholder, password
    ):
        from reports.signoffs import signoff_sign

        # Rule changed (issue 15): the button is offered while a role is left to sign,
        # so the stakeholder holds a second role here, still unsigned.
        report.plan.signoff_roles.get(role="compliance").signers.add(stakeholder)
        type(report).objects.filter(pk=report.pk).update(fingerprint=plan_fingerprint(report.plan))
        report.refresh_from_db()
        signoff_sign(
            report=report,
            signer=stakeholder,
            role="business_owner",
            decision="reject",
            reason="Exports lose data",
            password=password,
        )
        client.force_login(stakeholder)
        page = client.get(reverse("reports:report", args=[report.uuid])).content.decode()
        assert "Rejected as Business Owner" in page and "Reason: Exports lose data" in page
        assert "Current" in page and sign_url(report) in page
        report.plan.min_pass_rate = 10
        report.plan.save()
        page = client.get(reverse("reports:report", args=[report.uuid])).content.decode()
        assert "Stale" in page and sign_url(report) not in page

    def test_the_sign_button_goes_once_every_held_role_is_signed(
        self, client, report, stakeholder, password
    ):
        from reports.signoffs import signoff_sign

        client.force_login(stakeholder)
        url = reverse("reports:report", args=[report.uuid])
        assert sign_url(report) in client.get(url).content.decode()
        signoff_sign(
            report=report,
            signer=stakeholder,
            role="business_owner",
            decision="approve",
            password=password,
        )
        page = client.get(url).content.decode()
        assert sign_url(report) not in page and "Sign this report" not in page
        assert "You have signed this report for every role you may sign on it." in page

    def test_a_qa_lead_gets_no_sign_button(self, client, report, lead):
        client.force_login(lead)
        page = client.get(reverse("reports:report", args=[report.uuid])).content.decode()
        assert sign_url(report) not in page

    def test_page_queries_do_not_grow_with_signoffs(
        self, client, report, stakeholder, password, django_assert_num_queries, warm_caches
    ):
        from reports.signoffs import signoff_sign
        from tests.factories import UserFactory

        client.force_login(stakeholder)
        url = reverse("reports:report", args=[report.uuid])
        client.get(url)
        with django_assert_num_queries(10):
            client.get(url)
        for n in range(3):
            signer = UserFactory(full_name=f"Signer {n}", roles=["Stakeholder"])
            report.plan.signoff_roles.get(role="compliance").signers.add(signer)
        report.fingerprint = plan_fingerprint(report.plan)
        type(report).objects.filter(pk=report.pk).update(fingerprint=report.fingerprint)
        for signer in report.plan.signoff_roles.get(role="compliance").signers.all():
            signoff_sign(
                report=report,
                signer=signer,
                role="compliance",
                decision="approve",
                password=password,
            )
        with django_assert_num_queries(10):
            page = client.get(url).content.decode()
        assert page.count("Approved as Compliance") == 3


def test_the_signed_copy_prints_the_signature_block(client, report, stakeholder, password):
    from reports.signoffs import signoff_sign

    signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
    )
    client.force_login(stakeholder)
    response = client.get(reverse("reports:report_signed_pdf", args=[report.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "signed.pdf" in response["Content-Disposition"]


class TestSignOffApi:
    @pytest.fixture
    def api(self):
        return APIClient()

    def url(self, report):
        return f"/api/v1/reports/{report.uuid}/signoffs/"

    def test_signs_and_answers_201_with_the_signoff(self, api, report, stakeholder, password):
        api.force_authenticate(stakeholder)
        response = api.post(self.url(report), {**form(password), "comment": "ok"}, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["meaning"] == "Approved as Business Owner"
        assert body["state"] == "current" and body["stale"] is False
        assert body["printed_name"] == "Olive Owner" and body["fingerprint"] == report.fingerprint
        assert "password" not in body

    def test_a_rejection_takes_the_comment_as_its_reason(self, api, report, stakeholder, password):
        api.force_authenticate(stakeholder)
        payload = {**form(password, decision="reject"), "comment": "Exports lose data"}
        response = api.post(self.url(report), payload, format="json")
        assert response.status_code == 201
        assert response.json()["reason"] == "Exports lose data"
        payload = form(password, decision="reject")
        response = api.post(self.url(report), payload, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["reason"] == ["Say why you reject the release."]

    def test_a_wrong_password_is_400_and_audited(self, api, report, stakeholder):
        api.force_authenticate(stakeholder)
        response = api.post(self.url(report), form("guess"), format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["password"] == ["That password is not correct."]
        assert Event.objects.filter(verb="signoff.password_refused").count() == 1

    def test_lockout_is_403_with_its_message(self, api, report, stakeholder, password, settings):
        settings.SIGNING_MAX_FAILURES = 1
        api.force_authenticate(stakeholder)
        api.post(self.url(report), form("guess"), format="json")
        response = api.post(self.url(report), form(password), format="json")
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "signing_locked" and "locked" in error["message"]

    def test_a_role_not_held_is_403_with_a_clear_message(self, api, report, lead, password):
        api.force_authenticate(lead)
        response = api.post(self.url(report), form(password), format="json")
        assert response.status_code == 403
        assert "do not hold the Business Owner sign-off" in response.json()["error"]["message"]

    def test_someone_who_cannot_see_the_report_gets_404(self, api, report, outsider, password):
        api.force_authenticate(outsider)
        assert api.post(self.url(report), form(password), format="json").status_code == 404

    def test_signoffs_cannot_be_changed_or_deleted(self, api, report, stakeholder, password, lead):
        api.force_authenticate(stakeholder)
        signoff_id = api.post(self.url(report), form(password), format="json").json()["id"]
        for who in (stakeholder, lead):
            api.force_authenticate(who)
            url = f"/api/v1/signoffs/{signoff_id}/"
            assert api.patch(url, {"comment": "x"}, format="json").status_code == 405
            assert api.put(url, {"comment": "x"}, format="json").status_code == 405
            assert api.delete(url).status_code == 405
        assert SignOff.objects.get().comment == ""

    def test_the_signoff_list_shows_stale_ones(self, api, report, stakeholder, password):
        api.force_authenticate(stakeholder)
        api.post(self.url(report), form(password), format="json")
        report.plan.min_pass_rate = 10
        report.plan.save()
        [row] = api.get("/api/v1/signoffs/").json()["results"]
        assert (row["state"], row["stale"]) == ("stale", True)


def test_the_admin_cannot_change_or_delete_a_signoff(
    client, report, stakeholder, password, admin_user
):
    from reports.signoffs import signoff_sign

    signoff = signoff_sign(
        report=report,
        signer=stakeholder,
        role="business_owner",
        decision="approve",
        password=password,
    )
    client.force_login(admin_user)
    change = reverse("admin:reports_signoff_change", args=[signoff.pk])
    client.post(change, {"comment": "edited", "decision": "reject"})
    assert client.get(reverse("admin:reports_signoff_delete", args=[signoff.pk])).status_code == 403
    signoff.refresh_from_db()
    assert (signoff.comment, signoff.decision) == ("", "approve")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="append-only"):
        SignOff.objects.filter(pk=signoff.pk).delete()


class TestApprovingANoGoReport:
    """Approving a report whose decision is No-go asks for an explicit confirmation, on
    the page (with or without htmx) and over the API: the signing service holds it."""

    @pytest.fixture
    def no_go(self, report):
        type(report).objects.filter(pk=report.pk).update(decision="no-go")
        report.refresh_from_db()
        return report

    def test_the_page_asks_for_the_confirmation_only_on_a_no_go_report(
        self, client, report, stakeholder
    ):
        client.force_login(stakeholder)
        assert 'name="confirm_no_go"' not in client.get(sign_url(report)).content.decode()
        type(report).objects.filter(pk=report.pk).update(decision="no-go")
        page = client.get(sign_url(report)).content.decode()
        assert 'name="confirm_no_go"' in page and "decision is <strong>No-go</strong>" in page

    @pytest.mark.parametrize("htmx", [False, True])
    def test_approving_takes_the_confirmation_and_keeps_what_was_typed(
        self, client, no_go, stakeholder, password, htmx
    ):
        client.force_login(stakeholder)
        headers = {"HX-Request": "true"} if htmx else {}
        typed = form(password, comment="Ship it anyway")
        response = client.post(sign_url(no_go), typed, headers=headers)
        assert response.status_code == 200
        page = response.content.decode()
        assert "confirm that you accept the release despite them" in page
        assert "Ship it anyway" in page  # the comment typed is still there
        assert not SignOff.objects.exists()
        confirmed = client.post(sign_url(no_go), {**typed, "confirm_no_go": "on"}, headers=headers)
        assert confirmed.status_code == 302
        assert SignOff.objects.get().comment == "Ship it anyway"

    def test_the_api_asks_for_it_too(self, no_go, stakeholder, password):
        api = APIClient()
        api.force_authenticate(stakeholder)
        url = f"/api/v1/reports/{no_go.uuid}/signoffs/"
        body = {"role": "business_owner", "decision": "approve", "password": password}
        refused = api.post(url, body, format="json")
        assert refused.status_code == 400 and "confirm_no_go" in str(refused.json())
        assert not SignOff.objects.exists()
        signed = api.post(url, {**body, "confirm_no_go": True}, format="json")
        assert signed.status_code == 201
