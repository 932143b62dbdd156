"""The permissions each role holds, as (app_label, codename) pairs.

``sync_roles`` makes the groups match this table. The data migration that creates the
roles runs it, and a later migration that adds a model runs it again after changing
the table, so the groups and this file never drift apart.
"""

from django.contrib.auth.management import create_permissions

LIBRARY = ["product", "release", "environment", "requirement", "case", "casestep", "caseversion"]
PLANNING = ["plan", "plansignoffrole", "cohort", "cohortmembership"]
WORK = ["execution", "stepresult", "evidence", "defect"]
RECORDS = ["event", "waiver"]
SIGNING = ["signoff", "promotion"]  # in the reports app


def _perms(app: str, actions: list[str], models: list[str]) -> list[tuple[str, str]]:
    return [(app, f"{action}_{model}") for model in models for action in actions]


ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    # Testers execute their assignments and report defects; they see the library they run.
    "Tester": [
        *_perms("uat", ["view"], [*LIBRARY, "plan", "cohort", *WORK]),
        *_perms("uat", ["change"], ["execution"]),
        *_perms("uat", ["add", "change"], ["stepresult"]),
        *_perms("uat", ["add"], ["evidence", "defect"]),
    ],
    # QA leads run UAT from the admin: the library, plans, cohorts, work and reports.
    # Signed and audit records stay read-only; user accounts minus their permissions.
    "QA lead": [
        *_perms("uat", ["view", "add", "change", "delete"], [*LIBRARY, *PLANNING]),
        *_perms("uat", ["view", "add", "change"], WORK),
        *_perms("uat", ["delete"], ["evidence"]),
        *_perms("uat", ["view"], RECORDS),
        # Comments are added through their service (the defect page, the API); the admin
        # shows them read-only.
        *_perms("uat", ["view"], ["defectcomment"]),
        *_perms("reports", ["view"], SIGNING),
        *_perms("reports", ["add"], ["promotion"]),
        *_perms("reports", ["view", "add"], ["acceptancereport", "evidencepackage"]),
        *_perms("reports", ["view"], ["gatestate"]),
        *_perms("reports", ["view", "add", "change", "delete"], ["webhook"]),
        *_perms("reports", ["view"], ["emaildelivery", "webhookdelivery"]),
        *_perms("accounts", ["view", "add", "change"], ["user"]),
        *_perms("accounts", ["view", "add", "change"], ["apitoken", "invitation"]),
    ],
    # Stakeholders review results and reports, sign off and waive known defects.
    "Stakeholder": [
        *_perms("uat", ["view"], [*LIBRARY, "plan", "cohort", *WORK, *RECORDS]),
        *_perms("reports", ["view"], SIGNING),
        *_perms("uat", ["add"], ["waiver"]),
        *_perms("reports", ["add"], ["signoff"]),
        *_perms("reports", ["view"], ["acceptancereport"]),
        *_perms("reports", ["view", "add"], ["evidencepackage"]),
    ],
    # Machine accounts of deploy pipelines and feature-flag systems: they read every
    # release and its gate and promote a release the gate lets through, nothing else
    # (no plans, reports or sign-offs: the gate's answer names what it relied on).
    "Release pipeline": [
        *_perms("uat", ["view"], ["release"]),
        *_perms("reports", ["add"], ["promotion"]),
    ],
}
# Admins hold every permission there is.
ADMIN_ROLE = "Admin"


def sync_roles(apps, schema_editor=None) -> None:
    """Create or update the role groups, for use in ``migrations.RunPython``."""
    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        if getattr(app_config, "models_module", None) is None:  # a migration's app state
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None
        else:
            create_permissions(app_config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    by_key = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type")
    }

    def exists(app_label: str, codename: str) -> bool:
        try:
            apps.get_model(app_label, codename.split("_", 1)[1])
        except LookupError:
            return False
        return True

    for name, table in ROLE_PERMISSIONS.items():
        # A model added by a later migration gets its permissions when that migration
        # runs this again; until then its rows are skipped.
        pairs = [pair for pair in table if exists(*pair)]
        missing = sorted(set(pairs) - by_key.keys())
        if missing:
            raise RuntimeError(f"Permissions missing for role {name}: {missing}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([by_key[pair] for pair in pairs])
    admin, _ = Group.objects.get_or_create(name=ADMIN_ROLE)
    admin.permissions.set(by_key.values())
