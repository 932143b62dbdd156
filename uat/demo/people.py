"""The people of the demo: the five logins printed by `make run`, and the sales reps,
support agents and customer users who make up the cohorts."""

from dataclasses import dataclass

from accounts.models import Role


@dataclass(frozen=True)
class Person:
    email: str
    full_name: str
    role: Role
    about: str
    is_external: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    # Further roles: the QA lead also signs as QA Lead, so the administrator made her a
    # stakeholder too (signers hold the Stakeholder role).
    also: tuple[Role, ...] = ()


LEAD = "lead@example.com"
ALPHA = "alpha@example.com"
BETA = "beta@example.com"
OWNER = "owner@example.com"
ADMIN = "admin@example.com"

DEMO_LOGINS = [
    Person(
        LEAD,
        "Maya Lindqvist",
        Role.QA_LEAD,
        "QA lead: plans, cohorts, triage; signs as QA Lead",
        is_staff=True,
        also=(Role.STAKEHOLDER,),
    ),
    Person(ALPHA, "Daniel Okafor", Role.TESTER, "internal tester (sales rep), alpha cohort"),
    Person(
        BETA,
        "Hannah Becker",
        Role.TESTER,
        "external tester (customer user), beta cohort",
        is_external=True,
    ),
    Person(OWNER, "Robert Chen", Role.STAKEHOLDER, "stakeholder: business owner, signs off"),
    Person(
        ADMIN,
        "Sam Patel",
        Role.ADMIN,
        "administrator: everything",
        is_staff=True,
        is_superuser=True,
    ),
]

# Acme's own staff: the alpha cohort, with alpha@example.com.
INTERNAL_TESTERS = [
    Person("lucia.fernandez@example.com", "Lucía Fernández", Role.TESTER, "sales rep"),
    Person("marco.rossi@example.com", "Marco Rossi", Role.TESTER, "sales rep"),
    Person("tom.harris@example.com", "Tom Harris", Role.TESTER, "support agent"),
    Person("aisha.bello@example.com", "Aisha Bello", Role.TESTER, "support agent"),
    Person("emma.novak@example.com", "Emma Novak", Role.TESTER, "support team lead"),
]

# Users at Acme's customers who run the beta: the beta cohort, with beta@example.com.
EXTERNAL_TESTERS = [
    Person(
        "jonas.weber@adventure-works.example",
        "Jonas Weber",
        Role.TESTER,
        "account manager at Adventure Works",
        is_external=True,
    ),
    Person(
        "claire.dubois@litware.example",
        "Claire Dubois",
        Role.TESTER,
        "sales rep at Litware",
        is_external=True,
    ),
    Person(
        "olivia.brown@litware.example",
        "Olivia Brown",
        Role.TESTER,
        "service desk agent at Litware",
        is_external=True,
    ),
    Person(
        "kenji.watanabe@blueyonder.example",
        "Kenji Watanabe",
        Role.TESTER,
        "sales operations at Blue Yonder Airlines",
        is_external=True,
    ),
    Person(
        "mateo.silva@blueyonder.example",
        "Mateo Silva",
        Role.TESTER,
        "customer care agent at Blue Yonder Airlines",
        is_external=True,
    ),
]

EVERYONE = [*DEMO_LOGINS, *INTERNAL_TESTERS, *EXTERNAL_TESTERS]
