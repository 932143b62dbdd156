"""Who gets what, on every route of the site except the admin and the API.

ONE test, parametrised over every named URL pattern (found by walking the resolver)
and every persona. A route without an entry in ``ROUTES`` fails it: adding a page means
saying who may see it. To add a route, add one entry: how to build its URL arguments
from the ``world`` below, the method to call it with, and the status each persona gets.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.middleware import OPEN_VIEWS
from accounts.models import Invitation, Role
from reports.evidence_packages import evidence_package_build_now
from reports.models import EvidencePackage
from tests.factories import (
    AcceptanceReportFactory,
    DefectFactory,
    EvidenceFactory,
    ExecutionFactory,
    InvitationFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    RequirementFactory,
    StepResultFactory,
    UserFactory,
    WaiverFactory,
)

PERSONAS = ("lead", "tester", "beta_tester", "stakeholder", "pipeline", "outsider", "anonymous")
SKIPPED_PREFIXES = ("admin/", "api/")
INVITATION_SECRET = "route-test-invitation-secret"


def expect(default: int = 404, anonymous: int = 302, **by_persona: int) -> dict[str, int]:
    """The status per persona: ``default`` for the signed-in ones not named, and
    ``anonymous`` (sent to sign in) for someone not signed in."""
    statuses = dict.fromkeys(PERSONAS, default)
    return {**statuses, "anonymous": anonymous, **by_persona}


@dataclass(frozen=True)
class Rule:
    expect: dict[str, int]
    kwargs: Callable[[dict], dict] = field(default=lambda world: {})
    method: str = "get"


def run(world) -> dict:
    return {"uuid": world["run"].uuid}


def plan(world) -> dict:
    return {"plan_id": world["run"].plan_id}


def release(world) -> dict:
    return {"release_id": world["run"].plan.release_id}


ROUTES: dict[str, Rule] = {
    "home": Rule(expect(default=302)),
    # Getting in: public pages.
    "accounts:login": Rule(expect(default=302, anonymous=200)),
    "accounts:logout": Rule(expect(default=302), method="post"),
    "accounts:password_reset": Rule(expect(default=200, anonymous=200)),
    "accounts:password_reset_done": Rule(expect(default=200, anonymous=200)),
    "accounts:password_reset_confirm": Rule(
        expect(default=200, anonymous=200),
        kwargs=lambda world: {"uidb64": "MQ", "token": "not-a-token"},
    ),
    "accounts:password_reset_complete": Rule(expect(default=200, anonymous=200)),
    "accounts:invitation_accept": Rule(
        expect(default=200, anonymous=200), kwargs=lambda world: {"secret": INVITATION_SECRET}
    ),
    "accounts:invitation_new": Rule(expect(lead=200)),
    # Two-factor authentication: everyone signed in manages their own. Nobody here has
    # enrolled: the code step has nothing to ask and moves on, the backup codes were
    # never made (back to the security page), and posting a change has nothing to change.
    "accounts:two_factor_verify": Rule(expect(default=302)),
    "accounts:security": Rule(expect(default=200)),
    "accounts:two_factor_setup": Rule(expect(default=200)),
    "accounts:two_factor_backup_codes": Rule(expect(default=302)),
    "accounts:two_factor_backup_codes_regenerate": Rule(expect(default=302), method="post"),
    "accounts:two_factor_disable": Rule(expect(default=302), method="post"),
    # The tester's work.
    "uat:inbox": Rule(expect(lead=200, tester=200, beta_tester=200, stakeholder=200)),
    "uat:next_case": Rule(expect(lead=302, tester=302, beta_tester=302, stakeholder=302)),
    "uat:execution": Rule(expect(lead=200, tester=200, stakeholder=200), kwargs=run),
    # Posted empty without htmx, the draft endpoint goes back to the page.
    "uat:execution_draft": Rule(
        expect(lead=403, tester=302, stakeholder=403), kwargs=run, method="post"
    ),
    "uat:evidence_upload": Rule(
        expect(lead=403, tester=302, stakeholder=403), kwargs=run, method="post"
    ),
    "uat:evidence": Rule(
        expect(lead=200, tester=200, stakeholder=200),
        kwargs=lambda world: {"uuid": world["run"].uuid, "pk": world["evidence"].pk},
    ),
    "uat:defect_new": Rule(expect(lead=403, tester=200, stakeholder=403), kwargs=run),
    # Defects.
    "uat:my_defects": Rule(expect(lead=200, tester=200, beta_tester=200, stakeholder=200)),
    "uat:defect_list": Rule(expect(lead=200)),
    "uat:defect": Rule(
        expect(lead=200, tester=200, stakeholder=200),
        kwargs=lambda world: {"pk": world["defect"].pk},
    ),
    "uat:defect_transition": Rule(
        # Posted empty: no status to move to, a 400 that says so (the page, kept).
        expect(lead=400, tester=403, stakeholder=403),
        kwargs=lambda world: {"pk": world["defect"].pk},
        method="post",
    ),
    # Comments: whoever sees the defect and is internal staff, or its reporter. Posted
    # empty, the form says what is missing.
    "uat:defect_comment": Rule(
        expect(lead=400, tester=400, stakeholder=400),
        kwargs=lambda world: {"pk": world["defect"].pk},
        method="post",
    ),
    # The audit trail and the evidence package: QA leads and the release's stakeholders.
    "uat:release_audit": Rule(expect(lead=200, stakeholder=200), kwargs=release),
    "uat:evidence_package_create": Rule(
        expect(lead=302, stakeholder=302), kwargs=release, method="post"
    ),
    "uat:evidence_package_download": Rule(
        expect(lead=200, stakeholder=200),
        kwargs=lambda world: {"package_uuid": world["package"].uuid},
    ),
    # Release dashboards and acceptance reports: QA leads and the release's stakeholders.
    "reports:index": Rule(expect(lead=200, stakeholder=200)),
    # A release's page: whoever sees the release (QA leads, its stakeholders).
    "reports:release": Rule(expect(lead=200, stakeholder=200), kwargs=release),
    # What waits for a signature: stakeholders (the role) only.
    "reports:waiting": Rule(expect(stakeholder=200)),
    "reports:dashboard": Rule(expect(lead=200, stakeholder=200), kwargs=plan),
    "reports:report_status": Rule(expect(lead=200, stakeholder=200), kwargs=plan),
    "reports:report_request": Rule(expect(lead=302, stakeholder=403), kwargs=plan, method="post"),
    "reports:requirement": Rule(
        expect(lead=200, stakeholder=200),
        kwargs=lambda world: {
            "plan_id": world["run"].plan_id,
            "requirement_id": world["requirement"].pk,
        },
    ),
    "reports:report": Rule(
        expect(lead=200, stakeholder=200), kwargs=lambda world: {"uuid": world["report"].uuid}
    ),
    "reports:report_pdf": Rule(
        expect(lead=200, stakeholder=200), kwargs=lambda world: {"uuid": world["report"].uuid}
    ),
    "reports:report_signed_pdf": Rule(
        expect(lead=200, stakeholder=200), kwargs=lambda world: {"uuid": world["report"].uuid}
    ),
    # Signing: only a named signer of one of the plan's required roles; a QA lead sees the
    # report but holds no role.
    "reports:report_sign": Rule(
        expect(lead=403, stakeholder=200), kwargs=lambda world: {"uuid": world["report"].uuid}
    ),
    # Everyone with a role sets their own email preferences.
    "reports:email_settings": Rule(expect(lead=200, tester=200, beta_tester=200, stakeholder=200)),
    # Waivers: QA leads and stakeholders see them; only stakeholders grant and revoke.
    "uat:release_waivers": Rule(expect(lead=200, stakeholder=200), kwargs=release),
    "uat:waiver_grant": Rule(
        expect(lead=403, stakeholder=400),  # posted empty: the form says what is missing
        kwargs=lambda world: {
            "release_id": world["run"].plan.release_id,
            "defect_id": world["defect"].pk,
        },
        method="post",
    ),
    "uat:waiver_revoke": Rule(
        expect(lead=403, stakeholder=302),
        kwargs=lambda world: {
            "release_id": world["run"].plan.release_id,
            "waiver_id": world["waiver"].pk,
        },
        method="post",
    ),
    # Operations: load balancers ask without signing in.
    "healthz": Rule(expect(default=200, anonymous=200)),
}


def route_names(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """Every named pattern under the root resolver, with its namespace, skipping the
    admin and the API (they have their own permission tests)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from route_names(pattern, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


ALL_ROUTES = sorted(set(route_names()) | set(ROUTES))


@pytest.fixture(name="world")  # named, so other modules may import it under another name
def world(tester, beta_tester, stakeholder, lead):
    """A plan the stakeholder holds a stake in, where the tester failed a case, reported
    a defect with a screenshot; the beta tester has an assignment of their own."""
    plan = PlanFactory()
    plan.stakeholders.add(stakeholder)
    run = ExecutionFactory(plan=plan, tester=tester, in_progress=True)
    StepResultFactory(execution=run, position=1, status="failed", actual_result="Error")
    ExecutionFactory(plan=plan, tester=beta_tester)
    defect = DefectFactory(release=plan.release, reported_by=tester)
    defect.executions.add(run)
    InvitationFactory(token_hash=Invitation.hash_token(INVITATION_SECRET), invited_by=lead)
    requirement = RequirementFactory(product=plan.release.product)
    run.case.requirements.add(requirement)
    plan.cases.add(run.case)
    PlanSignoffRoleFactory(plan=plan, role="business_owner", signers=[stakeholder])
    report = AcceptanceReportFactory(plan=plan, ready=True)
    report.pdf.save("report.pdf", ContentFile(b"%PDF-1.7 route test"))
    package = EvidencePackage.objects.create(release=plan.release, requested_by=lead)
    evidence_package_build_now(package_id=package.pk)
    return {
        "run": run,
        "defect": defect,
        "evidence": EvidenceFactory(execution=run),
        "package": package,
        "requirement": requirement,
        "report": report,
        "waiver": WaiverFactory(defect=DefectFactory(release=plan.release), granted_by=stakeholder),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", ALL_ROUTES)
def test_every_route_answers_each_persona_as_its_rule_says(client, request, world, name, persona):
    assert name in ROUTES, f"{name} has no rule: add an entry to ROUTES in {__file__}."
    assert name in set(route_names()), f"{name} is in ROUTES but no such route exists."
    rule = ROUTES[name]
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    url = reverse(name, kwargs=rule.kwargs(world))
    response = getattr(client, rule.method)(url)
    assert response.status_code == rule.expect[persona], (
        f"{rule.method.upper()} {url} as {persona}: {response.status_code}, "
        f"expected {rule.expect[persona]}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", ALL_ROUTES)
def test_a_sign_in_that_owes_its_code_reaches_only_the_code_step(client, world, name):
    """Deny by default: someone enrolled in two-factor who gave only the password is sent
    to the code step from every route but the ones that settle it or need no sign-in."""
    client.force_login(UserFactory(roles=[Role.TESTER], two_factor=True))
    rule = ROUTES[name]
    response = getattr(client, rule.method)(reverse(name, kwargs=rule.kwargs(world)))
    sent_to_code_step = response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:two_factor_verify") + "?"
    )
    assert sent_to_code_step == (name not in OPEN_VIEWS | {"accounts:two_factor_verify"})
