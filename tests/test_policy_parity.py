"""Every action gives every persona the same answer on every interface.

``ACTIONS`` writes down, once, who may do each workflow action (``allowed``), the
predicate of ``uat.policy`` that decides it, and how each interface that offers the
action calls it: the tester pages (``page``), the API (``api``) and the admin
(``admin``). Three tests hold them together:

- the policy's predicate says yes to exactly the personas in ``allowed``;
- each interface lets exactly those personas through (the action's audit event is
  written) and refuses the others (403 or 404, or the admin's sign-in page);
- every workflow route of the pages and the API, and every admin action, is named by
  an action here or listed as not a workflow action: a new one without a rule fails.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from reports.fingerprint import plan_fingerprint
from tests.factories import (
    PASSWORD,
    AcceptanceReportFactory,
    CohortFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    ReleaseFactory,
    StepResultFactory,
    UserFactory,
    WaiverFactory,
    WebhookFactory,
)
from tests.test_routes import ROUTES as PAGE_ROUTES
from uat import policy
from uat.admin.base import APPLY, CONFIRM
from uat.models import Event, Release

pytestmark = pytest.mark.django_db

PERSONAS = ("lead", "tester", "beta_tester", "stakeholder", "pipeline", "outsider")
STAFF = frozenset({"lead"})  # the admin is for staff: others never reach its actions
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JUNIT = b"<testsuite><testcase name='x'/></testsuite>"


@pytest.fixture
def world(lead, tester, beta_tester, stakeholder):
    """An alpha plan the stakeholder holds a stake in and signs for, the tester's run in
    progress and a second run with every step passed, a new defect, a current report, a
    waiver, a beta cohort, and the product's release in production."""
    # The lead owns the release, so naming its signers is theirs (as an administrator's).
    plan = PlanFactory(release__stage=Release.Stage.ALPHA, release__owner=lead)
    plan.stakeholders.add(stakeholder)
    product = plan.release.product
    # A colleague in the cohort, so assigning two testers per case has work to give.
    colleague = UserFactory(roles=["Tester"])
    alpha = CohortFactory(product=product, members=[tester, colleague])
    plan.cohorts.add(alpha)
    # Work nobody has started: a QA lead may reassign or unassign it.
    pending = ExecutionFactory(plan=plan, tester=tester, cohort=alpha)
    run = ExecutionFactory(plan=plan, tester=tester, cohort=alpha, in_progress=True)
    done = ExecutionFactory(plan=plan, tester=tester, cohort=alpha, in_progress=True)
    for position in (1, 2, 3):
        StepResultFactory(execution=done, position=position, status="passed")
    plan.cases.add(run.case, done.case)
    beta_plan = PlanFactory(release=plan.release, beta=True)
    ExecutionFactory(plan=beta_plan, tester=beta_tester)
    defect = DefectFactory(release=plan.release, reported_by=tester)
    defect.executions.add(run)
    waiver = WaiverFactory(defect=DefectFactory(release=plan.release), granted_by=stakeholder)
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    report = AcceptanceReportFactory(plan=plan, ready=True, fingerprint=plan_fingerprint(plan))
    # The release before, in production: the stakeholder held a stake in it and the
    # tester ran its UAT, so both may report what escaped it.
    production = ReleaseFactory(product=product, stage=Release.Stage.PRODUCTION)
    production_plan = PlanFactory(release=production)
    production_plan.stakeholders.add(stakeholder)
    ExecutionFactory(plan=production_plan, tester=tester, passed=True)
    return {
        "plan": plan,
        "beta_plan": beta_plan,
        "release": plan.release,
        "run": run,
        "done": done,
        "pending": pending,
        "colleague": colleague,
        "defect": defect,
        "waiver": waiver,
        "report": report,
        "beta_cohort": CohortFactory(product=product, beta=True),
        "next_release": ReleaseFactory(product=product),
        "production": production,
        # A stakeholder anyone allowed may name as a signer (never the caller).
        "signer": UserFactory(roles=["Stakeholder"]),
        "webhook": WebhookFactory(product=product),
    }


# ---------------------------------------------------------------------------- callers


def page_post(name: str, kwargs: Callable, data: Callable = lambda world, user: {}):
    def call(client, world, user):
        return client.post(reverse(name, kwargs=kwargs(world)), data(world, user))

    call.route = name
    return call


def api_post(
    name: str, args: Callable, data: Callable = lambda world, user: {}, body_format="json"
):
    def call(api, world, user):
        return api.post(reverse(name, args=args(world)), data(world, user), format=body_format)

    call.route = name
    return call


