"""A small UAT world for the API tests: one release the personas hold a stake in or work
on, and one that belongs to somebody else."""

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    CaseFactory,
    CohortFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    RequirementFactory,
)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user=user)
        return api

    return login


@pytest.fixture
def world(tester, beta_tester, stakeholder, lead):
    plan = PlanFactory()
    plan.stakeholders.add(stakeholder)
    product = plan.release.product
    requirement = RequirementFactory(product=product)
    case = CaseFactory(product=product)
    case.requirements.add(requirement)
    beta_case = CaseFactory(product=product)
    alpha = CohortFactory(product=product, members=[tester])
    beta = CohortFactory(product=product, beta=True, members=[beta_tester])
    plan.cases.add(case, beta_case)
    plan.cohorts.add(alpha)
    own = ExecutionFactory(plan=plan, case=case, tester=tester, cohort=alpha)
    beta_plan = PlanFactory(release=plan.release, beta=True, environment=plan.environment)
    beta_plan.cohorts.add(beta)
    beta_plan.cases.add(beta_case)
    beta_own = ExecutionFactory(plan=beta_plan, case=beta_case, tester=beta_tester, cohort=beta)
    defect = DefectFactory(release=plan.release, reported_by=tester)
    defect.executions.add(own)
    other_plan = PlanFactory()
    other_case = CaseFactory(product=other_plan.release.product)
    other = ExecutionFactory(plan=other_plan, case=other_case)
    other_defect = DefectFactory(release=other_plan.release)
    other_defect.executions.add(other)
    return locals()
