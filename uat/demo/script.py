"""What happens in the demo's test rounds: the failures testers hit, the defects they
report and how the QA lead takes each one through its workflow, the runs the UAT
environment blocked, and the defects of release 2.3 that escaped to production."""

# Menu paths and names that testers read use the product's own arrows and dashes.
# ruff: noqa: RUF001

from dataclasses import dataclass

from uat.models import DefectStatus, Severity

# A step of a defect's path that is not a status: the original testers run their retests
# and pass them, which is what lets the QA lead verify the fix.
RETEST_PASSES = "retest passes"

S = DefectStatus
FIX_VERIFIED = (S.CONFIRMED, S.IN_PROGRESS, S.FIXED, RETEST_PASSES, S.VERIFIED)


@dataclass(frozen=True)
class DefectSpec:
    case: str
    step: int
    actual: str
    title: str
    severity: str
    steps_to_reproduce: str
    path: tuple[str, ...] = ()
    # Where the defect goes once the next round of fixes reaches UAT, after this round.
    later: tuple[str, ...] = ()
    note: str = ""
    external_key: str = ""
    # The business owner accepts the open defect for the release with known risk: why.
    waiver: str = ""


@dataclass(frozen=True)
class BlockedSpec:
    case: str
    step: int
    actual: str
    notes: str


@dataclass(frozen=True)
class EscapedSpec:
    title: str
    severity: str
    reporter: str
    steps_to_reproduce: str
    path: tuple[str, ...]
    note: str = ""
    external_key: str = ""


def tracker_url(key: str) -> str:
    return f"https://jira.acme.example/browse/{key}" if key else ""


ALPHA_DEFECTS = [
    DefectSpec(
        "CRM-C004",
        2,
        "No warning appeared; saving created a second customer 'Northwind Traders Ltd'.",
        "Duplicate check misses company names with a legal suffix (Ltd, GmbH, Inc.)",
        Severity.MAJOR,
        "1. Open Customers › New customer.\n"
        "2. Enter 'Northwind Traders Ltd' and the website northwind.example.\n"
        "3. Click Save.\n"
        "Expected: Northwind Traders is offered as a possible duplicate.\n"
        "Actual: a second customer is created without a warning.",
        path=(*FIX_VERIFIED, S.CLOSED),
        external_key="ACME-2291",
    ),
    DefectSpec(
        "CRM-C022",
        2,
        "The board shows €412,400 in Proposal; the list grouped by stage sums to €400,000. "
        "The difference is two lost opportunities.",
        "Pipeline board counts lost opportunities in the Proposal total",
        Severity.CRITICAL,
        "1. Open the Pipeline board filtered to team North and note the Proposal total.\n"
        "2. Open Opportunities with the same filter, grouped by stage.\n"
        "Expected: the totals match.\n"
        "Actual: the board is higher by the amounts of opportunities marked lost from "
        "Proposal.",
        path=FIX_VERIFIED,
        external_key="ACME-2304",
    ),
    DefectSpec(
        "CRM-C039",
        3,
        "The History tab of Northwind Traders has no entry for the merge.",
        "Merging customers leaves no entry in the history",
        Severity.MINOR,
        "1. Import a file containing 'Northwind Traders Ltd'.\n"
        "2. Merge the duplicate into Northwind Traders.\n"
        "3. Open the History tab of Northwind Traders.\n"
        "Expected: an entry records the merge. Actual: no entry.",
        path=(S.CONFIRMED, S.IN_PROGRESS),
        later=(S.FIXED, RETEST_PASSES, S.VERIFIED),
        external_key="ACME-2317",
    ),
    DefectSpec(
        "CRM-C026",
        2,
        "Yesterday's task shows '0 days overdue' and is not highlighted.",
        "Task due yesterday shows as '0 days overdue'",
        Severity.TRIVIAL,
        "1. Create a task due yesterday.\n2. Open Home and look at the Overdue section.",
        path=(S.REJECTED,),
        note="Works as designed: the tester's profile time zone was UTC-10, where the task "
        "was not overdue yet. Test data corrected.",
    ),
    DefectSpec(
        "CRM-C011",
        3,
        "On page 2 the Region filter was gone and the list showed every healthcare customer.",
        "Customer list loses the Region filter on page 2",
        Severity.MINOR,
        "1. Open Customers and filter Industry 'Healthcare' and Region 'Benelux'.\n"
        "2. Go to page 2.\n"
        "Expected: both filters still apply. Actual: only the Industry filter applies.",
        path=(S.CONFIRMED, S.DEFERRED),
        note="Deferred to 2.5; workaround: set the page size to 100.",
        external_key="ACME-2322",
    ),
]

ALPHA_BLOCKED = [
    BlockedSpec(
        "CRM-C032",
        1,
        "The UAT test tools could not backdate a case, so no case had breached its SLA.",
        "Blocked by the UAT environment, not by the CRM; the test tools are being fixed.",
    ),
]

