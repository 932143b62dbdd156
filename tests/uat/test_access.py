"""Who sees what: the ``visible_to`` reads every page and endpoint builds on."""

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.factories import (
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    UserFactory,
)
from uat.models import Defect, Execution, Plan, Release

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tester, beta_tester, stakeholder):
    """Two releases: the stakeholder holds a stake in the first only; the tester and the
    beta tester each have one assignment in it; the second is somebody else's."""
    mine = PlanFactory()
    mine.stakeholders.add(stakeholder)
    theirs = PlanFactory()
    own = ExecutionFactory(plan=mine, tester=tester)
    beta_own = ExecutionFactory(plan=mine, tester=beta_tester)
    other = ExecutionFactory(plan=theirs)
    reported = DefectFactory(release=mine.release, reported_by=tester)
    found_on_beta = DefectFactory(release=mine.release)
    found_on_beta.executions.add(beta_own)
    elsewhere = DefectFactory(release=theirs.release)
    return locals()


def visible(model, user):
    return set(model.objects.visible_to(user))


def test_a_qa_lead_sees_everything(world, lead):
    assert visible(Execution, lead) == set(Execution.objects.all())
    assert visible(Defect, lead) == set(Defect.objects.all())
    assert visible(Release, lead) == set(Release.objects.all())


def test_a_stakeholder_sees_their_releases_only(world, stakeholder):
    release = world["mine"].release
    assert visible(Release, stakeholder) == {release}
    assert visible(Plan, stakeholder) == {world["mine"]}
    assert visible(Execution, stakeholder) == {world["own"], world["beta_own"]}
    assert visible(Defect, stakeholder) == {world["reported"], world["found_on_beta"]}


def test_a_required_signer_is_a_stakeholder_too(world):
    signer = UserFactory()
    PlanSignoffRoleFactory(plan=world["theirs"], role="compliance", signers=[signer])
    assert visible(Release, signer) == {world["theirs"].release}


def test_a_tester_sees_their_own_assignments(world, tester):
    assert visible(Execution, tester) == {world["own"]}
    assert visible(Plan, tester) == {world["mine"]}
    assert visible(Defect, tester) == {world["reported"]}
    assert visible(Release, tester) == set()


def test_a_beta_tester_sees_nothing_beyond_their_assignments(world, beta_tester):
    assert visible(Execution, beta_tester) == {world["beta_own"]}
    assert visible(Defect, beta_tester) == {world["found_on_beta"]}
    assert visible(Release, beta_tester) == set()


def test_a_stranger_sees_nothing(world, outsider):
    for user in (outsider, AnonymousUser()):
        for model in (Release, Plan, Execution, Defect):
            assert visible(model, user) == set()
