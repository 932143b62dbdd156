"""The QA lead's admin pages: every model is there, each changelist runs a pinned number
of queries whatever the rows, records stay read-only, and CSV exports are safe."""

import csv
import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tests.admin_support import admin_rows, admin_url, post_action
from tests.factories import DefectFactory, EvidenceFactory, UserFactory
from uat.models import CohortMembership, Defect, Event, Execution

# Queries per changelist for a QA lead: 4 to load the session, the user and their
# permissions, then the page's own (counts, rows, one per related list filter...).
CHANGELIST_QUERIES = {
    "accounts.apitoken": 8,  # +1: the caller's roles (a lead sees their own tokens only)
    "accounts.invitation": 8,
    "accounts.user": 9,
    "reports.emaildelivery": 9,
    "reports.evidencepackage": 8,
    "reports.gatestate": 10,
    "reports.webhook": 9,  # its rotate-secret action asks the policy
    "reports.webhookdelivery": 11,
    "reports.acceptancereport": 10,
    "reports.promotion": 10,
    "reports.signoff": 9,
    "uat.case": 8,
    "uat.casestep": 8,
    "uat.caseversion": 8,
    "uat.cohort": 9,  # its invite action asks the policy too
    "uat.cohortmembership": 8,
    "uat.defect": 8,
    "uat.environment": 8,
    "uat.event": 12,
    "uat.evidence": 8,
    "uat.execution": 12,  # its reassign and unassign actions ask the policy too
    # Plans and releases offer actions the policy decides (``uat.policy``), which reads
    # the lead's roles: one query more.
    "uat.plan": 11,
    "uat.plansignoffrole": 9,
    "uat.product": 7,
    "uat.release": 9,
    "uat.requirement": 8,
    "uat.stepresult": 7,
    "uat.waiver": 8,
}
# Add pages use autocomplete widgets, so they load no lists of related rows: after the 4
# of every request, the user page reads the groups a lead may give.
# Policy-decided actions; the plan page also asks whether the lead owns a release (its
# sign-off roles inline), the release page whether they are an administrator (its owner);
# a token's owner is chosen among those the caller may make one for.
ADD_QUERIES = {
    "accounts.user": 5,
    "uat.plan": 6,
    "uat.cohort": 5,
    "uat.release": 5,
    "accounts.apitoken": 6,
}
ADD_QUERIES_DEFAULT = 4
# Models nobody adds in the admin: records written by services, steps added on their
# case, executions assigned by the plan action. Their add page is refused.
NO_ADD = {
    "accounts.invitation",
    "reports.acceptancereport",
    "reports.emaildelivery",
    "reports.evidencepackage",
    "reports.gatestate",
    "reports.promotion",
    "reports.signoff",
    "reports.webhookdelivery",
    "uat.casestep",
    "uat.caseversion",
    "uat.event",
    "uat.evidence",
    "uat.execution",
    "uat.stepresult",
    "uat.waiver",
}
READ_ONLY = NO_ADD - {"uat.evidence"}
# Models a lead may add by model permission, where the policy refuses one who is neither
# an administrator nor a release's owner (their queries: the roles, the releases owned).
POLICY_NO_ADD = {"uat.plansignoffrole": 4}

LEAD_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label != "auth"),
    key=lambda model: model._meta.label_lower,
)


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    # Warm the content-type cache, which the add pages read, so the counts are stable.
    ContentType.objects.get_for_models(*admin.site._registry)
    return client


# Bookkeeping only the database writes, which nobody reads or edits.
NOT_IN_ADMIN = {
    "uat.executiontally",
    "uat.executiontestertally",
    "uat.executionhourtally",
    "uat.scopetally",
    "uat.defecttally",
    # The sign-in lockout's counter; every try is in the audit trail as an event.
    "accounts.signinattempt",
    # Shown read-only inline on their defect's page.
    "uat.defectcomment",
    # What a tester typed and has not saved yet: theirs alone, not a record.
    "uat.executiondraft",
}


def test_every_model_of_the_apps_is_in_the_admin():
    for app_label in ("accounts", "uat", "reports"):
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.label_lower not in NOT_IN_ADMIN:
                assert admin.site.is_registered(model), model


@pytest.mark.parametrize("model", LEAD_MODELS, ids=lambda model: model._meta.label_lower)
def test_changelist_runs_the_same_queries_for_2_and_6_rows(
    lead_client, lead, model, django_assert_num_queries
):
    url = admin_url(model, "changelist")
    admin_rows(2, lead)
    with django_assert_num_queries(CHANGELIST_QUERIES[model._meta.label_lower]):
        response = lead_client.get(url)
    assert response.status_code == 200
    shown = response.context["cl"].result_count
    assert shown >= 2

    admin_rows(4, lead)
    with django_assert_num_queries(CHANGELIST_QUERIES[model._meta.label_lower]):
        response = lead_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= shown + 4


