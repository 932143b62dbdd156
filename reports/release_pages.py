"""The pages a person finds their way by: a release's page (its plans, the records kept
of it, and the gate command a pipeline runs) and *Waiting for my signature*. Who may
see and do what is asked of ``uat.access`` and ``uat.policy``; which reports wait for a
signature, of ``reports.signoffs`` (on ``reports.currency``)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from uat.models import Release
from uat.policy import audit_releases, can_build_evidence_package

from .gate import gate_targets
from .navigation import navigation
from .signoffs import reports_awaiting
from .views import plans_for


def gate_commands(release: Release) -> list[dict]:
    """The commands a pipeline runs to ask the gate of ``release``, per stage it has a
    gate for: the shell step (``scripts/release-gate``), its curl and the manage.py
    command (the README's gate section)."""
    site = settings.SITE_URL
    commands = []
    for stage in gate_targets(release):
        commands.append(
            {
                "stage": Release.Stage(stage).label,
                "script": f"GREENLIGHT_URL={site} GREENLIGHT_TOKEN=glt_… "
                f"scripts/release-gate {release.pk} {stage}",
                "curl": f'curl --fail --header "Authorization: Token $GREENLIGHT_TOKEN" '
                f'"{site}/api/v1/releases/{release.pk}/gate/?stage={stage}"',
                "manage": f"python manage.py release_gate {release.pk} --stage {stage}",
            }
        )
    return commands


@login_required
@require_GET
def release(request, release_id: int):
    """One release: its plans and dashboards, its waivers, audit trail and evidence
    package (each linked for whoever may use it), and its id with the gate commands."""
    user = request.user
    # Results, plans and records: never a pipeline's (it reads the API's release summary).
    release = get_object_or_404(
        Release.objects.with_results_for(user).select_related("product", "owner"), pk=release_id
    )
    sees_records = audit_releases(user).filter(pk=release.pk).exists()
    context = {
        "release": release,
        "plans": list(release.plans.select_related("owner").order_by("stage", "name")),
        "sees_records": sees_records,
        "can_package": sees_records and can_build_evidence_package(user, release),
        "commands": gate_commands(release),
    }
    return render(request, "reports/release.html", context)


@login_required
@require_GET
def waiting(request):
    """The current reports the signer is named to sign and has not signed yet, and the
    releases they hold a stake in."""
    if not navigation(request.user)["waiting"]:
        raise Http404("Only stakeholders sign reports.")
    releases = {}
    for plan in plans_for(request.user).order_by("release__product__name", "-release__created_at"):
        releases.setdefault(plan.release_id, plan.release)
    context = {"awaiting": reports_awaiting(request.user), "releases": list(releases.values())}
    return render(request, "reports/waiting.html", context)
