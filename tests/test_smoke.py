from tests.factories import (
    DefectFactory,
    ExecutionFactory,
    PlanSignoffRoleFactory,
    SignOffFactory,
    WaiverFactory,
    EventFactory,
    EvidenceFactory,
    StepResultFactory,
)


def test_factories_build_every_model(db):
    execution = ExecutionFactory(failed=True)
    assert execution.case_version.number == 1
    StepResultFactory()
    EvidenceFactory()
    DefectFactory()
    WaiverFactory()
    SignOffFactory()
    EventFactory()
    PlanSignoffRoleFactory()
