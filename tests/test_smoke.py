from tests.factories import (
    DefectFactory,
    EventFactory,
    EvidenceFactory,
    ExecutionFactory,
    PlanSignoffRoleFactory,
    SignOffFactory,
    StepResultFactory,
    WaiverFactory,
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