def admin_action(model: str, action: str, selected: Callable, data=lambda world: {}):
    def call(client, world, user):
        url = reverse(f"admin:{model.replace('.', '_')}_changelist")
        body = {"action": action, helpers.ACTION_CHECKBOX_NAME: [selected(world).pk]}
        return client.post(url, {**body, **data(world)})

    call.route = action
    return call


def run_uuid(world):
    return {"uuid": world["run"].uuid}


def release_id(world):
    return {"release_id": world["release"].pk}


def sign_data(world, user):
    return {
        "role": "business_owner",
        "decision": "approve",
        "password": PASSWORD,  # every factory user's
    }


def waive_data(world, user):
    return {
        "defect": world["defect"].pk,
        "reason": "Known, with a workaround",
        "expires_at": (timezone.now() + dt.timedelta(days=3)).isoformat(),
    }


@dataclass(frozen=True)
class Action:
    verb: str  # the audit event the action writes when it goes through
    allowed: frozenset[str]
    predicate: Callable  # (world, user) -> bool, the policy's answer
    page: Callable | None = None
    api: Callable | None = None
    admin: Callable | None = None


ACTIONS: dict[str, Action] = {
    "record a step": Action(
        "execution.step_recorded",
        frozenset({"tester"}),
        lambda world, user: policy.can_record(user, world["run"]),
        page=page_post("uat:execution", run_uuid, lambda world, user: {"mark": "1:passed"}),
        api=api_post(
            "execution-steps",
            lambda world: [world["run"].pk],
            lambda world, user: {"position": 1, "status": "passed"},
        ),
    ),
    "finish a run": Action(
        "execution.recorded",
        frozenset({"tester"}),
        lambda world, user: policy.can_record(user, world["done"]),
        page=page_post(
            "uat:execution",
            lambda world: {"uuid": world["done"].uuid},
            lambda world, user: {"finish": "1", "notes": "All good"},
        ),
        api=api_post("execution-finish", lambda world: [world["done"].pk]),
    ),
    "attach evidence": Action(
        "evidence.attached",
        frozenset({"tester"}),
        lambda world, user: policy.can_record(user, world["run"]),
        page=page_post(
            "uat:evidence_upload",
            run_uuid,
            lambda world, user: {"file": SimpleUploadedFile("shot.png", PNG)},
        ),
    ),
    "report a defect": Action(
        "defect.reported",
        frozenset({"tester"}),
        lambda world, user: policy.can_record(user, world["run"]),
        page=page_post(
            "uat:defect_new",
            run_uuid,
            lambda world, user: {
                "title": "Broken",
                "severity": "minor",
                "steps_to_reproduce": "Open it; it breaks.",
            },
        ),
        api=api_post(
            "execution-defects",
            lambda world: [world["run"].pk],
            lambda world, user: {"title": "Broken", "severity": "minor"},
        ),
    ),
    "report an escaped defect": Action(
        "defect.reported",
        frozenset({"lead", "tester", "stakeholder"}),
        lambda world, user: policy.can_report_escaped_defect(user, world["production"]),
        api=api_post(
            "defect-list",
            lambda world: [],
            lambda world, user: {
                "release": world["production"].pk,
                "title": "Seen by a customer",
                "severity": "major",
                "build": "1.0.1",
            },
        ),
    ),
    "log a defect found in UAT": Action(
        "defect.reported",
        frozenset({"lead"}),
        lambda world, user: policy.can_log_defect(user, world["release"]),
        admin=lambda client, world, user: client.post(
            reverse("admin:uat_defect_add"),
            {
                "release": world["release"].pk,
                "title": "Told by a tester on the phone",
                "steps_to_reproduce": "Open it; it breaks.",
                "severity": "minor",
                "found_in": "uat",
                "executions": [world["run"].pk],
                "build": "",
                "external_key": "",
                "external_url": "",
            },
        ),
    ),
    "triage a defect": Action(
        "defect.status_changed",
        frozenset({"lead"}),
        lambda world, user: policy.can_triage(user, world["defect"]),
        page=page_post(
            "uat:defect_transition",
            lambda world: {"pk": world["defect"].pk},
            lambda world, user: {"status": "confirmed"},
        ),
        api=api_post(
            "defect-transition",
            lambda world: [world["defect"].pk],
            lambda world, user: {"status": "confirmed"},
        ),
        admin=admin_action("uat.defect", "mark_confirmed", lambda world: world["defect"]),
    ),
    "comment on a defect": Action(
        "defect.commented",
        frozenset({"lead", "tester", "stakeholder"}),
        lambda world, user: policy.can_comment(user, world["defect"]),
        page=page_post(
            "uat:defect_comment",
            lambda world: {"pk": world["defect"].pk},
            lambda world, user: {"body": "Seen it again on the latest build."},
        ),
        api=api_post(
            "defect-comments",
            lambda world: [world["defect"].pk],
            lambda world, user: {"body": "Seen it again on the latest build."},
        ),
    ),
    "assign a plan's cases": Action(
        "plan.assigned",
        frozenset({"lead"}),
        lambda world, user: policy.can_manage_plan(user, world["plan"]),
        api=api_post(
            "plan-assign",
            lambda world: [world["plan"].pk],
            lambda world, user: {"cohort": world["plan"].cohorts.get().pk, "testers_per_case": 2},
        ),
        admin=admin_action(
            "uat.plan",
            "assign_cases",
            lambda world: world["plan"],
            lambda world: {
                CONFIRM: "1",
                "cohort": world["plan"].cohorts.get().pk,
                "testers_per_case": 2,
            },
        ),
    ),
    "reassign executions not started": Action(
        "execution.reassigned",
        frozenset({"lead"}),
        lambda world, user: policy.can_manage_plan(user, world["plan"]),
        api=api_post(
            "execution-reassign",
            lambda world: [],
            lambda world, user: {
                "executions": [world["pending"].pk],
                "tester": world["colleague"].pk,
            },
        ),
        admin=admin_action(
            "uat.execution",
            "reassign_executions",
            lambda world: world["pending"],
            lambda world: {APPLY: "1", "tester": world["colleague"].pk},
        ),
    ),
    "unassign executions not started": Action(
        "execution.unassigned",
        frozenset({"lead"}),
        lambda world, user: policy.can_manage_plan(user, world["plan"]),
        api=api_post(
            "execution-unassign",
            lambda world: [],
            lambda world, user: {"executions": [world["pending"].pk]},
        ),
        admin=admin_action(
            "uat.execution",
            "unassign_executions",
            lambda world: world["pending"],
            lambda world: {APPLY: "1"},
        ),
    ),
    "change a plan's scope": Action(
        "plan.scope_changed",
        frozenset({"lead"}),
        lambda world, user: policy.can_manage_plan(user, world["plan"]),
        admin=lambda client, world, user: client.post(
            reverse("admin:uat_plan_scope", args=[world["plan"].pk]),
            {"scope": "remove_selected", "case": [world["run"].case_id]},
        ),
    ),
    "clone a plan": Action(
        "plan.cloned",
        frozenset({"lead"}),
        lambda world, user: policy.can_manage_plan(user, world["plan"]),
        api=api_post(
            "plan-clone",
            lambda world: [world["plan"].pk],
            lambda world, user: {"release": world["next_release"].pk},
        ),
        admin=admin_action(
            "uat.plan",
            "clone_plan",
            lambda world: world["plan"],
            lambda world: {APPLY: "1", "release": world["next_release"].pk},
        ),
    ),
    "record JUnit results": Action(
        "plan.junit_recorded",
        frozenset({"lead"}),
        lambda world, user: policy.can_manage_plan(user, world["plan"]),
        api=api_post(
            "plan-junit",
            lambda world: [world["plan"].pk],
            lambda world, user: {"file": SimpleUploadedFile("junit.xml", JUNIT)},
            body_format="multipart",
        ),
    ),
    "request a report": Action(
        "report.requested",
        frozenset({"lead"}),
        lambda world, user: policy.can_request_report(user, world["beta_plan"]),
        page=page_post("reports:report_request", lambda world: {"plan_id": world["beta_plan"].pk}),
        api=api_post("plan-reports", lambda world: [world["beta_plan"].pk]),
        admin=admin_action("uat.plan", "request_report", lambda world: world["beta_plan"]),
    ),
    "build an evidence package": Action(
        "evidence_package.requested",
        frozenset({"lead", "stakeholder"}),
        lambda world, user: policy.can_build_evidence_package(user, world["release"]),
        page=page_post("uat:evidence_package_create", release_id),
        api=api_post("release-evidence-package", lambda world: [world["release"].pk]),
        admin=admin_action("uat.release", "build_evidence_package", lambda world: world["release"]),
    ),
    "waive a defect": Action(
        "waiver.granted",
        frozenset({"stakeholder"}),
        lambda world, user: policy.can_waive(user, world["release"]),
        page=page_post(
            "uat:waiver_grant",
            lambda world: {"release_id": world["release"].pk, "defect_id": world["defect"].pk},
            lambda world, user: {
                f"d{world['defect'].pk}-reason": "Known, with a workaround",
                f"d{world['defect'].pk}-expires_on": (
                    timezone.localdate() + dt.timedelta(days=3)
                ).isoformat(),
            },
        ),
        api=api_post("waiver-list", lambda world: [], waive_data),
    ),
    "revoke a waiver": Action(
        "waiver.revoked",
        frozenset({"stakeholder"}),
        lambda world, user: policy.can_waive(user, world["waiver"].release),
        page=page_post(
            "uat:waiver_revoke",
            lambda world: {"release_id": world["release"].pk, "waiver_id": world["waiver"].pk},
        ),
        api=api_post("waiver-revoke", lambda world: [world["waiver"].pk]),
    ),
    "sign a report": Action(
        "signoff.recorded",
        frozenset({"stakeholder"}),
        lambda world, user: policy.can_sign(user, world["plan"], "business_owner"),
        page=page_post(
            "reports:report_sign", lambda world: {"uuid": world["report"].uuid}, sign_data
        ),
        api=api_post("report-signoffs", lambda world: [world["report"].uuid], sign_data),
    ),
    "name signers": Action(
        "plan.signers_changed",
        frozenset({"lead"}),
        lambda world, user: policy.can_configure_signoffs(user, world["plan"]),
        api=api_post(
            "plan-signers",
            lambda world: [world["plan"].pk],
            lambda world, user: {"role": "compliance", "signers": [world["signer"].pk]},
        ),
        admin=lambda client, world, user: client.post(
            reverse("admin:uat_plansignoffrole_add"),
            {"plan": world["plan"].pk, "role": "compliance", "signers": [world["signer"].pk]},
        ),
    ),
    "invite beta testers": Action(
        "invitation.sent",
        frozenset({"lead"}),
        lambda world, user: policy.can_invite(user, world["beta_cohort"]),
        page=page_post(
            "accounts:invitation_new",
            lambda world: {},
            lambda world, user: {"email": "new@example.net", "cohort": world["beta_cohort"].pk},
        ),
        admin=admin_action(
            "uat.cohort",
            "invite_testers",
            lambda world: world["beta_cohort"],
            lambda world: {APPLY: "1", "emails": "new@example.net"},
        ),
    ),
    # Administrators only, none of the personas here (QA leads register webhooks but do
    # not read their secrets again): tests/reports/test_webhook_safety.py has the
    # administrator's side.
    "rotate a webhook secret": Action(
        "webhook.secret_rotated",
        frozenset(),
        lambda world, user: policy.can_rotate_webhook_secret(user, world["webhook"]),
        admin=admin_action("reports.webhook", "rotate_secret", lambda world: world["webhook"]),
    ),
}

