"""Finding one's way: the release list and each release's page (its records and its gate
command), and *Waiting for my signature*."""

import datetime as dt

import pytest
from django.urls import reverse

from reports.fingerprint import plan_fingerprint
from reports.models import AcceptanceReport
from tests.factories import (
    AcceptanceReportFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    ReleaseFactory,
    SignOffFactory,
)

pytestmark = pytest.mark.django_db


def current_report(plan, **fields):
    return AcceptanceReportFactory(
        plan=plan, ready=True, fingerprint=plan_fingerprint(plan), **fields
    )


def release_url(release) -> str:
    return reverse("reports:release", args=[release.pk])


class TestReleasePage:
    def test_links_waivers_audit_trail_and_evidence_package(self, client, lead, stakeholder):
        plan = PlanFactory()
        plan.stakeholders.add(stakeholder)
        release = plan.release
        for person in (lead, stakeholder):
            client.force_login(person)
            page = client.get(release_url(release)).content.decode()
            assert reverse("uat:release_waivers", args=[release.pk]) in page
            assert reverse("uat:release_audit", args=[release.pk]) in page
            assert "Evidence package" in page
            assert reverse("reports:dashboard", args=[plan.pk]) in page

    def test_a_tester_named_signer_gets_no_evidence_package_link(self, client, tester):
        """They see the release's records but may not build a package (uat.policy)."""
        plan = PlanFactory()
        PlanSignoffRoleFactory(plan=plan, signers=[tester])
        client.force_login(tester)
        page = client.get(release_url(plan.release)).content.decode()
        assert reverse("uat:release_audit", args=[plan.release_id]) in page
        assert "Evidence package" not in page
        audit = client.get(reverse("uat:release_audit", args=[plan.release_id])).content
        assert b"Build evidence package" not in audit

    def test_shows_the_release_id_with_its_gate_commands(self, client, lead, settings):
        settings.SITE_URL = "https://uat.example.com"
        release = ReleaseFactory()
        client.force_login(lead)
        page = client.get(release_url(release)).content.decode()
        assert f'<code id="release-id">{release.pk}</code>' in page
        assert f"scripts/release-gate {release.pk} beta" in page
        assert f"scripts/release-gate {release.pk} production" in page
        assert (
            f"https://uat.example.com/api/v1/releases/{release.pk}/gate/?stage=production" in page
        )
        assert f"python manage.py release_gate {release.pk} --stage beta" in page
        assert 'data-copy="release-id"' in page and "js/copy.js" in page

    def test_a_hotfix_has_only_the_production_gate(self, client, lead):
        release = ReleaseFactory(hotfix=True)
        client.force_login(lead)
        page = client.get(release_url(release)).content.decode()
        assert f"release-gate {release.pk} production" in page
        assert f"release-gate {release.pk} beta" not in page

    def test_people_without_a_stake_get_404(self, client, tester, outsider):
        release = PlanFactory().release
        for person in (tester, outsider):
            client.force_login(person)
            assert client.get(release_url(release)).status_code == 404

    def test_runs_a_fixed_number_of_queries(
        self, client, lead, django_assert_num_queries, warm_caches
    ):
        release = PlanFactory().release
        client.force_login(lead)
        client.get(release_url(release))
        # session, user, roles, release, audit releases, plans
        with django_assert_num_queries(6):
            client.get(release_url(release))
        PlanFactory(release=release, beta=True)
        with django_assert_num_queries(6):
            client.get(release_url(release))


def test_the_dashboard_links_its_release_page(client, lead):
    plan = PlanFactory()
    client.force_login(lead)
    page = client.get(reverse("reports:dashboard", args=[plan.pk])).content.decode()
    assert release_url(plan.release) in page


def test_the_release_list_puts_the_releases_a_lead_runs_first(client, lead):
    other = PlanFactory(name="Someone else's plan")
    mine = PlanFactory(owner=lead, name="My plan")
    client.force_login(lead)
    page = client.get(reverse("reports:index")).content.decode()
    assert page.index("Releases you run") < page.index("My plan") < page.index("Other releases")
    assert page.index("Other releases") < page.index("Someone else")
    assert release_url(mine.release) in page and release_url(other.release) in page


class TestWaitingForMySignature:
    @pytest.fixture
    def plan(self, stakeholder):
        plan = PlanFactory(name="Alpha plan")
        plan.stakeholders.add(stakeholder)
        PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
        PlanSignoffRoleFactory(plan=plan, role="compliance", signers=[stakeholder])
        return plan

    def waiting(self, client) -> str:
        response = client.get(reverse("reports:waiting"))
        assert response.status_code == 200
        return response.content.decode()

    def test_lists_current_reports_with_the_roles_left_to_sign(self, client, stakeholder, plan):
        report = current_report(plan)
        SignOffFactory(report=report, signer=stakeholder, role="business_owner")
        client.force_login(stakeholder)
        page = self.waiting(client)
        assert reverse("reports:report_sign", args=[report.uuid]) in page
        assert "Compliance" in page and "Business Owner" not in page
        assert release_url(plan.release) in page  # and their releases

    def test_a_report_signed_for_every_role_waits_no_more(self, client, stakeholder, plan):
        report = current_report(plan)
        for role in ("business_owner", "compliance"):
            SignOffFactory(report=report, signer=stakeholder, role=role)
        client.force_login(stakeholder)
        page = self.waiting(client)
        assert reverse("reports:report_sign", args=[report.uuid]) not in page
        assert "Nothing waits for your signature" in page

    def test_stale_and_older_reports_do_not_wait(self, client, stakeholder, plan):
        older = current_report(plan)
        newer = current_report(plan)
        other = PlanFactory()
        PlanSignoffRoleFactory(plan=other, signers=[stakeholder])
        stale = AcceptanceReportFactory(plan=other, ready=True, fingerprint="0" * 64)
        client.force_login(stakeholder)
        page = self.waiting(client)
        assert reverse("reports:report_sign", args=[newer.uuid]) in page
        assert reverse("reports:report_sign", args=[older.uuid]) not in page
        assert reverse("reports:report_sign", args=[stale.uuid]) not in page

    def test_roles_they_may_not_sign_do_not_wait(self, client, stakeholder, plan):
        """Named, but they configured the role (separation of duties), or its signers
        were named after the report was built: the signing page would refuse it."""
        report = current_report(plan)
        plan.signoff_roles.filter(role="business_owner").update(configured_by=stakeholder)
        plan.signoff_roles.filter(role="compliance").update(
            configured_at=report.created_at + dt.timedelta(minutes=1)
        )
        AcceptanceReport.objects.filter(pk=report.pk).update(fingerprint=plan_fingerprint(plan))
        client.force_login(stakeholder)
        assert reverse("reports:report_sign", args=[report.uuid]) not in self.waiting(client)

    def test_only_stakeholders_get_the_page(self, client, lead, tester, outsider):
        for person in (lead, tester, outsider):
            client.force_login(person)
            assert client.get(reverse("reports:waiting")).status_code == 404

    def test_runs_a_fixed_number_of_queries(
        self, client, stakeholder, plan, django_assert_num_queries, warm_caches
    ):
        current_report(plan)
        client.force_login(stakeholder)
        with django_assert_num_queries(11) as few:
            self.waiting(client)
        for _ in range(3):
            more = PlanFactory()
            PlanSignoffRoleFactory(plan=more, signers=[stakeholder])
            current_report(more)
        with django_assert_num_queries(len(few)):
            page = self.waiting(client)
        assert page.count("Sign<span") == 4
