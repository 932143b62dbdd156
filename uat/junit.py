"""Recording the results of an automated suite (JUnit XML, as pytest, JUnit, Maven
Surefire and most runners write it) as executions of a plan's cases.

A ``<testcase>`` matches a case of the plan by its key: a ``case_key`` property
(``<property name="case_key" value="CRM-C001"/>``) when there is one, otherwise the first
of the plan's case keys that appears as a whole word in the testcase's ``name`` or
``classname`` (``test_create_lead_CRM_C001`` does not match; ``test CRM-C001 create lead``
does). A testcase with ``<failure>`` fails, one with ``<error>`` is blocked, one with
only ``<skipped>`` is not recorded, any other passes.

Each match becomes a new execution by the uploading user (the automation account), in
the plan's first cohort of its stage, on the plan's environment, pinned to the case's
current version — recorded step by step through the same services as a tester's run.
"""

import re
from dataclasses import dataclass, field

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from .audit import event_record
from .models import CaseVersion, Execution, Plan, StepStatus
from .services import execution_record, execution_step_record

MAX_MESSAGE = 2000


@dataclass
class JUnitResult:
    recorded: list[dict] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"recorded": self.recorded, "unknown": self.unknown, "skipped": self.skipped}


def _testcases(xml: bytes):
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise ValidationError({"file": f"This is not well-formed JUnit XML: {error}."}) from None
    if root.tag not in ("testsuites", "testsuite"):
        raise ValidationError({"file": "JUnit XML starts with <testsuites> or <testsuite>."})
    return root.iter("testcase")


def _outcome(testcase) -> tuple[str | None, str]:
    for tag, status in (("failure", StepStatus.FAILED), ("error", StepStatus.BLOCKED)):
        found = testcase.find(tag)
        if found is not None:
            text = (found.get("message") or found.text or tag).strip()
            return status, text[:MAX_MESSAGE] or tag
    if testcase.find("skipped") is not None:
        return None, ""
    return StepStatus.PASSED, ""


def _key_of(testcase, pattern: re.Pattern | None) -> str | None:
    for prop in testcase.iter("property"):
        if prop.get("name") == "case_key" and prop.get("value"):
            return prop.get("value").strip()
    if pattern is None:
        return None
    text = f"{testcase.get('name', '')} {testcase.get('classname', '')}"
    found = pattern.search(text)
    return found.group(0) if found else None


def _label(testcase) -> str:
    return f"{testcase.get('classname', '')}::{testcase.get('name', '')}".strip(":")[:300]


@transaction.atomic
def plan_junit_record(*, plan: Plan, xml: bytes, actor, build: str = "") -> JUnitResult:
    """Record each testcase of a JUnit XML report that matches a case of ``plan`` as a
    finished execution by ``actor``; list the testcases that match no case."""
    if not plan.is_open:
        raise ValidationError("This plan is completed; reopen it before recording results.")
    cohort = plan.cohorts.filter(kind=plan.stage).order_by("name").first()
    if cohort is None:
        raise ValidationError(f"The plan has no {plan.stage} cohort to record results under.")
    cases = {case.key: case for case in plan.cases.all()}
    keys = sorted(cases, key=len, reverse=True)
    pattern = (
        re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, keys)) + r")(?![\w-])")
        if keys
        else None
    )
    versions = {
        v.case_id: v
        for v in CaseVersion.objects.filter(case__in=cases.values(), number=F("case__version"))
    }
    result = JUnitResult()
    for testcase in _testcases(xml):
        key = _key_of(testcase, pattern)
        if key not in cases or not getattr(versions.get(cases[key].pk), "steps", None):
            result.unknown.append(key or _label(testcase))
            continue
        status, message = _outcome(testcase)
        if status is None:
            result.skipped.append(key)
            continue
        execution = _record(
            plan,
            cases[key],
            versions[cases[key].pk],
            cohort,
            actor,
            build,
            status,
            message,
            _label(testcase),
        )
        result.recorded.append(
            {"case_key": key, "execution": execution.pk, "status": execution.status}
        )
    event_record(actor=actor, verb="plan.junit_recorded", obj=plan, after=result.as_dict())
    return result


def _record(plan, case, version, cohort, actor, build, status, message, label) -> Execution:
    environment = plan.environment
    execution = Execution.objects.create(
        plan=plan,
        case=case,
        case_version=version,
        tester=actor,
        cohort=cohort,
        environment=environment,
        build=build or (environment.build if environment else ""),
        is_latest=False,
        assigned_by=actor,
    )
    if status == StepStatus.PASSED:
        for position in range(1, len(version.steps) + 1):
            execution_step_record(
                execution=execution,
                position=position,
                status=status,
                actor=actor,
                actual_result="",
            )
    else:
        execution_step_record(
            execution=execution, position=1, status=status, actor=actor, actual_result=message
        )
    return execution_record(execution=execution, actor=actor, notes=f"Automated: {label}")
