"""Assigning a plan's cases without duplicating work, the preview of it, and moving or
withdrawing executions nobody has started."""

from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.admin_support import post_action, shown_messages
from tests.factories import (
    CaseFactory,
    CohortFactory,
    DefectFactory,
    EvidenceFactory,
    ExecutionFactory,
    PlanFactory,
    StepResultFactory,
    UserFactory,
)
from uat import services
from uat.admin.base import APPLY
from uat.models import CohortMembership, Event, Execution, Plan
from uat.tallies import tallies_check

pytestmark = pytest.mark.django_db


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


def scoped(plan, *keys):
    cases = [CaseFactory(product=plan.release.product, key=key) for key in keys]
    plan.cases.add(*cases)
    return cases


def holdings(plan):
    return Counter(Execution.objects.filter(plan=plan).values_list("case_id", flat=True))


def per_tester(plan):
    return Counter(Execution.objects.filter(plan=plan).values_list("tester_id", flat=True))


# ------------------------------------------------------------------ assigning again


class TestAssigningAgain:
    @pytest.mark.parametrize("testers_per_case", [1, 2])
    def test_a_case_added_to_the_scope_is_the_only_new_work(
        self, plan, cohort, lead, testers_per_case
    ):
        scoped(plan, *(f"C-{n}" for n in range(10, 22)))
        services.plan_assign(
            plan=plan, cohort=cohort, actor=lead, testers_per_case=testers_per_case
        )
        # Sorted first, the new case used to shift every later case's turn onto a
        # tester who did not hold it yet: a duplicate for almost every case.
        [new] = scoped(plan, "C-01")

        created = services.plan_assign(
            plan=plan, cohort=cohort, actor=lead, testers_per_case=testers_per_case
        )

        assert [execution.case for execution in created] == [new] * testers_per_case
        assert set(holdings(plan).values()) == {testers_per_case}
        assert Execution.objects.counting().filter(plan=plan).count() == 13

    def test_a_tester_joining_the_cohort_gets_no_case_already_held(self, plan, cohort, lead):
        scoped(plan, *(f"C-{n}" for n in range(10, 22)))
        services.plan_assign(plan=plan, cohort=cohort, actor=lead)
        CohortMembership.objects.create(cohort=cohort, user=UserFactory())

        assert services.plan_assign(plan=plan, cohort=cohort, actor=lead) == []
        assert set(holdings(plan).values()) == {1}
        assert Event.objects.filter(verb="plan.assigned").count() == 1

    def test_raising_testers_per_case_fills_only_the_missing_slots(self, plan, cohort, lead):
        cases = scoped(plan, "C-1", "C-2", "C-3")
        services.plan_assign(plan=plan, cohort=cohort, actor=lead)
        created = services.plan_assign(plan=plan, cohort=cohort, actor=lead, testers_per_case=2)
        assert len(created) == 3
        assert holdings(plan) == {case.pk: 2 for case in cases}
        assert len(set(Execution.objects.values_list("case_id", "tester_id"))) == 6

    def test_new_cases_go_to_the_least_loaded_testers(self, plan, cohort, testers, lead):
        busy, some, idle = testers
        for tester, count in ((busy, 3), (some, 1)):
            for _ in range(count):
                ExecutionFactory(plan=plan, cohort=cohort, tester=tester, passed=True)
        scoped(plan, "N-1", "N-2", "N-3")

        created = services.plan_assign(plan=plan, cohort=cohort, actor=lead)

        # Loads 3, 1, 0: idle takes one (1), then some and idle tie and the lower id wins.
        assert Counter(execution.tester for execution in created) == {idle: 2, some: 1}
        assert per_tester(plan) == {busy.pk: 3, some.pk: 2, idle.pk: 2}

    def test_a_member_who_left_still_holds_their_case(self, plan, cohort, testers, lead):
        [case] = scoped(plan, "C-1")
        ExecutionFactory(plan=plan, case=case, cohort=cohort, tester=testers[0])
        testers[0].is_active = False
        testers[0].save()
        # Their slot is filled by reassigning their execution, not by a second one.
        assert services.plan_assign(plan=plan, cohort=cohort, actor=lead) == []

    @pytest.mark.parametrize("size", [4, 30])
    def test_assigning_again_runs_a_fixed_number_of_queries(
        self, plan, cohort, lead, size, warm_caches, django_assert_num_queries
    ):
        scoped(plan, *(f"C-{n:03d}" for n in range(size)))
        services.plan_assign(plan=plan, cohort=cohort, actor=lead, testers_per_case=2)
        scoped(plan, "A-001")
        # 9: the savepoint and its release, the plan (locked, with whether the cohort
        # runs it), the members with their load, the scope, the holdings, the case
        # versions, the insert, the event. The lead's roles are read already.
        with django_assert_num_queries(9):
            created = services.plan_assign(plan=plan, cohort=cohort, actor=lead, testers_per_case=2)
        assert len(created) == 2


# ------------------------------------------------------------------ the preview


