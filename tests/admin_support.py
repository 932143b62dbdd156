"""Helpers for admin tests: rows of every model, the data an admin form would post, and
posting a changelist action."""

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.forms import CheckboxInput
from django.urls import reverse

from accounts.models import Role
from reports.models import EvidencePackage, GateState, Promotion
from uat.models import CohortMembership

from .factories import (
    AcceptanceReportFactory,
    ApiTokenFactory,
    DefectFactory,
    EmailDeliveryFactory,
    EventFactory,
    EvidenceFactory,
    ExecutionFactory,
    InvitationFactory,
    PlanSignoffRoleFactory,
    RequirementFactory,
    SignOffFactory,
    StepResultFactory,
    UserFactory,
    WaiverFactory,
    WebhookDeliveryFactory,
    WebhookFactory,
)


def admin_rows(count: int, lead) -> None:
    """``count`` rows of every model in the admin, each under a product of its own, so
    a name or filter that reads a related row per row shows up as growing queries."""
    for _ in range(count):
        tester = UserFactory(roles=[Role.TESTER])
        execution = ExecutionFactory(failed=True, tester=tester)
        plan = execution.plan
        CohortMembership.objects.create(cohort=execution.cohort, user=tester)
        plan.cases.add(execution.case)
        plan.cohorts.add(execution.cohort)
        plan.stakeholders.add(lead)
        execution.case.requirements.add(RequirementFactory(product=plan.release.product))
        StepResultFactory(execution=execution, status="failed", actual_result="It broke")
        EvidenceFactory(execution=execution)
        defect = DefectFactory(release=plan.release, environment=plan.environment)
        defect.executions.add(execution)
        WaiverFactory(defect=defect, granted_by=lead)
        report = AcceptanceReportFactory(plan=plan, ready=True, requested_by=lead)
        SignOffFactory(report=report)
        PlanSignoffRoleFactory(plan=plan, signers=[lead])
        Promotion.objects.create(
            release=plan.release,
            from_stage="planning",
            to_stage="alpha",
            build=execution.build,
            promoted_by=lead,
            report=report,
            decision={"decision": "go"},
        )
        GateState.objects.create(
            release=plan.release,
            stage="beta",
            decision="go",
            report=report,
            changed_at=report.created_at,
        )
        EventFactory(release=plan.release, actor=tester)
        ApiTokenFactory(user=lead)  # a lead sees their own tokens only
        EvidencePackage.objects.create(release=plan.release, requested_by=lead)
        InvitationFactory(invited_by=lead)
        EmailDeliveryFactory(report=report)
        WebhookDeliveryFactory(webhook=WebhookFactory(product=plan.release.product))


def admin_url(model, page: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}", args=args)


def post_action(client, model, action: str, selected, **data):
    """Run a changelist action on ``selected``, as the action bar would."""
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in selected], **data},
    )


def shown_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _bound_value(bound_field):
    value = bound_field.value()
    if isinstance(bound_field.field.widget, CheckboxInput):
        return "on" if value else None
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value)


def _add(data: dict, form) -> None:
    for bound_field in form:
        value = _bound_value(bound_field)
        if value is not None:
            data[bound_field.html_name] = value


def changeform_data(response, **changes) -> dict:
    """The data of the admin form on ``response`` (a GET of an add or change page),
    inline formsets and their management forms included, with ``changes`` applied."""
    data: dict = {}
    _add(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _add(data, formset.management_form)
        for form in formset.initial_forms:
            _add(data, form)
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}
