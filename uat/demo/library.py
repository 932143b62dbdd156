"""The Acme CRM library: the business requirements of release 2.4 and the cases that cover
them, written the way a QA lead would write them for sales reps and support agents."""

# Menu paths and names that testers read use the product's own arrows and dashes.
# ruff: noqa: RUF001

from dataclasses import dataclass

from uat.models import Case, Priority

CRITICAL, HIGH, MEDIUM, LOW = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW
DRAFT, READY, RETIRED = Case.Status.DRAFT, Case.Status.READY, Case.Status.RETIRED


@dataclass(frozen=True)
class RequirementSpec:
    key: str
    title: str
    criticality: str
    acceptance: str


@dataclass(frozen=True)
class CaseSpec:
    key: str
    title: str
    priority: str
    requirements: tuple[str, ...]
    objective: str
    steps: tuple[tuple[str, str], ...]
    preconditions: str = ""
    status: str = READY


SALES_REP = (
    "Signed in to Acme CRM UAT as a sales representative of team North; the standard UAT "
    "data set (Northwind Traders, Contoso Pharmaceuticals, Fabrikam Retail) is loaded."
)
SUPPORT_AGENT = (
    "Signed in to Acme CRM UAT as a support agent; the standard UAT data set is loaded and "
    "the UAT mail catcher is open in another tab."
)
MANAGER = "Signed in to Acme CRM UAT as the sales manager of team North."


REQUIREMENTS = [
    RequirementSpec(
        "CRM-R01",
        "Manage customer accounts",
        CRITICAL,
        "A sales rep can create, view, edit and deactivate a customer account with company "
        "name, industry, address, phone and account owner. Mandatory fields are validated "
        "before saving, likely duplicates are flagged, and every change is kept in the "
        "account's history.",
    ),
    RequirementSpec(
        "CRM-R02",
        "Manage the contacts of a customer",
        HIGH,
        "A user can add and edit the people who work at a customer (name, job title, email, "
        "phone), mark one as the primary contact, and mark a contact who left the company "
        "without losing their history.",
    ),
    RequirementSpec(
        "CRM-R03",
        "Find customers and contacts quickly",
        HIGH,
        "Searching by name, email or phone returns matching customers and contacts within "
        "two seconds. The customer list filters by owner, industry, region and status, and "
        "the filters survive paging.",
    ),
    RequirementSpec(
        "CRM-R04",
        "Track customer interactions",
        CRITICAL,
        "Calls, emails, meetings and notes can be logged against a customer and its "
        "contacts. Each entry records who, when, channel and outcome and appears on the "
        "customer's timeline newest first. Authors may edit an entry for 24 hours; nobody "
        "may delete one.",
    ),
    RequirementSpec(
        "CRM-R05",
        "Manage the sales pipeline",
        CRITICAL,
        "A sales rep can create an opportunity with amount, currency, stage and expected "
        "close date, move it through the pipeline stages, and mark it won or lost with a "
        "reason. The pipeline board's totals per stage match the opportunities listed.",
    ),
    RequirementSpec(
        "CRM-R06",
        "Schedule follow-up tasks and reminders",
        MEDIUM,
        "A user can create a task linked to a customer, opportunity or support case, with a "
        "due date and an assignee. Assignees are reminded on the due date, and overdue tasks "
        "are highlighted on their home page.",
    ),
    RequirementSpec(
        "CRM-R07",
        "Handle customer support cases",
        CRITICAL,
        "A support agent can open a case from a phone call or an inbound email, set its "
        "priority and category, assign it, reply to the customer from the case and close it "
        "with a resolution. The SLA clock starts when the case is opened and pauses while "
        "the case waits on the customer; breached cases can be escalated.",
    ),
    RequirementSpec(
        "CRM-R08",
        "Generate sales and service reports",
        HIGH,
        "Managers can run the pipeline, sales activity and support SLA reports for a date "
        "range, team or owner. Every figure agrees with the records behind it and can be "
        "drilled into, and every report exports to CSV and PDF.",
    ),
    RequirementSpec(
        "CRM-R09",
        "Import and export customer data",
        HIGH,
        "A CSV file of up to 10,000 customers can be imported after a column-mapping "
        "preview. Rows with errors are reported by line and not imported, likely duplicates "
        "are offered for merging, and any list can be exported with its visible columns.",
    ),
    RequirementSpec(
        "CRM-R10",
        "Control access by role",
        CRITICAL,
        "Sales reps see the accounts they own or that are shared with their team; support "
        "agents see every customer but cannot change opportunities; only administrators "
        "change roles. A user without access gets a clear message and never another "
        "team's data.",
    ),
    RequirementSpec(
        "CRM-R11",
        "Send and log customer email from the CRM",
        MEDIUM,
        "A user can email a contact from the CRM using a template. The sent email is logged "
        "on the customer's timeline automatically, and replies to it are attached to the "
        "same customer.",
    ),
    RequirementSpec(
        "CRM-R12",
        "Record consent and honour data-protection requests",
        HIGH,
        "Each contact's marketing consent is recorded with its source and date, and "
        "withdrawing it removes the contact from marketing at once. An erasure request "
        "anonymises the contact's personal data while keeping interaction counts for "
        "reporting.",
    ),
]