class TestPreview:
    def test_the_preview_is_what_assigning_writes_and_writes_nothing(
        self, plan, cohort, testers, lead
    ):
        scoped(plan, "C-1", "C-2", "C-3", "C-4")
        preview = services.plan_assign_preview(
            plan=plan, cohort=cohort, actor=lead, testers_per_case=2
        )
        assert not Execution.objects.exists()
        assert preview.count == 8
        first, second, third = testers
        assert preview.summary == f"Creates 8 executions: {first} → 3, {second} → 3, {third} → 2."

        created = services.plan_assign(
            plan=plan, cohort=cohort, actor=lead, testers_per_case=2, expected=preview.digest
        )
        assert [(e.case, e.tester) for e in created] == preview.assignments

    def test_a_preview_overtaken_by_another_assignment_is_refused(self, plan, cohort, lead):
        scoped(plan, "C-1", "C-2")
        preview = services.plan_assign_preview(plan=plan, cohort=cohort, actor=lead)
        scoped(plan, "C-3")
        with pytest.raises(services.AssignmentPreviewChanged) as refused:
            services.plan_assign(plan=plan, cohort=cohort, actor=lead, expected=preview.digest)
        assert refused.value.preview.count == 3
        assert not Execution.objects.exists()

    def test_the_preview_of_nothing_new_says_so(self, plan, cohort, lead):
        scoped(plan, "C-1")
        services.plan_assign(plan=plan, cohort=cohort, actor=lead)
        preview = services.plan_assign_preview(plan=plan, cohort=cohort, actor=lead)
        assert (preview.count, preview.held) == (0, 1)
        assert preview.summary.startswith("Creates no executions")

    def test_only_qa_leads_preview(self, plan, cohort, testers):
        with pytest.raises(PermissionDenied):
            services.plan_assign_preview(plan=plan, cohort=cohort, actor=testers[0])


# ------------------------------------------------------------------ reassign, unassign


@pytest.fixture
def assigned(plan, cohort, lead):
    scoped(plan, "C-1", "C-2", "C-3", "C-4", "C-5", "C-6")
    return services.plan_assign(plan=plan, cohort=cohort, actor=lead)


def of(tester):
    return list(Execution.objects.filter(tester=tester).order_by("pk"))


class TestReassign:
    def test_moves_a_leavers_pending_work_to_a_named_tester(self, plan, testers, lead, assigned):
        leaver, taker, _ = testers
        moving = of(leaver)
        versions = {e.pk: e.lock_version for e in moving}

        moved = services.execution_reassign(executions=moving, actor=lead, tester=taker)

        assert {e.pk for e in moved} == {e.pk for e in moving}
        assert of(leaver) == []
        for execution in Execution.objects.filter(pk__in=versions):
            assert execution.tester == taker
            assert execution.lock_version == versions[execution.pk] + 1
        events = Event.objects.filter(verb="execution.reassigned")
        assert events.count() == 2
        event = events.first()
        assert event.before["tester"] == leaver.pk
        assert event.after == {"tester": taker.pk, "email": taker.email}
        assert event.release == plan.release
        assert tallies_check() == []

    def test_spreads_over_the_cohort_least_loaded_first(self, plan, cohort, testers, lead):
        leaver, busy, idle = testers
        scoped(plan, "C-1", "C-2", "C-3")
        for _ in range(3):
            ExecutionFactory(plan=plan, cohort=cohort, tester=busy, passed=True)
        for _ in range(1):
            ExecutionFactory(plan=plan, cohort=cohort, tester=idle, passed=True)
        moving = [
            ExecutionFactory(plan=plan, case=case, cohort=cohort, tester=leaver)
            for case in plan.cases.all()
        ]
        services.execution_reassign(executions=moving, actor=lead)
        # idle 1 → 2 → 3 (ties with busy at 3: the lower id, busy, gets the third)
        assert Counter(
            e.tester for e in Execution.objects.filter(pk__in=[m.pk for m in moving])
        ) == {
            idle: 2,
            busy: 1,
        }

    def test_never_gives_a_tester_a_case_they_hold(self, plan, cohort, testers, lead, assigned):
        first, second, third = testers
        [mine, *_] = of(first)
        ExecutionFactory(plan=plan, case=mine.case, cohort=cohort, tester=second, is_latest=False)
        with pytest.raises(ValidationError, match="already holds"):
            services.execution_reassign(executions=[mine], actor=lead, tester=second)
        services.execution_reassign(executions=[mine], actor=lead)
        mine.refresh_from_db()
        assert mine.tester == third

    @pytest.mark.parametrize("work", ["step", "evidence", "defect", "in_progress"])
    def test_refuses_work_already_started(self, testers, lead, assigned, work):
        leaver, taker, _ = testers
        [started, pending] = of(leaver)
        if work == "step":
            StepResultFactory(execution=started)
        elif work == "evidence":
            EvidenceFactory(execution=started)
        elif work == "defect":
            DefectFactory(release=started.plan.release).executions.add(started)
        else:
            Execution.objects.filter(pk=started.pk).update(status="in_progress")
        with pytest.raises(ValidationError, match=f"Already started.*{started.case.key}"):
            services.execution_reassign(executions=[started, pending], actor=lead, tester=taker)
        assert len(of(leaver)) == 2  # nothing moved
        assert not Event.objects.filter(verb="execution.reassigned").exists()

    def test_refuses_a_tester_outside_the_cohort(self, testers, lead, assigned):
        stranger = UserFactory()
        with pytest.raises(ValidationError, match="not an active tester"):
            services.execution_reassign(executions=of(testers[0]), actor=lead, tester=stranger)

    def test_only_qa_leads_reassign_and_not_in_a_completed_plan(
        self, plan, testers, lead, assigned
    ):
        with pytest.raises(PermissionDenied):
            services.execution_reassign(
                executions=of(testers[0]), actor=testers[1], tester=testers[1]
            )
        Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.COMPLETED)
        with pytest.raises(ValidationError, match="completed"):
            services.execution_reassign(executions=of(testers[0]), actor=lead)


