"""The services: each state change, its audit event, and its refusals."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    CaseFactory,
    CohortFactory,
    ExecutionFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    ReleaseFactory,
    UserFactory,
)
from uat import services
from uat.models import (
    CaseStep,
    Defect,
    DefectStatus,
    Event,
    Execution,
    ExecutionStatus,
    Plan,
    StepResult,
)

pytestmark = pytest.mark.django_db


def events(verb):
    return Event.objects.filter(verb=verb)


@pytest.fixture
def plan(lead):
    return PlanFactory(owner=lead)


@pytest.fixture
def testers():
    return UserFactory.create_batch(3)


@pytest.fixture
def cohort(plan, testers):
    cohort = CohortFactory(product=plan.release.product, members=testers)
    plan.cohorts.add(cohort)
    return cohort


def scoped_cases(plan, count, **kwargs):
    cases = CaseFactory.create_batch(count, product=plan.release.product, **kwargs)
    plan.cases.add(*cases)
    return cases


class TestCaseVersions:
    def test_editing_a_case_makes_a_new_version_and_keeps_the_old(self, lead):
        case = CaseFactory(steps=2)
        execution = ExecutionFactory(case=case, plan__release__product=case.product)
        case.title = "Create a customer with a VAT number"
        case.save()
        CaseStep.objects.filter(case=case, position=2).update(expected="VAT number validated")

        version = services.case_version_record(case=case, actor=lead)

        assert version.number == 2
        assert version.steps[1]["expected"] == "VAT number validated"
        case.refresh_from_db()
        assert case.version == 2
        execution.refresh_from_db()
        assert execution.case_version.number == 1
        assert execution.case_version.steps[1]["expected"] == "Thing 2 done"
        event = events("case.versioned").get()
        assert event.before["version"] == 1
        assert event.after["title"] == "Create a customer with a VAT number"

    def test_saving_an_unchanged_case_makes_no_version(self, lead):
        case = CaseFactory()
        assert services.case_version_record(case=case, actor=lead).number == 1
        assert case.versions.count() == 1
        assert not events("case.versioned").exists()

    def test_a_ready_case_needs_steps(self, lead):
        case = CaseFactory(steps=0)
        with pytest.raises(ValidationError, match="at least one step"):
            services.case_version_record(case=case, actor=lead)

    def test_a_draft_without_steps_cannot_become_ready_unchanged(self, lead):
        case = CaseFactory(draft=True, steps=0)
        services.case_version_record(case=case, actor=lead)
        case.status = case.Status.READY
        case.save()
        with pytest.raises(ValidationError, match="at least one step"):
            services.case_version_record(case=case, actor=lead)


class TestPlanAssign:
    def test_assigns_every_case_round_robin_with_one_event(self, plan, cohort, testers, lead):
        cases = scoped_cases(plan, 6)

        created = services.plan_assign(plan=plan, cohort=cohort, actor=lead)

        assert len(created) == 6
        per_tester = {t.pk: 0 for t in testers}
        for execution in created:
            per_tester[execution.tester_id] += 1
            assert execution.case_version.number == 1
            assert execution.build == plan.environment.build
            assert execution.is_latest
        assert sorted(per_tester.values()) == [2, 2, 2]
        assert {e.case_id for e in created} == {c.pk for c in cases}
        event = events("plan.assigned").get()
        assert event.after["executions"] == 6
        assert event.actor == lead
        assert event.release == plan.release

    def test_several_testers_per_case_and_only_one_counts(self, plan, cohort, lead):
        scoped_cases(plan, 2)
        created = services.plan_assign(plan=plan, cohort=cohort, actor=lead, testers_per_case=2)
        assert len(created) == 4
        assert len({(e.case_id, e.tester_id) for e in created}) == 4
        assert Execution.objects.counting().count() == 2

    def test_running_it_twice_assigns_nothing_new(self, plan, cohort, lead):
        scoped_cases(plan, 4)
        services.plan_assign(plan=plan, cohort=cohort, actor=lead)
        assert services.plan_assign(plan=plan, cohort=cohort, actor=lead) == []
        assert Execution.objects.count() == 4
        assert events("plan.assigned").count() == 1

    @pytest.mark.parametrize("count", [5, 40])
    def test_runs_a_fixed_number_of_queries(
        self, plan, cohort, lead, count, warm_caches, django_assert_num_queries
    ):
        cases = scoped_cases(plan, count)
        # 10: the policy reads the lead's roles once (a page has them read already).
        with django_assert_num_queries(10):
            services.plan_assign(plan=plan, cohort=cohort, actor=lead, cases=cases)

    def test_refuses_a_cohort_of_the_wrong_kind(self, plan, lead):
        beta = CohortFactory(
            beta=True, product=plan.release.product, members=[UserFactory(external=True)]
        )
        plan.cohorts.add(beta)
        scoped_cases(plan, 1)
        with pytest.raises(ValidationError, match="alpha plan is run by alpha cohorts"):
            services.plan_assign(plan=plan, cohort=beta, actor=lead)

    def test_refuses_a_cohort_outside_the_plan(self, plan, testers, lead):
        other = CohortFactory(product=plan.release.product, members=testers)
        scoped_cases(plan, 1)
        with pytest.raises(ValidationError, match="not one of this plan's cohorts"):
            services.plan_assign(plan=plan, cohort=other, actor=lead)

    def test_refuses_draft_cases_and_cases_outside_scope(self, plan, cohort, lead):
        draft = scoped_cases(plan, 1, draft=True)
        with pytest.raises(ValidationError, match="Only ready cases"):
            services.plan_assign(plan=plan, cohort=cohort, actor=lead, cases=draft)
        outside = CaseFactory(product=plan.release.product)
        with pytest.raises(ValidationError, match="Not in the plan's scope"):
            services.plan_assign(plan=plan, cohort=cohort, actor=lead, cases=[outside])
        assert not Execution.objects.exists()
        assert not events("plan.assigned").exists()

    def test_the_whole_scope_skips_drafts_and_retired_cases(self, plan, cohort, lead):
        ready = scoped_cases(plan, 2)
        scoped_cases(plan, 1, draft=True)
        scoped_cases(plan, 1, status="retired")
        created = services.plan_assign(plan=plan, cohort=cohort, actor=lead)
        assert {e.case for e in created} == set(ready)

    def test_refuses_an_empty_cohort_and_a_completed_plan(self, plan, lead):
        empty = CohortFactory(product=plan.release.product)
        plan.cohorts.add(empty)
        scoped_cases(plan, 1)
        with pytest.raises(ValidationError, match="no active testers"):
            services.plan_assign(plan=plan, cohort=empty, actor=lead)
        plan.status = Plan.Status.COMPLETED
        with pytest.raises(ValidationError, match="completed"):
            services.plan_assign(plan=plan, cohort=empty, actor=lead)

    def test_refuses_more_testers_per_case_than_the_cohort_has(self, plan, cohort, lead):
        scoped_cases(plan, 1)
        with pytest.raises(ValidationError, match="between 1 and 3"):
            services.plan_assign(plan=plan, cohort=cohort, actor=lead, testers_per_case=4)

    def test_a_new_tester_on_a_case_already_run_does_not_displace_its_result(
        self, plan, cohort, testers, lead
    ):
        [case] = scoped_cases(plan, 1)
        passed = ExecutionFactory(
            plan=plan, case=case, cohort=cohort, tester=testers[0], passed=True
        )
        created = services.plan_assign(plan=plan, cohort=cohort, actor=lead, testers_per_case=2)
        assert len(created) == 1
        assert not created[0].is_latest
        assert Execution.objects.counting().get() == passed


class TestPlanClone:
    def test_copies_scope_cohorts_criteria_and_signoff_roles(self, plan, cohort, lead):
        scoped_cases(plan, 3)
        plan.min_pass_rate = 90
        plan.save()
        # The signers come along when the cloner may name the new release's signers (its
        # owner here), and they may be named: a stakeholder, not the cloner.
        signer = UserFactory(roles=["Stakeholder"])
        PlanSignoffRoleFactory(plan=plan, signers=[signer])
        target = ReleaseFactory(product=plan.release.product, version="9.9", owner=lead)

        clone = services.plan_clone(plan=plan, release=target, actor=lead)

        assert clone.release == target
        assert clone.status == Plan.Status.DRAFT
        assert clone.min_pass_rate == 90
        assert set(clone.cases.all()) == set(plan.cases.all())
        assert list(clone.cohorts.all()) == [cohort]
        assert list(clone.signoff_roles.get().signers.all()) == [signer]
        assert not clone.executions.exists()
        assert events("plan.cloned").get().object_id == str(clone.pk)

    def test_renames_only_the_whole_version(self, plan, lead):
        plan.release.version = "1.1"
        plan.name = "CRM 1.1 alpha (not 1.10)"
        target = ReleaseFactory(product=plan.release.product, version="1.2")
        assert services.plan_clone(plan=plan, release=target, actor=lead).name == (
            "CRM 1.2 alpha (not 1.10)"
        )

    def test_refuses_another_product_or_an_existing_plan(self, plan, lead):
        with pytest.raises(ValidationError, match="same product"):
            services.plan_clone(plan=plan, release=ReleaseFactory(), actor=lead)
        with pytest.raises(ValidationError, match="already has"):
            services.plan_clone(plan=plan, release=plan.release, actor=lead)


@pytest.fixture
def execution(plan, cohort, testers):
    [case] = scoped_cases(plan, 1)
    return ExecutionFactory(plan=plan, case=case, cohort=cohort, tester=testers[0])


def record_steps(execution, *statuses):
    for position, status in enumerate(statuses, start=1):
        services.execution_step_record(
            execution=execution,
            position=position,
            status=status,
            actual_result="" if status in ("passed", "skipped") else "It broke",
            actor=execution.tester,
        )


class TestStepRecord:
    def test_records_a_step_starts_the_execution_and_audits(self, execution):
        result = services.execution_step_record(
            execution=execution, position=1, status="passed", actor=execution.tester
        )
        assert result.status == "passed"
        execution.refresh_from_db()
        assert execution.status == ExecutionStatus.IN_PROGRESS
        assert execution.started_at is not None
        assert execution.lock_version == 1
        event = events("execution.step_recorded").get()
        assert event.after == {"position": 1, "status": "passed", "actual_result": ""}
        assert event.actor == execution.tester

    def test_re_marking_a_step_updates_it_and_audits_before_and_after(self, execution):
        record_steps(execution, "passed")
        services.execution_step_record(
            execution=execution,
            position=1,
            status="failed",
            actual_result="Saved twice",
            actor=execution.tester,
        )
        assert StepResult.objects.get(execution=execution).actual_result == "Saved twice"
        latest = events("execution.step_recorded").first()
        assert latest.before["status"] == "passed"
        assert latest.after["status"] == "failed"

    @pytest.mark.parametrize(
        ("position", "status", "actual", "message"),
        [
            (4, "passed", "", "no step 4"),
            (0, "passed", "", "no step 0"),
            (1, "exploded", "", "Unknown step result"),
            (1, "failed", "  ", "what actually happened"),
        ],
    )
    def test_refuses_bad_input(self, execution, position, status, actual, message):
        with pytest.raises(ValidationError, match=message):
            services.execution_step_record(
                execution=execution,
                position=position,
                status=status,
                actual_result=actual,
                actor=execution.tester,
            )
        assert not StepResult.objects.exists()
        assert not Event.objects.exists()

    def test_a_stale_editor_is_refused_and_loses_nothing(self, execution):
        stale = Execution.objects.get(pk=execution.pk)
        record_steps(execution, "passed")
        with pytest.raises(services.ConcurrentEditError) as refused:
            services.execution_step_record(
                execution=stale,
                position=1,
                status="failed",
                actual_result="other browser",
                actor=stale.tester,
            )
        assert refused.value.current.lock_version == 1
        assert StepResult.objects.get(execution=execution).status == "passed"

    def test_a_finished_execution_takes_no_more_steps(self, execution):
        record_steps(execution, "passed", "passed", "passed")
        services.execution_record(execution=execution, actor=execution.tester)
        with pytest.raises(ValidationError, match="finished"):
            record_steps(execution, "failed")

    def test_runs_a_fixed_number_of_queries(
        self, execution, warm_caches, django_assert_num_queries
    ):
        execution = Execution.objects.with_details().get(pk=execution.pk)
        # 7: one of them drops the step's draft (uat/services/drafts.py).
        with django_assert_num_queries(7):
            record_steps(execution, "passed")


class TestExecutionRecord:
    @pytest.mark.parametrize(
        ("steps", "result"),
        [
            (("passed", "passed", "passed"), ExecutionStatus.PASSED),
            (("passed", "skipped", "passed"), ExecutionStatus.PASSED),
            (("passed", "failed"), ExecutionStatus.FAILED),
            (("blocked",), ExecutionStatus.BLOCKED),
        ],
    )
    def test_the_result_follows_the_steps(self, execution, steps, result):
        record_steps(execution, *steps)
        services.execution_record(
            execution=execution, actor=execution.tester, notes="ok", time_spent_seconds=90
        )
        execution.refresh_from_db()
        assert execution.status == result
        assert execution.finished_at is not None
        assert execution.time_spent_seconds == 90
        assert execution.notes == "ok"
        event = events("execution.recorded").get()
        assert event.before == {"status": "in_progress"}
        assert event.after["status"] == result

    def test_a_pass_needs_every_step(self, execution):
        record_steps(execution, "passed")
        with pytest.raises(ValidationError, match="step 2, 3"):
            services.execution_record(execution=execution, actor=execution.tester)

    def test_all_skipped_is_not_a_result(self, execution):
        record_steps(execution, "skipped", "skipped", "skipped")
        with pytest.raises(ValidationError, match="at least one step"):
            services.execution_record(execution=execution, actor=execution.tester)

    def test_the_latest_recorded_result_counts(self, plan, cohort, testers, execution):
        other = ExecutionFactory(
            plan=plan, case=execution.case, cohort=cohort, tester=testers[1], is_latest=False
        )
        record_steps(execution, "passed", "passed", "passed")
        services.execution_record(execution=execution, actor=execution.tester)
        record_steps(other, "failed")
        services.execution_record(execution=other, actor=other.tester)
        assert Execution.objects.counting().get() == other

    def test_a_stale_finish_is_refused(self, execution):
        stale = Execution.objects.get(pk=execution.pk)
        record_steps(execution, "passed", "passed", "passed")
        with pytest.raises(services.ConcurrentEditError):
            services.execution_record(execution=stale, actor=stale.tester, lock_version=0)
        execution.refresh_from_db()
        assert execution.status == ExecutionStatus.IN_PROGRESS


def failed_with_defect(execution, severity="major"):
    record_steps(execution, "passed", "failed")
    services.execution_record(execution=execution, actor=execution.tester)
    return services.defect_report(
        execution=execution,
        actor=execution.tester,
        title="Saving a customer loses the phone number",
        severity=severity,
        step_position=2,
        steps_to_reproduce="1. Open a customer\n2. Save",
    )


class TestDefects:
    def test_reporting_links_the_execution_and_audits(self, execution):
        defect = failed_with_defect(execution)
        assert list(defect.executions.all()) == [execution]
        assert defect.release == execution.plan.release
        assert defect.build == execution.build
        assert defect.environment == execution.environment
        assert defect.status == DefectStatus.NEW
        assert events("defect.reported").get().after["severity"] == "major"

    def test_reporting_refuses_bad_input_with_every_error(self, execution):
        with pytest.raises(ValidationError) as refused:
            services.defect_report(
                execution=execution,
                actor=execution.tester,
                title=" ",
                severity="huge",
                step_position=9,
            )
        assert set(refused.value.message_dict) == {"title", "severity", "step_position"}
        assert not Defect.objects.exists()

    def test_a_disallowed_transition_is_refused_with_the_allowed_ones(self, execution, lead):
        defect = failed_with_defect(execution)
        with pytest.raises(ValidationError, match=r"cannot become verified.*confirmed"):
            services.defect_transition(defect=defect, status="verified", actor=lead)
        defect.refresh_from_db()
        assert defect.status == DefectStatus.NEW

    def test_transitions_are_audited_with_before_and_after(self, execution, lead):
        defect = failed_with_defect(execution)
        services.defect_transition(defect=defect, status="confirmed", actor=lead, note="seen it")
        event = events("defect.status_changed").get()
        assert event.before == {"status": "new"}
        assert event.after == {"status": "confirmed", "note": "seen it"}

    def test_fixing_queues_a_retest_for_the_original_tester(self, execution, lead):
        defect = failed_with_defect(execution)
        services.defect_transition(defect=defect, status="confirmed", actor=lead)
        services.defect_transition(
            defect=defect, status="fixed", actor=lead, fixed_in_build="fix-1"
        )

        retest = Execution.objects.get(retest_of=execution)
        assert retest.tester == execution.tester
        assert retest.status == ExecutionStatus.PENDING
        assert retest.is_latest
        execution.refresh_from_db()
        assert not execution.is_latest
        assert events("execution.retest_queued").get().after["defect"] == defect.pk

    def test_fixing_takes_the_execution_counters_before_the_defect_counter(self, execution, lead):
        # The order a failed retest takes them in (execution first, then its defect
        # link), so the two kinds of transaction never deadlock on PostgreSQL.
        defect = failed_with_defect(execution)
        services.defect_transition(defect=defect, status="confirmed", actor=lead)
        with CaptureQueriesContext(connection) as captured:
            services.defect_transition(
                defect=defect, status="fixed", actor=lead, fixed_in_build="fix-1"
            )
        statements = [query["sql"] for query in captured.captured_queries]
        tally = next(i for i, sql in enumerate(statements) if '"uat_executiontally"' in sql)
        write = next(i for i, sql in enumerate(statements) if sql.startswith('UPDATE "uat_defect"'))
        assert tally < write

    def test_retests_are_queued_once(self, execution, lead):
        defect = failed_with_defect(execution)
        services.defect_transition(defect=defect, status="confirmed", actor=lead)
        services.defect_transition(
            defect=defect, status="fixed", actor=lead, fixed_in_build="fix-1"
        )
        assert services.defect_retests_queue(defect=defect, actor=lead) == []
        assert Execution.objects.filter(retest_of=execution).count() == 1

    def test_retests_run_the_current_version_of_the_case(self, execution, lead):
        defect = failed_with_defect(execution)
        execution.case.title = "Clarified title"
        execution.case.save()
        services.case_version_record(case=execution.case, actor=lead)
        services.defect_transition(defect=defect, status="confirmed", actor=lead)
        services.defect_transition(
            defect=defect, status="fixed", actor=lead, fixed_in_build="fix-1"
        )
        assert Execution.objects.get(retest_of=execution).case_version.number == 2

    def test_queueing_retests_runs_a_fixed_number_of_queries(
        self, plan, cohort, testers, lead, warm_caches, django_assert_num_queries
    ):
        def fixed_defect_with(count):
            defect = None
            for case in scoped_cases(plan, count):
                failed = ExecutionFactory(
                    plan=plan, case=case, cohort=cohort, tester=testers[0], failed=True
                )
                if defect is None:
                    defect = services.defect_report(
                        execution=failed, actor=testers[0], title="Broken", severity="minor"
                    )
                else:
                    defect.executions.add(failed)
            return defect

        small, large = fixed_defect_with(2), fixed_defect_with(12)
        with django_assert_num_queries(8):
            assert len(services.defect_retests_queue(defect=small, actor=lead)) == 2
        with django_assert_num_queries(8):
            assert len(services.defect_retests_queue(defect=large, actor=lead)) == 12

    def test_verifying_needs_a_passing_retest(self, execution, lead):
        defect = failed_with_defect(execution)
        services.defect_transition(defect=defect, status="confirmed", actor=lead)
        services.defect_transition(
            defect=defect, status="fixed", actor=lead, fixed_in_build="fix-1"
        )
        with pytest.raises(ValidationError, match="passing retest"):
            services.defect_transition(defect=defect, status="verified", actor=lead)

        retest = Execution.objects.get(retest_of=execution)
        record_steps(retest, "passed", "passed", "passed")
        services.execution_record(execution=retest, actor=retest.tester)
        services.defect_transition(defect=defect, status="verified", actor=lead)
        defect.refresh_from_db()
        assert defect.status == DefectStatus.VERIFIED
        assert defect.resolved_at is not None

    def test_a_failed_retest_stays_linked_so_the_next_fix_retests_again(self, execution, lead):
        defect = failed_with_defect(execution)
        services.defect_transition(defect=defect, status="confirmed", actor=lead)
        services.defect_transition(
            defect=defect, status="fixed", actor=lead, fixed_in_build="fix-1"
        )
        retest = Execution.objects.get(retest_of=execution)
        record_steps(retest, "failed")
        services.execution_record(execution=retest, actor=retest.tester)
        assert retest in defect.executions.all()

        services.defect_transition(defect=defect, status="in_progress", actor=lead)
        services.defect_transition(
            defect=defect, status="fixed", actor=lead, fixed_in_build="fix-2"
        )
        second = Execution.objects.get(retest_of=retest)
        assert second.is_latest
        assert Execution.objects.filter(plan=execution.plan, case=execution.case).count() == 3

    def test_reopening_clears_the_resolution_time(self, execution, lead):
        defect = failed_with_defect(execution)
        services.defect_transition(defect=defect, status="rejected", actor=lead)
        defect.refresh_from_db()
        assert defect.resolved_at is not None
        services.defect_transition(defect=defect, status="confirmed", actor=lead)
        defect.refresh_from_db()
        assert defect.resolved_at is None


class TestEscapedDefects:
    def test_a_production_defect_counts_against_the_release_that_shipped(self, lead):
        release = ReleaseFactory(stage="production")
        defect = services.defect_report_escaped(
            release=release, actor=lead, title="Export drops rows", severity="major", build="2.3.2"
        )
        assert defect.found_in == Defect.FoundIn.PRODUCTION
        assert list(Defect.objects.escaped()) == [defect]
        assert events("defect.reported").get().after["found_in"] == "production"

    def test_refuses_a_release_not_yet_in_production(self, lead):
        with pytest.raises(ValidationError) as refused:
            services.defect_report_escaped(
                release=ReleaseFactory(stage="beta"),
                actor=lead,
                title="x",
                severity="minor",
                build=" ",
            )
        assert set(refused.value.message_dict) == {"release", "build"}


def test_a_pass_before_the_fix_proves_nothing(plan, cohort, testers, execution, lead):
    defect = failed_with_defect(execution)
    other = ExecutionFactory(
        plan=plan, case=execution.case, cohort=cohort, tester=testers[1], is_latest=False
    )
    record_steps(other, "passed", "passed", "passed")
    services.execution_record(execution=other, actor=other.tester)
    services.defect_transition(defect=defect, status="confirmed", actor=lead)
    services.defect_transition(defect=defect, status="fixed", actor=lead, fixed_in_build="fix-1")
    with pytest.raises(ValidationError, match="passing retest"):
        services.defect_transition(defect=defect, status="verified", actor=lead)

    # The fix still gets its retest, and that retest now decides the case.
    retest = Execution.objects.get(retest_of=execution)
    assert Execution.objects.counting().get(case=execution.case) == retest
    record_steps(retest, "passed", "passed", "passed")
    services.execution_record(execution=retest, actor=retest.tester)
    services.defect_transition(defect=defect, status="verified", actor=lead)


def test_two_failures_of_one_case_give_two_retests_and_one_counts(
    plan, cohort, testers, execution, lead
):
    defect = failed_with_defect(execution)
    second = ExecutionFactory(
        plan=plan, case=execution.case, cohort=cohort, tester=testers[1], is_latest=False
    )
    record_steps(second, "failed")
    services.execution_record(execution=second, actor=second.tester)
    defect.executions.add(second)
    services.defect_transition(defect=defect, status="confirmed", actor=lead)
    services.defect_transition(defect=defect, status="fixed", actor=lead, fixed_in_build="fix-1")
    retests = Execution.objects.filter(retest_of__in=[execution, second])
    assert {r.tester for r in retests} == {testers[0], testers[1]}
    assert Execution.objects.counting().filter(case=execution.case).count() == 1