@pytest.mark.parametrize("model", LEAD_MODELS, ids=lambda model: model._meta.label_lower)
def test_add_page_answers_a_lead_where_adding_is_allowed(
    lead_client, lead, model, django_assert_num_queries
):
    admin_rows(2, lead)
    label = model._meta.label_lower
    expected_queries = 2 if label in NO_ADD else ADD_QUERIES.get(label, ADD_QUERIES_DEFAULT)
    expected_queries = POLICY_NO_ADD.get(label, expected_queries)
    with django_assert_num_queries(expected_queries):
        response = lead_client.get(admin_url(model, "add"))
    refused = label in NO_ADD or label in POLICY_NO_ADD
    assert response.status_code == (403 if refused else 200)


@pytest.mark.parametrize("model", LEAD_MODELS, ids=lambda model: model._meta.label_lower)
def test_change_page_shows_a_row_to_a_lead(lead_client, lead, model):
    admin_rows(1, lead)
    obj = model._default_manager.order_by("pk").last()
    response = lead_client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["outsider", "tester"])
def test_people_without_staff_access_are_sent_to_log_in(client, request, person):
    client.force_login(request.getfixturevalue(person))
    for url in (reverse("admin:index"), reverse("admin:uat_plan_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_a_role_sees_no_changelist(client, db):
    client.force_login(UserFactory(staff=True))
    assert client.get(reverse("admin:uat_plan_changelist")).status_code == 403
    assert client.get(reverse("admin:uat_event_changelist")).status_code == 403


def test_group_admin_is_for_superusers(lead_client, client, admin_user):
    assert lead_client.get(reverse("admin:auth_group_changelist")).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 200
    assert client.get(reverse("admin:auth_group_add")).status_code == 200


# ------------------------------------------------------------------------ read-only


@pytest.mark.parametrize(
    "model",
    [model for model in LEAD_MODELS if model._meta.label_lower in READ_ONLY],
    ids=lambda model: model._meta.label_lower,
)
def test_records_refuse_add_change_and_delete(client, lead, admin_user, model):
    admin_rows(1, lead)
    obj = model._default_manager.order_by("pk").last()
    client.force_login(admin_user)  # not even a superuser may rewrite a record
    assert client.post(admin_url(model, "add"), {}).status_code == 403
    assert client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model._default_manager.filter(pk=obj.pk).exists()
    response = client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]


def test_evidence_removal_is_audited(lead_client, lead):
    evidence = EvidenceFactory()
    response = lead_client.post(admin_url(type(evidence), "delete", evidence.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not type(evidence).objects.exists()
    event = Event.objects.for_object(evidence.execution).get(verb="evidence.deleted")
    assert event.actor == lead
    assert event.before["evidence"] == "screenshot.png"


# ------------------------------------------------------------------------ CSV export


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_lists_the_selected_rows_with_the_changelist_columns(lead_client):
    chosen = DefectFactory(title="Login button dead", severity="critical")
    DefectFactory(title="Not selected")
    response = post_action(lead_client, Defect, "export_as_csv", [chosen])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="defect-')
    header, *rows = _csv(response)
    assert header[:5] == ["reference", "title", "severity", "status", "release"]
    assert rows == [
        [
            chosen.reference,
            "Login button dead",
            "Critical",
            "New",
            str(chosen.release),
            "UAT",
            str(chosen.reported_by),
            rows[0][7],
        ]
    ]


@pytest.mark.parametrize("title", ['=HYPERLINK("http://evil")', "+1", "-2+3", "@SUM(A1)"])
def test_csv_export_neutralises_formulas(lead_client, title):
    defect = DefectFactory(title=title)
    _, row = _csv(post_action(lead_client, Defect, "export_as_csv", [defect]))
    assert row[1] == "'" + title


def test_csv_export_is_offered_on_every_changelist(lead_client):
    for model in LEAD_MODELS:
        choices = dict(
            lead_client.get(admin_url(model, "changelist"))
            .context["action_form"]
            .fields["action"]
            .choices
        )
        assert "export_as_csv" in choices, model


def test_csv_export_keeps_numbers_and_booleans(lead_client, lead):
    admin_rows(1, lead)
    cohort = CohortMembership.objects.get().cohort
    header, row = _csv(post_action(lead_client, type(cohort), "export_as_csv", [cohort]))
    assert dict(zip(header, row, strict=True))["members"] == "1"
    execution = Execution.objects.get()
    header, row = _csv(post_action(lead_client, Execution, "export_as_csv", [execution]))
    assert dict(zip(header, row, strict=True))["is latest"] == "yes"


def test_plan_autocomplete_names_plans_without_a_query_each(
    lead_client, lead, django_assert_max_num_queries
):
    admin_rows(3, lead)
    url = reverse("admin:autocomplete")
    params = {"app_label": "uat", "model_name": "plansignoffrole", "field_name": "plan"}
    with django_assert_max_num_queries(8):
        response = lead_client.get(url, params)
    assert len(response.json()["results"]) == 3
