"""The rules that live on the models and in the database constraints."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from reports.models import SignOff
from tests.factories import (
    CaseFactory,
    CohortFactory,
    DefectFactory,
    EventFactory,
    ExecutionFactory,
    PlanFactory,
    ReleaseFactory,
    SignOffFactory,
    UserFactory,
    WaiverFactory,
)
from uat.models import (
    CaseVersion,
    CohortMembership,
    Defect,
    DefectStatus,
    Event,
    Execution,
    ExecutionStatus,
    Release,
    StepStatus,
)

pytestmark = pytest.mark.django_db


def violates(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


class TestRelease:
    def test_a_normal_release_goes_through_alpha_and_beta(self):
        release = ReleaseFactory(stage=Release.Stage.ALPHA)
        assert release.next_stages == [Release.Stage.BETA]
        assert not release.can_move_to(Release.Stage.PRODUCTION)

    def test_a_hotfix_may_go_from_alpha_straight_to_production(self):
        release = ReleaseFactory(hotfix=True, stage=Release.Stage.ALPHA)
        assert release.can_move_to(Release.Stage.PRODUCTION)

    def test_production_is_the_last_stage(self):
        assert ReleaseFactory(stage=Release.Stage.PRODUCTION).next_stages == []

    def test_versions_are_unique_per_product(self):
        release = ReleaseFactory(version="2.4")
        violates(lambda: ReleaseFactory(product=release.product, version="2.4"))
        ReleaseFactory(version="2.4")  # another product may reuse it

    def test_database_refuses_an_unknown_stage(self):
        violates(lambda: ReleaseFactory(stage="staging"))


class TestCase:
    def test_keys_are_unique_per_product(self):
        case = CaseFactory(key="CRM-C001")
        violates(lambda: CaseFactory(product=case.product, key="CRM-C001"))

    def test_a_case_version_cannot_be_changed_or_deleted(self):
        version = CaseFactory().versions.get()
        version.title = "rewritten history"
        with pytest.raises(ValidationError):
            version.save()
        with pytest.raises(ValidationError):
            version.delete()
        assert CaseVersion.objects.get(pk=version.pk).title != "rewritten history"


class TestPlan:
    def test_one_plan_per_release_and_stage(self):
        plan = PlanFactory()
        violates(lambda: PlanFactory(release=plan.release, stage=plan.stage))

    def test_a_plan_cannot_end_before_it_starts(self):
        violates(lambda: PlanFactory(starts_on=dt.date(2026, 5, 2), ends_on=dt.date(2026, 5, 1)))

    def test_thresholds_are_percentages(self):
        violates(lambda: PlanFactory(min_pass_rate=120))

    def test_criteria_have_sensible_defaults(self):
        plan = PlanFactory()
        assert plan.min_execution_coverage == 100
        assert plan.min_critical_pass_rate == 100
        assert plan.min_pass_rate == 95
        assert plan.max_open_critical_defects == 0
        assert plan.max_open_major_defects == 0
        assert plan.require_requirement_coverage
        assert plan.min_beta_testers_per_critical_case == 2

    def test_a_completed_plan_is_not_open(self):
        assert PlanFactory().is_open
        assert not PlanFactory(completed=True).is_open


class TestCohortMembership:
    def test_an_external_user_cannot_join_an_alpha_cohort(self):
        membership = CohortMembership(cohort=CohortFactory(), user=UserFactory(external=True))
        with pytest.raises(ValidationError, match="External testers"):
            membership.full_clean()

    def test_an_internal_user_cannot_join_a_beta_cohort(self):
        membership = CohortMembership(cohort=CohortFactory(beta=True), user=UserFactory())
        with pytest.raises(ValidationError, match="Only external"):
            membership.full_clean()


class TestExecution:
    @pytest.mark.parametrize(
        ("steps", "result"),
        [
            (["passed", "failed", "blocked"], ExecutionStatus.FAILED),
            (["passed", "blocked", "skipped"], ExecutionStatus.BLOCKED),
            (["passed", "skipped", "passed"], ExecutionStatus.PASSED),
            (["skipped", "skipped"], None),
            ([], None),
        ],
    )
    def test_the_overall_result_follows_the_steps(self, steps, result):
        assert Execution.result_from_steps([StepStatus(s) for s in steps]) == result

    def test_only_one_execution_per_plan_and_case_is_latest(self):
        first = ExecutionFactory(passed=True)
        violates(lambda: ExecutionFactory(plan=first.plan, case=first.case, cohort=first.cohort))
        ExecutionFactory(plan=first.plan, case=first.case, cohort=first.cohort, is_latest=False)
        assert Execution.objects.counting().get() == first

    def test_a_finished_execution_records_when_it_finished(self):
        violates(lambda: ExecutionFactory(status=ExecutionStatus.PASSED, finished_at=None))

    def test_an_execution_pins_the_version_it_ran(self):
        execution = ExecutionFactory()
        assert execution.case_version.case == execution.case


class TestDefect:
    def test_the_workflow_allows_only_its_transitions(self):
        defect = DefectFactory()
        assert defect.can_move_to(DefectStatus.CONFIRMED)
        assert not defect.can_move_to(DefectStatus.VERIFIED)
        assert not defect.can_move_to(DefectStatus.FIXED)

    def test_every_status_has_a_way_onward(self):
        for status in DefectStatus:
            assert DefectFactory(status=status).allowed_statuses

    def test_open_defects_exclude_resolved_ones(self):
        open_defect = DefectFactory(fixed=True)
        DefectFactory(closed=True)
        DefectFactory(status=DefectStatus.REJECTED)
        assert list(Defect.objects.open()) == [open_defect]

    def test_escaped_defects_are_those_found_in_production(self):
        escaped = DefectFactory(escaped=True)
        DefectFactory()
        assert list(Defect.objects.escaped()) == [escaped]

    def test_a_production_defect_needs_no_retest_to_be_verified(self):
        assert DefectFactory(escaped=True, fixed=True).retest_passed


class TestWaiver:
    def test_an_expired_waiver_is_not_active(self):
        active = WaiverFactory()
        expired = WaiverFactory(expired=True)
        assert active.is_active
        assert not expired.is_active
        assert list(active.release.waivers.active()) == [active]

    def test_a_waiver_needs_a_reason(self):
        violates(lambda: WaiverFactory(reason=""))


class TestSignOff:
    def test_a_rejection_needs_a_reason(self):
        violates(lambda: SignOffFactory(decision=SignOff.Decision.REJECT, reason=""))
        assert SignOffFactory(decision=SignOff.Decision.REJECT, reason="Data loss on save")

    def test_sign_offs_are_append_only(self):
        signoff = SignOffFactory()
        signoff.comment = "changed my mind"
        with pytest.raises(ValidationError):
            signoff.save()
        with pytest.raises(ValidationError):
            signoff.delete()
        with pytest.raises(ValidationError):
            SignOff.objects.filter(pk=signoff.pk).update(comment="changed")
        with pytest.raises(ValidationError):
            SignOff.objects.all().delete()


class TestEvent:
    def test_events_are_append_only(self):
        event = EventFactory()
        event.verb = "something.else"
        with pytest.raises(ValidationError):
            event.save()
        with pytest.raises(ValidationError):
            event.delete()
        with pytest.raises(ValidationError):
            Event.objects.update(verb="x")
        with pytest.raises(ValidationError):
            Event.objects.all().delete()


class TestUser:
    def test_email_is_the_login_and_case_insensitive(self, django_user_model):
        user = django_user_model.objects.create_user(
            "Mia@Example.com", "pw-12345678", full_name="Mia"
        )
        assert user.email == "mia@example.com"
        assert django_user_model.objects.get_by_natural_key("MIA@example.com") == user
        violates(
            lambda: django_user_model.objects.create(email="MIA@EXAMPLE.COM", full_name="Other")
        )

    def test_an_external_tester_cannot_be_staff(self):
        violates(lambda: UserFactory(external=True, staff=True))


@pytest.mark.parametrize("factory", [EventFactory, SignOffFactory])
def test_the_database_refuses_to_rewrite_append_only_rows(factory):
    if connection.vendor != "postgresql":
        pytest.skip("Database-level protection is PostgreSQL's; SQLite relies on the models.")
    row = factory()
    table = row._meta.db_table
    for statement in (
        f"UPDATE {table} SET id = id WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [row.pk])
