"""The permissions each role holds, as (app_label, codename) pairs.

The data migration that creates the role groups reads this, and so does
``accounts.roles.sync_role_permissions`` which later migrations call when a model is added.
"""

LIBRARY = ["product", "release", "environment", "requirement", "case", "casestep", "caseversion"]
PLANNING = ["plan", "plansignoffrole", "cohort", "cohortmembership"]
WORK = ["execution", "stepresult", "evidence", "defect"]
RECORDS = ["event", "signoff", "waiver", "promotion"]


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
        *_perms("reports", ["view", "add"], ["acceptancereport"]),
        *_perms("accounts", ["view", "add", "change"], ["user"]),
    ],
    # Stakeholders review results and reports, sign off and waive known defects.
    "Stakeholder": [
        *_perms("uat", ["view"], [*LIBRARY, "plan", "cohort", *WORK, *RECORDS]),
        *_perms("uat", ["add"], ["signoff", "waiver"]),
        *_perms("reports", ["view"], ["acceptancereport"]),
    ],
}
# Admins hold every permission; the migration grants them all that exist.
ADMIN_ROLE = "Admin"