class TestUnassign:
    def test_withdraws_pending_work_audited_and_the_tallies_agree(
        self, plan, testers, lead, assigned
    ):
        leaver = testers[0]
        withdrawn = of(leaver)
        ids = services.execution_unassign(executions=withdrawn, actor=lead)
        assert sorted(ids) == [e.pk for e in withdrawn]
        assert not Execution.objects.filter(pk__in=ids).exists()
        events = Event.objects.filter(verb="execution.unassigned").order_by("object_id")
        assert [event.object_id for event in events] == [str(pk) for pk in sorted(ids)]
        assert events[0].before["email"] == leaver.email
        assert events[0].before["case"] == withdrawn[0].case.key
        assert tallies_check() == []
        # The cases are free again: assigning fills them, once each.
        created = services.plan_assign(plan=plan, cohort=plan.cohorts.get(), actor=lead)
        assert {e.case_id for e in created} == {e.case_id for e in withdrawn}

    def test_the_run_that_counts_passes_to_another_testers_run(self, plan, cohort, testers, lead):
        scoped(plan, "C-1")
        first, second = services.plan_assign(
            plan=plan, cohort=cohort, actor=lead, testers_per_case=2
        )
        assert (first.is_latest, second.is_latest) == (True, False)
        services.execution_unassign(executions=[first], actor=lead)
        second.refresh_from_db()
        assert second.is_latest

    def test_refuses_a_retest_and_started_work(self, plan, cohort, testers, lead):
        failed = ExecutionFactory(
            plan=plan, cohort=cohort, tester=testers[0], failed=True, is_latest=False
        )
        retest = ExecutionFactory(
            plan=plan, case=failed.case, cohort=cohort, tester=testers[0], retest_of=failed
        )
        with pytest.raises(ValidationError, match="retest"):
            services.execution_unassign(executions=[retest], actor=lead)
        with pytest.raises(ValidationError, match="Already started"):
            services.execution_unassign(executions=[failed], actor=lead)
        assert Execution.objects.count() == 2
        with pytest.raises(PermissionDenied):
            services.execution_unassign(executions=[retest], actor=testers[1])


# ------------------------------------------------------------------ in the admin


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def test_the_admin_reassigns_after_choosing_the_tester(lead_client, testers, lead, assigned):
    leaver, taker, _ = testers
    moving = of(leaver)
    response = post_action(lead_client, Execution, "reassign_executions", moving)
    assert response.status_code == 200
    choices = list(response.context["form"].fields["tester"].queryset)
    assert set(choices) == set(testers)
    assert len(response.context["items"]) == 2
    assert not Event.objects.filter(verb="execution.reassigned").exists()

    response = post_action(
        lead_client, Execution, "reassign_executions", moving, **{APPLY: "1", "tester": taker.pk}
    )
    assert response.status_code == 302
    assert of(leaver) == []
    [message] = shown_messages(response)
    assert message.startswith("Reassigned 2 executions:")


def test_the_admin_shows_a_refusal_and_unassigns_on_confirm(lead_client, testers, lead, assigned):
    started, pending = of(testers[0])
    StepResultFactory(execution=started)
    response = post_action(
        lead_client, Execution, "unassign_executions", [started, pending], **{APPLY: "1"}
    )
    assert response.status_code == 200
    assert "Already started" in response.context["form"].non_field_errors()[0]
    assert Execution.objects.filter(pk=pending.pk).exists()

    response = post_action(lead_client, Execution, "unassign_executions", [pending])
    assert response.status_code == 200  # the confirmation page first
    assert Execution.objects.filter(pk=pending.pk).exists()
    response = post_action(lead_client, Execution, "unassign_executions", [pending], **{APPLY: "1"})
    assert response.status_code == 302
    assert not Execution.objects.filter(pk=pending.pk).exists()
    assert shown_messages(response) == ["Unassigned 1 execution."]