# Promotion moves a release only when the gate says go; whether the caller may ask at
# all is the policy's, so its test reads the answer instead of an audit event.
PROMOTE_ALLOWED = frozenset({"lead", "pipeline"})

# Routes and admin actions that are not workflow actions, and why.
NOT_WORKFLOW_PAGES = {
    # Asks policy.can_record like recording a step; tests/uat/test_drafts.py holds it.
    "uat:execution_draft": "a draft is not a record: it writes no audit event",
    "accounts:logout": "everyone signs themself out",
    "accounts:two_factor_backup_codes_regenerate": "everyone manages their own sign-in",
    "accounts:two_factor_disable": "everyone manages their own sign-in",
}
NOT_WORKFLOW_API = {
    **{
        f"{name}-list": "plain CRUD of the library and plans: model permissions, as in the admin"
        for name in ("product", "release", "environment", "requirement", "case", "plan", "cohort")
    },
    "case-import-library": "plain library CRUD: the model permissions, as in the admin",
    "apitoken-list": "a token is its owner's own",
    "apitoken-revoke": "a token is its owner's own",
    "release-promote": "tested below: the gate decides whether anything moves",
}
NOT_WORKFLOW_ADMIN = {
    "export_as_csv": "exports what the changelist shows",
    "export_library_csv": "exports what the changelist shows",
    "export_library_xlsx": "exports what the changelist shows",
    "export_executions_xlsx": "exports what the changelist shows",
    "export_defects_xlsx": "exports what the changelist shows",
    "delete_selected": "plain admin deletion, by model permission",
    "reset_two_factor": "an administrator's account act",
    "revoke": "an API token's owner or an administrator ends it",
    # The other defect moves go through the same transition as mark_confirmed.
    **{
        f"mark_{status}": "the same defect transition as mark_confirmed"
        for status in ("in_progress", "fixed", "verified", "closed", "rejected", "deferred")
    },
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_policy_allows_exactly_the_personas_of_the_rule(request, world, name, persona):
    action = ACTIONS[name]
    user = request.getfixturevalue(persona)
    assert action.predicate(world, user) == (persona in action.allowed), (name, persona)


INTERFACES = [
    (name, interface)
    for name, action in sorted(ACTIONS.items())
    for interface in ("page", "api", "admin")
    if getattr(action, interface) is not None
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "interface"), INTERFACES)
def test_every_interface_answers_as_the_policy(request, world, client, name, interface, persona):
    action = ACTIONS[name]
    user = request.getfixturevalue(persona)
    if interface == "api":
        caller = APIClient()
        caller.force_authenticate(user)
    else:
        caller = client
        caller.force_login(user)
    before = Event.objects.filter(verb=action.verb).count()
    response = getattr(action, interface)(caller, world, user)
    went_through = Event.objects.filter(verb=action.verb).count() > before
    where = f"{name} on the {interface} as {persona}: {response.status_code}"
    allowed = action.allowed & STAFF if interface == "admin" else action.allowed
    if persona in allowed:
        assert went_through, where + (
            f" {getattr(response, 'content', b'')[:600]!r}" if response.status_code >= 400 else ""
        )
        assert response.status_code < 400, where
    else:
        assert not went_through, where
        if interface == "admin" and not user.is_staff:
            assert response.status_code == 302 and "/login/" in response["Location"], where
        elif interface == "admin":
            assert response.status_code in (302, 403), where
        else:
            assert response.status_code in (403, 404), where


