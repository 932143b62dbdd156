"""A defect's conversation: its history (every move with who, when and why, merged with
the comments, oldest first), comments from its reporter, QA leads and developers on the
page (htmx and without JavaScript), the API and the admin, and the reporter's emails."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from tests.admin_support import admin_url
from tests.factories import DefectFactory, ExecutionFactory, PlanFactory, UserFactory
from uat import policy, services
from uat.models import Defect, DefectComment, Event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def defect(tester):
    run = ExecutionFactory(tester=tester, failed=True)
    defect = DefectFactory(release=run.plan.release, reported_by=tester, title="Totals wrong")
    defect.executions.add(run)
    return defect


def comment(defect, actor, body, capture):
    with capture(execute=True):
        return services.defect_comment_add(defect=defect, actor=actor, body=body)


# ---------------------------------------------------------------------------- history


def test_a_tester_sees_why_their_defect_was_rejected(
    client, tester, lead, defect, django_capture_on_commit_callbacks
):
    services.defect_transition(
        defect=defect, status="rejected", actor=lead, note="Works as designed: UTC-10 profile."
    )
    comment(
        defect, tester, "Our users are all in UTC-10 though.", django_capture_on_commit_callbacks
    )
    services.defect_transition(defect=defect, status="confirmed", actor=lead, note="Fair point.")
    client.force_login(tester)
    page = client.get(reverse("uat:defect", args=[defect.pk]))
    history = [(entry.kind, entry.who, entry.text) for entry in page.context["history"]]
    assert (
        history
        == [
            ("reported", None, ""),  # the factory made it without the service
            ("moved", lead, "Works as designed: UTC-10 profile."),
            ("comment", tester, "Our users are all in UTC-10 though."),
            ("moved", lead, "Fair point."),
        ][1:]
    )
    text = page.text
    assert text.index("Works as designed") < text.index("Our users") < text.index("Fair point")
    assert "Quinn Lead</strong>" in text and "moved it from new to" in text
    assert ">Rejected</span>" in text


def test_an_external_reporter_reads_the_team_not_the_staff_names(
    client, beta_tester, lead, django_capture_on_commit_callbacks
):
    run = ExecutionFactory(tester=beta_tester, failed=True)
    defect = services.defect_report(
        execution=run, actor=beta_tester, title="Cannot export", severity="minor"
    )
    services.defect_transition(defect=defect, status="rejected", actor=lead, note="Duplicate")
    client.force_login(beta_tester)
    text = client.get(reverse("uat:defect", args=[defect.pk])).text
    assert "<strong>You</strong>" in text and "reported it" in text
    assert "<strong>The UAT team</strong>" in text and "Duplicate" in text
    assert lead.full_name not in text


def test_the_defect_page_runs_a_fixed_number_of_queries(
    client,
    tester,
    lead,
    defect,
    warm_caches,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    client.force_login(tester)
    url = reverse("uat:defect", args=[defect.pk])
    client.get(url)
    with django_assert_num_queries(DEFECT_PAGE_QUERIES):
        client.get(url)
    for n in range(4):
        services.defect_transition(
            defect=defect, status="rejected" if n % 2 == 0 else "confirmed", actor=lead
        )
        comment(
            defect,
            UserFactory(roles=[Role.QA_LEAD]),
            f"Note {n}",
            django_capture_on_commit_callbacks,
        )
    with django_assert_num_queries(DEFECT_PAGE_QUERIES):
        client.get(url)


# session, user, defect, roles, runs, retests, evidence, history's events and comments
DEFECT_PAGE_QUERIES = 9


# ---------------------------------------------------------------------------- who comments


def test_who_may_comment(defect, tester, lead, stakeholder, beta_tester, outsider):
    PlanFactory(release=defect.release, beta=True).stakeholders.add(stakeholder)
    assert policy.can_comment(tester, defect)  # its reporter
    assert policy.can_comment(lead, defect)
    assert policy.can_comment(stakeholder, defect)  # sees it through its release
    developer = UserFactory(roles=[Role.TESTER])  # internal staff on the same release
    ExecutionFactory(tester=developer).defects.add(defect)
    assert policy.can_comment(developer, defect)
    assert not policy.can_comment(beta_tester, defect)
    assert not policy.can_comment(outsider, defect)
    pipeline = UserFactory(roles=[Role.PIPELINE])
    assert not policy.can_comment(pipeline, defect)


def test_an_external_tester_comments_only_on_their_own_defects(beta_tester, tester):
    run = ExecutionFactory(tester=beta_tester, failed=True)
    theirs = DefectFactory(release=run.plan.release, reported_by=beta_tester)
    found_on_their_run = DefectFactory(release=run.plan.release, reported_by=tester)
    found_on_their_run.executions.add(run)
    assert policy.can_comment(beta_tester, theirs)
    assert not policy.can_comment(beta_tester, found_on_their_run)
    with pytest.raises(PermissionDenied):
        services.defect_comment_add(defect=found_on_their_run, actor=beta_tester, body="Hi")


def test_a_comment_is_audited_and_never_empty(defect, lead, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationError):
        services.defect_comment_add(defect=defect, actor=lead, body="   ")
    made = comment(defect, lead, "  Can you attach the log?  ", django_capture_on_commit_callbacks)
    assert made.body == "Can you attach the log?"
    event = Event.objects.for_object(defect).get(verb="defect.commented")
    assert (event.actor, event.after["body"]) == (lead, "Can you attach the log?")


# ---------------------------------------------------------------------------- emails


def test_the_reporter_is_emailed_when_their_defect_moves(
    defect, lead, tester, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.defect_transition(
            defect=defect, status="rejected", actor=lead, note="Works as designed."
        )
    [message] = mail.outbox
    assert message.to == [tester.email]
    assert message.subject == f"{defect.reference} is now rejected: Totals wrong"
    assert "from new to rejected" in message.body and "Why: Works as designed." in message.body
    assert reverse("uat:defect", args=[defect.pk]) in message.body
    assert "Works as designed." in message.alternatives[0].content


def test_the_reporter_is_emailed_when_someone_else_comments(
    defect, lead, tester, django_capture_on_commit_callbacks
):
    comment(defect, tester, "My own words", django_capture_on_commit_callbacks)
    assert mail.outbox == []
    comment(defect, lead, "Which browser?", django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == [tester.email]
    assert message.subject == f"Quinn Lead commented on {defect.reference}: Totals wrong"
    assert "Which browser?" in message.body


def test_a_reporter_who_opted_out_gets_no_defect_email(
    defect, lead, tester, django_capture_on_commit_callbacks
):
    tester.receives_defect_updates = False
    tester.save()
    defect.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.defect_transition(defect=defect, status="confirmed", actor=lead)
        services.defect_comment_add(defect=defect, actor=lead, body="Thanks")
    assert mail.outbox == []


def test_the_email_settings_page_turns_defect_updates_off(client, tester):
    client.force_login(tester)
    url = reverse("reports:email_settings")
    assert "Tell me when a defect I reported" in client.get(url).text
    client.post(url, {"receives_digests": "on", "receives_reminders": "on"})
    tester.refresh_from_db()
    assert not tester.receives_defect_updates
    assert tester.receives_digests and tester.receives_reminders
    client.post(url, {"receives_defect_updates": "on"})
    tester.refresh_from_db()
    assert tester.receives_defect_updates


# ---------------------------------------------------------------------------- the page


def test_commenting_without_javascript(client, tester, defect):
    client.force_login(tester)
    url = reverse("uat:defect_comment", args=[defect.pk])
    too_long = "x" * 5001
    refused = client.post(url, {"body": too_long})
    assert refused.status_code == 400
    assert f">{too_long}</textarea>" in refused.text  # nothing typed is lost
    assert not DefectComment.objects.exists()
    done = client.post(url, {"body": "It also happens on Firefox."})
    assert done.status_code == 302
    assert done.url == reverse("uat:defect", args=[defect.pk]) + "#conversation"
    page = client.get(done.url)
    assert "It also happens on Firefox." in page.text and "Your comment is added." in page.text


def test_commenting_with_htmx_swaps_the_conversation(client, lead, defect):
    client.force_login(lead)
    url = reverse("uat:defect_comment", args=[defect.pk])
    refused = client.post(url, {"body": ""}, **HTMX)
    assert refused.status_code == 200
    assert refused.text.lstrip().startswith('<section id="conversation"')
    assert "Write a comment first." in refused.text
    done = client.post(url, {"body": "Fix is in review."}, **HTMX)
    assert done.status_code == 200
    assert done.text.lstrip().startswith('<section id="conversation"')
    assert "Fix is in review." in done.text and "Your comment is added." in done.text
    assert DefectComment.objects.get().author == lead


def test_the_page_offers_the_comment_form_only_to_who_may_comment(
    client, beta_tester, tester, lead
):
    run = ExecutionFactory(tester=beta_tester, failed=True)
    defect = DefectFactory(release=run.plan.release, reported_by=tester)
    defect.executions.add(run)
    client.force_login(beta_tester)
    page = client.get(reverse("uat:defect", args=[defect.pk]))
    assert page.status_code == 200 and "Add comment" not in page.text
    refused = client.post(reverse("uat:defect_comment", args=[defect.pk]), {"body": "Hi"})
    assert refused.status_code == 403


# ---------------------------------------------------------------------------- API, admin


def test_the_api_lists_and_adds_comments(tester, lead, defect, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(lead)
    url = reverse("defect-comments", args=[defect.pk])
    assert api.post(url, {"body": ""}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        made = api.post(url, {"body": "Reproduced on staging."}, format="json")
    assert made.status_code == 201
    assert made.json()["body"] == "Reproduced on staging."
    assert made.json()["author_name"] == "Quinn Lead"
    assert len(mail.outbox) == 1
    api.force_authenticate(tester)
    listed = api.get(url)
    assert [row["body"] for row in listed.json()] == ["Reproduced on staging."]


def test_the_api_refuses_comments_from_who_may_not(beta_tester, defect):
    api = APIClient()
    api.force_authenticate(beta_tester)
    url = reverse("defect-comments", args=[defect.pk])
    assert api.get(url).status_code == 404
    assert api.post(url, {"body": "Hi"}, format="json").status_code == 404


def test_the_admin_shows_the_comments_read_only(
    client, lead, tester, defect, django_capture_on_commit_callbacks
):
    comment(defect, tester, "Seen again today.", django_capture_on_commit_callbacks)
    client.force_login(lead)
    page = client.get(admin_url(Defect, "change", defect.pk))
    assert "Seen again today." in page.text
    [inline] = [
        formset
        for formset in page.context["inline_admin_formsets"]
        if formset.opts.model is DefectComment
    ]
    assert not inline.has_add_permission and not inline.has_change_permission