def _case(key, title, priority, requirements, objective, *steps, preconditions=SALES_REP, **kw):
    return CaseSpec(
        f"CRM-C{key:03d}",
        title,
        priority,
        tuple(f"CRM-R{n:02d}" for n in requirements),
        objective,
        steps,
        preconditions,
        **kw,
    )


CASES = [
    # Customer accounts
    _case(
        1,
        "Create a customer account",
        CRITICAL,
        [1],
        "A sales rep can create a customer with the mandatory fields and find it afterwards.",
        (
            "Open Customers › New customer",
            "The New customer form opens with Company name, Industry, Phone and Account owner.",
        ),
        (
            "Enter company name 'Alpine Ski House', industry 'Retail' and phone "
            "'+41 44 668 18 00'; leave yourself as account owner",
            "The fields accept the values and no error is shown.",
        ),
        ("Click Save", "The customer page opens with the confirmation 'Customer created'."),
        ("Open Customers", "Alpine Ski House appears in the list with you as the owner."),
    ),
    _case(
        2,
        "Mandatory fields are checked before a customer is saved",
        HIGH,
        [1],
        "Incomplete or invalid customer data is refused with a message next to the field.",
        ("Open Customers › New customer", "The New customer form opens."),
        (
            "Leave Company name empty and click Save",
            "The form stays open and Company name shows 'This field is required'.",
        ),
        (
            "Enter any company name and the phone '12ab', then click Save",
            "Phone shows 'Enter a valid phone number' and nothing is saved.",
        ),
        (
            "Correct the phone to '+44 20 7946 0000' and click Save",
            "The customer is created with the confirmation 'Customer created'.",
        ),
    ),
    _case(
        3,
        "Edit a customer's address and see the change in its history",
        HIGH,
        [1],
        "Changes to a customer are saved and traceable to who made them and when.",
        ("Open the customer Contoso Pharmaceuticals", "The customer page shows its address."),
        (
            "Click Edit, change the city to 'Rotterdam' and the postcode to '3011 AD', and save",
            "The page shows the new address and the confirmation 'Changes saved'.",
        ),
        (
            "Open the History tab",
            "The latest entry shows your name, the time, and the old and new address.",
        ),
    ),
    _case(
        4,
        "A likely duplicate customer is flagged before saving",
        HIGH,
        [1, 9],
        "Sales reps are warned before they create a second record for an existing customer.",
        ("Open Customers › New customer", "The New customer form opens."),
        (
            "Enter company name 'Northwind Traders Ltd' and website 'northwind.example'",
            "A warning lists the existing customer Northwind Traders as a possible duplicate.",
        ),
        (
            "Click 'Open existing'",
            "The Northwind Traders page opens and no new customer has been created.",
        ),
    ),
    _case(
        5,
        "Deactivate a customer without open opportunities",
        MEDIUM,
        [1],
        "Customers the company no longer serves leave the default lists but are kept.",
        ("Open the customer Fabrikam Retail", "The customer page shows the status Active."),
        (
            "Click More › Deactivate and confirm",
            "The status changes to Inactive with a confirmation.",
        ),
        ("Open Customers with the default filters", "Fabrikam Retail is not listed."),
        ("Set the Status filter to Inactive", "Fabrikam Retail is listed as Inactive."),
    ),
    _case(
        6,
        "A customer with open opportunities cannot be deactivated",
        MEDIUM,
        [1, 5],
        "Deactivating a customer never hides open sales work.",
        (
            "Open Contoso Pharmaceuticals, which has one open opportunity",
            "The customer page shows '1 open opportunity'.",
        ),
        (
            "Click More › Deactivate",
            "A message explains that open opportunities must be won or lost first; the "
            "status stays Active.",
        ),
        (
            "Mark the open opportunity lost, then click More › Deactivate again and confirm",
            "The customer is deactivated with a confirmation.",
        ),
    ),
    # Contacts
    _case(
        7,
        "Add a contact to a customer",
        HIGH,
        [2],
        "The people at a customer are recorded on the customer and can be found later.",
        (
            "Open Northwind Traders › Contacts › Add contact",
            "The contact form opens with Northwind Traders already filled in as the customer.",
        ),
        (
            "Enter 'Laura Callahan', job title 'Purchasing manager', her email and phone; save",
            "Laura Callahan appears in the customer's Contacts tab.",
        ),
        (
            "Open Contacts from the top menu and search 'Callahan'",
            "Laura Callahan is listed with the customer Northwind Traders.",
        ),
    ),
    _case(
        8,
        "Make a contact the primary contact",
        MEDIUM,
        [2],
        "Everyone sees at a glance whom to call first at a customer.",
        ("Open Northwind Traders › Contacts", "The customer's contacts are listed."),
        ("On Laura Callahan click 'Make primary'", "A Primary badge shows next to her name."),
        (
            "Open the customer's Summary tab",
            "Primary contact shows Laura Callahan with her phone and email.",
        ),
    ),
    _case(
        9,
        "Mark a contact who left the company",
        LOW,
        [2, 4],
        "A contact who left is hidden from daily work while their history is kept.",
        (
            "Open the contact Andrew Fuller at Northwind Traders",
            "The contact page shows two logged calls.",
        ),
        (
            "Click More › Mark as left company and confirm",
            "The contact is marked 'Left company' and no longer shows in the Contacts tab.",
        ),
        (
            "Open Northwind Traders › Timeline",
            "Both calls with Andrew Fuller are still on the timeline.",
        ),
    ),
    # Search
    _case(
        10,
        "Search customers and contacts by name, email and phone",
        HIGH,
        [3],
        "Reps find a customer from whatever detail the caller gives them.",
        (
            "In the global search type 'northw'",
            "Within two seconds Northwind Traders appears under Customers.",
        ),
        (
            "Search for 'laura.callahan@northwind.example'",
            "Laura Callahan appears under Contacts.",
        ),
        (
            "Search for the phone number '7946 0018'",
            "Northwind Traders appears under Customers.",
        ),
    ),
    _case(
        11,
        "Filter the customer list and keep the filters when paging",
        MEDIUM,
        [3],
        "Filters narrow the list reliably and are not lost when moving between pages.",
        ("Open Customers", "The first page lists 25 customers."),
        (
            "Filter Industry 'Healthcare' and Region 'Benelux'",
            "Only healthcare customers in Benelux are listed and the count above matches.",
        ),
        ("Go to page 2", "The filters still apply and show as chips above the list."),
        ("Click Clear filters", "All customers are listed again."),
    ),
    _case(
        12,
        "Search never reveals a customer of another team",
        CRITICAL,
        [3, 10],
        "Search and direct links respect account access.",
        (
            "Search for 'Tailspin'",
            "No results are shown, with the message 'No customers match'.",
        ),
        (
            "Open the link to Tailspin Toys given in the preconditions",
            "'You do not have access to this customer' is shown and no customer data is visible.",
        ),
        (
            "Run Reports › Pipeline for all teams you can see",
            "No opportunity of Tailspin Toys is included.",
        ),
        preconditions=SALES_REP + " Tailspin Toys belongs to team South and is not shared "
        "with team North; its link is https://uat.acme-crm.example/customers/4711.",
    ),
    # Interactions
    _case(
        13,
        "Log a phone call with a customer",
        CRITICAL,
        [4],
        "A call and its outcome are on the customer's timeline for the whole team.",
        (
            "Open Northwind Traders › Log activity › Call",
            "The call form opens with the date and time set to now.",
        ),
        (
            "Choose contact Laura Callahan, outcome 'Interested – send proposal', duration "
            "15 minutes, add a note; save",
            "The call appears at the top of the timeline with your name, the time and the outcome.",
        ),
        (
            "Open Laura Callahan's contact page",
            "The same call is listed in her activity.",
        ),
    ),
    _case(
        14,
        "Log a meeting with several contacts",
        HIGH,
        [4],
        "A meeting is recorded once and shows on every attendee's activity.",
        ("Open Contoso Pharmaceuticals › Log activity › Meeting", "The meeting form opens."),
        (
            "Add contacts Marta Nowak and Ravi Iyer, location 'Customer site' and the agenda "
            "notes; save",
            "The meeting appears on the timeline listing both contacts.",
        ),
        (
            "Open Marta Nowak's and then Ravi Iyer's contact page",
            "The meeting is listed in both contacts' activity.",
        ),
    ),
    _case(
        15,
        "The timeline lists interactions newest first and filters by channel",
        MEDIUM,
        [4],
        "Reps catch up on a customer quickly before a call.",
        (
            "Open Northwind Traders › Timeline",
            "Entries are listed newest first, each with channel, author and time.",
        ),
        ("Set the Channel filter to Email", "Only emails are listed."),
        ("Clear the filter", "All entries are listed again, newest first."),
    ),
    _case(
        16,
        "An activity can be edited for 24 hours and never deleted",
        MEDIUM,
        [4],
        "The interaction history stays trustworthy.",
        (
            "Open today's call and click Edit; change the outcome and save",
            "The call shows the new outcome and 'edited' next to its time.",
        ),
        (
            "Open the call from three days ago",
            "No Edit button is offered; a note says activities can be edited for 24 hours.",
        ),
        (
            "Look for a Delete action on either call",
            "Neither call offers a Delete action.",
        ),
        preconditions=SALES_REP + " You logged one call today and one three days ago "
        "(backdated with the UAT test tools).",
    ),
    _case(
        17,
        "Interaction counts on the customer summary",
        LOW,
        [4, 8],
        "The summary panel shows how often the customer was contacted recently.",
        (
            "Open Northwind Traders › Summary",
            "Calls, emails and meetings of the last 90 days and the last contact date show.",
        ),
        (
            "Log a new call and return to the Summary",
            "The call count is one higher and the last contact date is today.",
        ),
        (
            "Open the Summary of a customer without any activity",
            "The counts are 0 and the last contact date is 'Never'.",
        ),
        status=RETIRED,
    ),
    # Pipeline
    _case(
        18,
        "Create an opportunity for a customer",
        CRITICAL,
        [5],
        "A new sales opportunity is recorded with its value and appears on the pipeline.",
        (
            "Open Northwind Traders › Opportunities › New",
            "The opportunity form opens with the customer filled in and stage Qualification.",
        ),
        (
            "Enter name 'Northwind – annual renewal', amount 48,000, currency EUR and an "
            "expected close date at the end of next quarter; save",
            "The opportunity page shows the values entered and the stage Qualification.",
        ),
        (
            "Open the Pipeline board",
            "The opportunity is in the Qualification column and the column total rose by €48,000.",
        ),
    ),
    _case(
        19,
        "Move an opportunity through the pipeline stages",
        CRITICAL,
        [5],
        "Stage changes are quick to make and recorded.",
        (
            "Open the Pipeline board",
            "The columns Qualification, Proposal, Negotiation and Closed are shown.",
        ),
        (
            "Drag 'Northwind – annual renewal' from Qualification to Proposal",
            "The card moves and the opportunity page shows the stage Proposal.",
        ),
        (
            "Open the opportunity's History tab",
            "The stage change is recorded with your name and the time.",
        ),
        (
            "Set the Stage field on the opportunity page to Negotiation and save",
            "The board shows the opportunity in the Negotiation column.",
        ),
    ),
    _case(
        20,
        "Mark an opportunity won",
        CRITICAL,
        [5],
        "Closing a deal records the final amount and updates the won totals.",
        (
            "Open an opportunity in Negotiation and click 'Mark won'",
            "A dialog asks for the close date and the final amount.",
        ),
        (
            "Confirm with today's date and the amount 46,500",
            "The stage is Won, with the amount 46,500 and today as the close date.",
        ),
        (
            "Open the Pipeline board",
            "The opportunity has left the open columns and 'Won this quarter' rose by 46,500.",
        ),
    ),
    _case(
        21,
        "Mark an opportunity lost with a reason",
        HIGH,
        [5],
        "Lost deals always carry a reason the sales manager can analyse.",
        (
            "Open an open opportunity and click 'Mark lost'",
            "A dialog opens with a required Reason list.",
        ),
        (
            "Click Confirm without choosing a reason",
            "'Choose a reason' is shown and the stage does not change.",
        ),
        (
            "Choose 'Lost to competitor', enter competitor 'Globex' and confirm",
            "The stage is Lost, with the reason and the competitor shown.",
        ),
    ),
    _case(
        22,
        "Pipeline board totals match the opportunity list",
        CRITICAL,
        [5, 8],
        "Sales managers can trust the board's figures in the forecast meeting.",
        (
            "Open the Pipeline board filtered to team North",
            "Each column shows a count and a total amount.",
        ),
        (
            "Open Opportunities with the same filter, grouped by stage",
            "Each stage's sum in the list equals the board's column total.",
        ),
        (
            "Switch the display currency to USD",
            "Board and list convert with the same rate, shown in the footer of both.",
        ),
    ),
    _case(
        23,
        "Opportunities in another currency",
        MEDIUM,
        [5],
        "Deals in foreign currencies keep their amount and count towards the totals.",
        (
            "Create an opportunity of 10,000 GBP for Northwind Traders",
            "The opportunity is saved and shows £10,000.",
        ),
        (
            "Open the Pipeline board in EUR",
            "The card shows £10,000 and the column total includes its EUR equivalent at "
            "today's rate.",
        ),
        (
            "Open Opportunities grouped by currency",
            "The opportunity is listed under GBP with £10,000.",
        ),
    ),
    # Tasks
    _case(
        24,
        "Create a follow-up task from a call",
        MEDIUM,
        [6, 4],
        "Promises made on a call turn into tasks that are not forgotten.",
        (
            "Open the call logged with Laura Callahan and click 'Add follow-up'",
            "The task form opens with the customer and contact filled in.",
        ),
        (
            "Enter title 'Send proposal', due tomorrow, assigned to yourself; save",
            "The task is listed under My tasks, due tomorrow.",
        ),
        (
            "Open Northwind Traders › Tasks",
            "The task is listed and linked to the call.",
        ),
    ),
    _case(
        25,
        "Assign a task to a colleague",
        LOW,
        [6],
        "Work can be handed over within the team.",
        (
            "Create the task 'Check credit limit' for Contoso Pharmaceuticals assigned to Tom "
            "Harris",
            "The task is saved with Tom Harris as the assignee.",
        ),
        (
            "Sign in as Tom Harris and open My tasks",
            "The task is listed with the customer Contoso Pharmaceuticals.",
        ),
        (
            "As Tom Harris mark the task done, then sign in again as yourself",
            "The task shows Done, completed by Tom Harris.",
        ),
    ),
    _case(
        26,
        "Reminder on the due date and overdue tasks highlighted",
        MEDIUM,
        [6],
        "Users see what is due today and what they have missed.",
        (
            "Open Home",
            "'Due today' lists today's task, and a reminder shows in the notification menu.",
        ),
        (
            "Look at the Overdue section",
            "Yesterday's task is highlighted with '1 day overdue'.",
        ),
        (
            "Mark yesterday's task done",
            "It leaves the Overdue section and the overdue count drops by one.",
        ),
        preconditions=SALES_REP + " One open task is assigned to you due today and another "
        "was due yesterday.",
    ),
    # Support cases
    _case(
        27,
        "Open a support case from a phone call",
        CRITICAL,
        [7],
        "A caller's problem is recorded as a case with the right SLA from the first minute.",
        ("Open Service › New case", "The case form opens with Origin 'Phone'."),
        (
            "Choose Contoso Pharmaceuticals and contact Marta Nowak, category 'Billing', "
            "priority High, subject 'Invoice 10442 charged twice'",
            "The fields accept the values.",
        ),
        (
            "Click Save",
            "A case number is shown with status New and the SLA 'Respond within 4 hours'.",
        ),
        (
            "Open Contoso Pharmaceuticals › Support",
            "The new case is listed with priority High.",
        ),
        preconditions=SUPPORT_AGENT,
    ),
    _case(
        28,
        "A support case is created from an inbound email",
        HIGH,
        [7, 11],
        "Customers who email support get a case without anyone retyping their message.",
        (
            "From marta.nowak@contoso.example send an email to support@acme-uat.example with "
            "the subject 'Cannot export invoices' and a screenshot attached",
            "Within two minutes a case appears in Service › Inbox with origin Email, linked "
            "to Contoso Pharmaceuticals and Marta Nowak.",
        ),
        (
            "Open the case",
            "The email body is the first message and the screenshot is listed as an attachment.",
        ),
        (
            "Look at the case's SLA clock",
            "The SLA started at the time the email was received, not when it was opened.",
        ),
        preconditions=SUPPORT_AGENT,
    ),
    _case(
        29,
        "Assign a case and reply to the customer",
        CRITICAL,
        [7, 11],
        "Customers hear back from the case, and the reply is on record.",
        (
            "Open the case 'Invoice 10442 charged twice' and set Assignee to yourself",
            "You are the assignee and the status is In progress.",
        ),
        (
            "Click Reply, choose the template 'Billing – refund in progress' and send",
            "The reply is in the case conversation and on the customer's timeline; the SLA "
            "shows 'First response met'.",
        ),
        (
            "Open Marta Nowak's mailbox in the UAT mail catcher",
            "The reply has arrived with the case number in its subject.",
        ),
        preconditions=SUPPORT_AGENT,
    ),
    _case(
        30,
        "The SLA clock pauses while waiting on the customer",
        HIGH,
        [7],
        "Time spent waiting for the customer does not count against the support team.",
        (
            "Open an In progress case with about 3 hours of SLA left and set the status to "
            "'Waiting on customer'",
            "The SLA clock shows 'Paused'.",
        ),
        (
            "Wait ten minutes and reopen the case",
            "The SLA time left has not changed.",
        ),
        (
            "Set the status back to In progress",
            "The SLA clock runs again with about 3 hours left.",
        ),
        preconditions=SUPPORT_AGENT,
    ),
    _case(
        31,
        "Close a case with a resolution",
        CRITICAL,
        [7],
        "Every closed case says how it was resolved and whether the SLA was met.",
        ("Open an In progress case and click Close", "A dialog asks for a resolution."),
        (
            "Choose the category 'Refund issued', write a short summary and confirm",
            "The case is Closed, shows the resolution and the SLA result 'Met'.",
        ),
        (
            "Open Contoso Pharmaceuticals › Support",
            "The case is listed under Closed.",
        ),
        preconditions=SUPPORT_AGENT,
    ),
    _case(
        32,
        "Escalate a case that breached its SLA",
        HIGH,
        [7],
        "Breached cases are visible and reach the team lead.",
        (
            "Open Service › Cases filtered to 'SLA breached'",
            "The case is listed with a red Breached flag.",
        ),
        (
            "Click Escalate and choose the support team lead",
            "The case shows Escalated with the team lead as assignee, who is notified.",
        ),
        (
            "Sign in as the support team lead and open Home",
            "The case is at the top of 'Escalated to me', showing when it breached.",
        ),
        preconditions=SUPPORT_AGENT + " A High priority case was opened more than 4 hours "
        "ago without a first response (backdated with the UAT test tools).",
    ),
    # Reports
    _case(
        33,
        "Run the pipeline report for a quarter",
        CRITICAL,
        [8, 5],
        "The pipeline report is the figure the board sees; it must match the records.",
        ("Open Reports › Pipeline", "The report page opens with its filters."),
        (
            "Choose this quarter and team North and click Run",
            "A table by stage shows count and amount, with the total at the bottom.",
        ),
        (
            "Open the Pipeline board filtered to team North",
            "The board's totals match the report to the cent.",
        ),
        preconditions=MANAGER,
    ),
    _case(
        34,
        "Run the sales activity report for a team",
        HIGH,
        [8, 4],
        "Managers see each rep's calls, emails and meetings, with the detail behind them.",
        (
            "Open Reports › Sales activity, choose last month and team North, click Run",
            "Each rep is listed with counts of calls, emails and meetings.",
        ),
        (
            "Click one rep's call count",
            "The drill-down lists exactly that many calls.",
        ),
        (
            "Change the period to this month and click Run",
            "The counts update and include the calls logged today.",
        ),
        preconditions=MANAGER,
    ),
    _case(
        35,
        "Run the support SLA report",
        HIGH,
        [8, 7],
        "The support lead sees SLA performance per priority.",
        (
            "Open Reports › Support SLA, choose the last 30 days and click Run",
            "A row per priority shows cases, met, breached and the percentage met.",
        ),
        (
            "Click the breached count for High",
            "Exactly the breached High cases are listed.",
        ),
        (
            "Go back and set the Priority filter to Critical",
            "Only the Critical row remains, with the same figures as before.",
        ),
        preconditions=MANAGER,
    ),
    _case(
        36,
        "Export a report to CSV and PDF",
        MEDIUM,
        [8],
        "Report figures can leave the CRM unchanged.",
        ("Run the pipeline report for this quarter", "The report is shown."),
        (
            "Click Export › CSV",
            "A CSV downloads with the same rows and totals, amounts without currency symbols.",
        ),
        (
            "Click Export › PDF",
            "A PDF downloads with the title, the filters used, the date and the same figures.",
        ),
        preconditions=MANAGER,
    ),
    _case(
        37,
        "Schedule a weekly report email",
        LOW,
        [8],
        "Managers receive the pipeline report without running it.",
        ("Open Reports › Pipeline and click Schedule", "The schedule dialog opens."),
        (
            "Choose every Monday at 08:00 with your team as recipients; save",
            "The schedule is listed under Reports › Schedules.",
        ),
        (
            "Click Run now on the schedule",
            "Every recipient receives the report email with the PDF attached.",
        ),
        preconditions=MANAGER,
        status=DRAFT,
    ),
    # Import and export
    _case(
        38,
        "Import customers from a CSV file",
        HIGH,
        [9],
        "Customer lists from events and partners load without manual typing.",
        (
            "Open Customers › Import and upload 'customers_sample.csv' (200 rows)",
            "A mapping preview matches file columns to fields and shows the first 10 rows.",
        ),
        (
            "Map 'Company' to Company name and 'Tel' to Phone, then click Import",
            "The import runs with a progress bar and ends with '198 imported, 2 rejected'.",
        ),
        (
            "Download the error report",
            "It lists lines 57 and 143 with the reason each was rejected.",
        ),
        (
            "Search for the customer on line 10 of the file",
            "The customer exists with the imported values.",
        ),
    ),
    _case(
        39,
        "Merge a duplicate found during import",
        MEDIUM,
        [9, 1],
        "Imports do not leave the same customer twice in the CRM.",
        (
            "Import a file containing 'Northwind Traders Ltd'",
            "The import summary lists one possible duplicate.",
        ),
        (
            "Open the duplicate, choose Merge into Northwind Traders and keep the existing phone",
            "One Northwind Traders remains, with the contacts and activities of both.",
        ),
        (
            "Open the History tab of Northwind Traders",
            "The merge is recorded with your name and the record merged in.",
        ),
    ),
    _case(
        40,
        "Export the customer list with the visible columns",
        MEDIUM,
        [9],
        "What a rep sees on screen is what they get in the file.",
        (
            "Open Customers, filter Region 'Benelux' and show the columns Name, Owner, "
            "Industry and Phone",
            "The list shows those columns for Benelux customers.",
        ),
        (
            "Click Export › CSV",
            "The CSV holds exactly the filtered customers and those four columns in order.",
        ),
        (
            "Open the file in a spreadsheet",
            "Accented names such as 'Société Générale' show correctly.",
        ),
    ),
    _case(
        41,
        "Import a file of 10,000 customers",
        LOW,
        [9],
        "The largest supported import finishes in reasonable time.",
        (
            "Upload 'customers_10k.csv'",
            "The mapping preview appears within 5 seconds.",
        ),
        (
            "Click Import",
            "The import finishes within 3 minutes and its counts add up to 10,000.",
        ),
        (
            "Open Customers filtered to 'Created today'",
            "The imported customers are listed; the rejected rows are not.",
        ),
        status=DRAFT,
    ),
    # Access
    _case(
        42,
        "A sales rep sees only their own and shared accounts",
        CRITICAL,
        [10],
        "Reps never see accounts of other teams unless they are shared.",
        (
            "Open Customers",
            "Only accounts you own or that are shared with team North are listed.",
        ),
        (
            "Open an account owned by a colleague and shared with team North",
            "The account opens read-only, labelled 'Shared with you'.",
        ),
        (
            "Open the link of an account of team South that is not shared",
            "'You do not have access to this customer' is shown and no data is visible.",
        ),
    ),
    _case(
        43,
        "A support agent cannot change opportunities",
        CRITICAL,
        [10, 7],
        "Support agents can look up deals but not alter the forecast.",
        (
            "Open Contoso Pharmaceuticals › Opportunities",
            "The opportunities are listed read-only.",
        ),
        (
            "Open one opportunity",
            "No Edit, Mark won or Mark lost button is offered.",
        ),
        (
            "Try to drag a card on the Pipeline board",
            "The card does not move and a message explains that support agents cannot "
            "change opportunities.",
        ),
        preconditions=SUPPORT_AGENT,
    ),
    _case(
        44,
        "Only administrators change user roles",
        HIGH,
        [10],
        "Nobody can grant themselves more access.",
        (
            "As the sales manager open Settings › Users",
            "The users are listed and the Role column is read-only.",
        ),
        (
            "As an administrator change one user's role from Sales rep to Manager; save",
            "The role is saved and the audit log shows the change with your name.",
        ),
        (
            "As the sales manager reload Settings › Users",
            "The user shows the new role, still read-only for the manager.",
        ),
        preconditions="Two browser sessions: one signed in as the sales manager of team "
        "North, one as a CRM administrator.",
    ),
    # Email
    _case(
        45,
        "Send a templated email to a contact",
        MEDIUM,
        [11, 4],
        "Emails sent from the CRM are personalised and logged without extra work.",
        (
            "Open Laura Callahan, click Email and choose the template 'Meeting follow-up'",
            "The template is filled in with 'Dear Laura' and your signature.",
        ),
        (
            "Edit the text and click Send",
            "'Email sent' is shown and the email is on the timeline with subject and body.",
        ),
        (
            "Open the UAT mail catcher",
            "The email arrived from your address with the edited text.",
        ),
    ),
    _case(
        46,
        "A reply to a CRM email is logged on the customer",
        LOW,
        [11],
        "Customer replies land on the customer without forwarding.",
        (
            "Reply from Laura Callahan's mailbox to the email sent from the CRM",
            "Within two minutes the reply is on Northwind Traders' timeline, under the "
            "original email.",
        ),
        (
            "Open the reply on the timeline",
            "The full reply text and its sender are shown.",
        ),
        (
            "Open Laura Callahan's contact page",
            "The reply is listed in her activity.",
        ),
        status=DRAFT,
    ),
    # Privacy
    _case(
        47,
        "Record and withdraw marketing consent",
        HIGH,
        [12],
        "Marketing only reaches contacts who agreed to it.",
        ("Open Laura Callahan › Consent", "The consent status shows 'Not given'."),
        (
            "Record consent with source 'Web form' and today's date; save",
            "The status is Given, with the source and the date.",
        ),
        (
            "Click Withdraw and confirm",
            "The status is Withdrawn and Laura is no longer in the audience of the "
            "'Spring newsletter' campaign.",
        ),
    ),
    _case(
        48,
        "Erase a contact's personal data on request",
        CRITICAL,
        [12, 8],
        "Erasure requests are honoured without breaking the activity reports.",
        (
            "Open the contact Andrew Fuller and click More › Erasure request",
            "A dialog asks for the request reference and warns the action cannot be undone.",
        ),
        (
            "Enter the reference 'DPR-2024-031' and confirm",
            "The contact shows 'Erased contact' with no email, phone or notes.",
        ),
        (
            "Run Reports › Sales activity for the months of his calls",
            "The call counts are the same as before the erasure.",
        ),
        ("Search for 'Fuller'", "No customer or contact is found."),
    ),
]

# Edits made after the alpha round: the case's next version. Executions already run stay
# pinned to the version they ran.
CASE_EDITS = {
    "CRM-C010": {
        3: (
            "Search for the phone number without spaces or country code: '79460018'",
            "Northwind Traders appears under Customers.",
        ),
    },
}