@pytest.mark.parametrize("persona", PERSONAS)
def test_promoting_is_asked_of_the_policy(request, world, persona):
    user = request.getfixturevalue(persona)
    assert policy.can_promote(user, world["release"]) == (persona in PROMOTE_ALLOWED)
    api = APIClient()
    api.force_authenticate(user)
    response = api.post(
        reverse("release-promote", args=[world["release"].pk]),
        {"stage": "beta", "build": "1.0.0"},
        format="json",
    )
    # Allowed callers reach the gate, which is closed here (no sign-off yet): 409.
    expected = {409} if persona in PROMOTE_ALLOWED else {403, 404}
    assert response.status_code in expected, (persona, response.status_code)


# ---------------------------------------------------------------------------- coverage


def _api_posts(resolver=None, prefix=""):
    """The name of every API route that answers POST."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_posts(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/") and pattern.name:
            callback = pattern.callback
            mapping = getattr(callback, "actions", None)
            view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            if (mapping and "post" in mapping) or (
                mapping is None and view_class is not None and hasattr(view_class, "post")
            ):
                yield pattern.name


def test_every_workflow_route_and_admin_action_has_a_rule():
    named = {
        interface: {
            getattr(action, interface).route
            for action in ACTIONS.values()
            if getattr(action, interface) is not None
            and hasattr(getattr(action, interface), "route")
        }
        for interface in ("page", "api", "admin")
    }
    page_posts = {name for name, rule in PAGE_ROUTES.items() if rule.method == "post"}
    missing = page_posts - named["page"] - set(NOT_WORKFLOW_PAGES)
    assert not missing, f"page actions without a rule in ACTIONS: {sorted(missing)}"
    api_posts = set(_api_posts())
    missing = api_posts - named["api"] - set(NOT_WORKFLOW_API)
    assert not missing, f"API actions without a rule in ACTIONS: {sorted(missing)}"
    admin_actions = set()
    for model_admin in admin.site._registry.values():
        admin_actions |= {action.name for action in model_admin._get_base_actions()}
    missing = admin_actions - named["admin"] - set(NOT_WORKFLOW_ADMIN)
    assert not missing, f"admin actions without a rule in ACTIONS: {sorted(missing)}"


def test_a_tester_named_as_signer_builds_no_evidence_package_anywhere(world, client, tester):
    """A tester who is a named signer holds a stake in the release and sees its audit
    trail, but building an evidence package is for QA leads and stakeholders: the page
    let them (302, package made) while the API refused (403)."""
    PlanSignoffRoleFactory(plan=world["plan"], role="compliance", signers=[tester])
    assert not policy.can_build_evidence_package(tester, world["release"])
    client.force_login(tester)
    page = client.post(reverse("uat:evidence_package_create", kwargs=release_id(world)))
    api = APIClient()
    api.force_authenticate(tester)
    answer = api.post(reverse("release-evidence-package", args=[world["release"].pk]))
    assert (page.status_code, answer.status_code) == (403, 403)
    assert not Event.objects.filter(verb="evidence_package.requested").exists()