BETA_DEFECTS = [
    DefectSpec(
        "CRM-C029",
        3,
        "The reply arrived, but its subject is 'Billing – refund in progress' without the "
        "case number.",
        "Replies sent from a case have no case number in the subject",
        Severity.MAJOR,
        "1. Open a support case and reply with the template 'Billing – refund in progress'.\n"
        "2. Open the contact's mailbox in the UAT mail catcher.\n"
        "Expected: the subject starts with the case number. Actual: it does not, so the "
        "customer's answer opens a new case.",
        path=(S.CONFIRMED,),
        waiver="Accepted for 2.4: agents type the case number into the subject until the "
        "fix in 2.4.1; the support team has been told.",
    ),
    DefectSpec(
        "CRM-C031",
        2,
        "The case closed, but the SLA result shows 'Breached' although the first response "
        "was sent after 40 minutes.",
        "Closing a case marks its SLA breached when the response was on time",
        Severity.CRITICAL,
        "1. Open a High priority case and reply within the first hour.\n"
        "2. Close it with the resolution 'Refund issued'.\n"
        "Expected: SLA result 'Met'. Actual: 'Breached'.",
        path=FIX_VERIFIED,
        external_key="ACME-2351",
    ),
    DefectSpec(
        "CRM-C048",
        3,
        "Sales activity for March dropped from 14 calls to 12 after the erasure.",
        "Erasing a contact removes their calls from the sales activity report",
        Severity.CRITICAL,
        "1. Run Reports › Sales activity for March and note the calls.\n"
        "2. Erase the contact Andrew Fuller.\n"
        "3. Run the report again.\n"
        "Expected: the same counts. Actual: his calls are no longer counted.",
        path=FIX_VERIFIED,
        external_key="ACME-2356",
    ),
    DefectSpec(
        "CRM-C033",
        3,
        "The report total is €10,000 lower than the board's: the report leaves out the "
        "opportunity in GBP.",
        "Pipeline report leaves out opportunities in other currencies",
        Severity.CRITICAL,
        "1. Create an opportunity in GBP for team North.\n"
        "2. Run Reports › Pipeline for this quarter and team North.\n"
        "3. Compare with the Pipeline board.\n"
        "Expected: the same totals. Actual: the report ignores the GBP opportunity.",
        path=(*FIX_VERIFIED, S.CLOSED),
        external_key="ACME-2361",
    ),
    DefectSpec(
        "CRM-C013",
        2,
        "Saving refused the duration '15' with 'Enter a duration as hh:mm'.",
        "Call duration accepts only hh:mm, not minutes",
        Severity.MINOR,
        "1. Log a call and enter 15 as its duration.\n2. Save.",
        path=(S.CONFIRMED, S.IN_PROGRESS, S.FIXED),
        external_key="ACME-2340",
    ),
    DefectSpec(
        "CRM-C045",
        1,
        "The email starts with 'Dear {{ first_name }}' instead of 'Dear Laura'.",
        "Email template placeholders are not filled in",
        Severity.MAJOR,
        "1. Open a contact and click Email.\n2. Choose the template 'Meeting follow-up'.",
        path=(S.CONFIRMED, S.IN_PROGRESS),
        waiver="Accepted for 2.4: the template is used by few customers, who fill in the "
        "name by hand until 2.4.1.",
        external_key="ACME-2358",
    ),
    DefectSpec(
        "CRM-C036",
        2,
        "Amounts in the CSV use a decimal comma ('46500,00') for my German profile, so our "
        "spreadsheet reads them as text.",
        "CSV export formats amounts with the user's locale",
        Severity.TRIVIAL,
        "1. Set your profile language to German.\n2. Export the pipeline report to CSV.",
    ),
    DefectSpec(
        "CRM-C021",
        1,
        "The Reason list does not offer 'No budget', which is our most common reason.",
        "'No budget' is missing from the lost reasons",
        Severity.MINOR,
        "1. Open an open opportunity.\n2. Click 'Mark lost' and open the Reason list.",
        path=(S.REJECTED,),
        note="Not a defect: lost reasons are configured per company under Settings › Sales, "
        "where 'No budget' can be added.",
    ),
]

BETA_BLOCKED = [
    BlockedSpec(
        "CRM-C038",
        1,
        "The link to customers_sample.csv returns 'Access denied' for beta testers, so there "
        "was no file to upload.",
        "Waiting for the QA lead to share the sample file with the beta cohort.",
    ),
    BlockedSpec(
        "CRM-C028",
        1,
        "The UAT mailbox rejected my email with 'Relay access denied'; no case was created.",
        "The UAT mail server accepts mail from Acme's domain only.",
    ),
]

ESCAPED_DEFECTS = [
    EscapedSpec(
        "Customer export garbles accented characters ('Société Générale' becomes "
        "'Soci?t? G?n?rale')",
        Severity.MINOR,
        "emma.novak@example.com",
        "1. Export a customer list containing accented names to CSV.\n"
        "2. Open the file in a spreadsheet.",
        path=(S.CONFIRMED, S.IN_PROGRESS, S.FIXED, S.CLOSED),
        external_key="ACME-2188",
    ),
    EscapedSpec(
        "Pipeline board double-counts opportunities moved between teams",
        Severity.MAJOR,
        "owner@example.com",
        "1. Move an open opportunity from team North to team South.\n"
        "2. Open the Pipeline board for all teams.\n"
        "Actual: the amount is counted in both teams' totals.",
        path=(S.CONFIRMED, S.IN_PROGRESS, S.FIXED, S.CLOSED),
        external_key="ACME-2203",
    ),
    EscapedSpec(
        "Task reminders are sent twice on the night the clocks change",
        Severity.TRIVIAL,
        "tom.harris@example.com",
        "Tasks due on the last Sunday of October received two reminder emails.",
        path=(S.CONFIRMED, S.DEFERRED),
        note="Deferred: happens twice a year and does no harm.",
    ),
]
