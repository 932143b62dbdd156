"""Signing in and out, resetting a password by email, and beta invitations."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Role, User
from tests.factories import CohortFactory
from uat.models import Cohort
from uat.services import invitation_send

pytestmark = pytest.mark.django_db


def test_sign_in_lands_in_the_inbox_and_sign_out_returns_to_sign_in(client, tester, password):
    assert client.get("/").url == reverse("accounts:login")
    response = client.post(
        reverse("accounts:login"), {"username": tester.email, "password": password}
    )
    assert response.status_code == 302
    assert client.get(response.url).url == reverse("uat:inbox")
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert client.get(reverse("uat:inbox")).status_code == 302


def test_a_forgotten_password_is_reset_through_an_emailed_link(client, tester):
    client.post(reverse("accounts:password_reset"), {"email": tester.email})
    (message,) = mail.outbox
    assert message.subject == "Reset your Greenlight password"
    assert message.alternatives  # an HTML body too
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)
    response = client.get(path, follow=True)
    new = "a-new-long-passphrase-42"
    client.post(response.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    tester.refresh_from_db()
    assert tester.check_password(new)


@pytest.fixture
def cohort():
    return CohortFactory(beta=True, name="Customers")


def test_an_invitee_sets_name_and_password_and_lands_in_their_inbox(
    client, lead, cohort, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_send(email="New.Customer@Example.org", cohort=cohort, actor=lead)
    (message,) = mail.outbox
    assert message.to == ["new.customer@example.org"]
    assert "Customers" in message.body and message.alternatives
    path = "/accounts/" + re.search(r"/accounts/(\S+/)", message.body).group(1)
    invitation = Invitation.objects.get()
    assert path.rstrip("/").split("/")[-1] not in invitation.token_hash

    assert client.get(path).status_code == 200
    data = {
        "full_name": "Nia Customer",
        "password1": "tulip-orbit-925",
        "password2": "tulip-orbit-925",
    }
    response = client.post(path, data)
    assert response.url == reverse("uat:inbox")
    user = User.objects.get(email="new.customer@example.org")
    assert user.is_external and user.has_role(Role.TESTER)
    assert list(user.cohorts.all()) == [cohort]
    assert client.get(reverse("uat:inbox")).status_code == 200

    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    assert "already been used" in response.text


def test_an_expired_link_explains_itself(client, lead, cohort, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_send(email="late@example.org", cohort=cohort, actor=lead)
    path = "/accounts/" + re.search(r"/accounts/(\S+/)", mail.outbox[0].body).group(1)
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.get(path)
    assert response.status_code == 410
    assert "expired" in response.text
    assert client.get("/accounts/invitations/not-a-real-secret/").status_code == 404


def test_no_email_leaves_before_the_invitation_is_saved(
    lead, cohort, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation_send(email="later@example.org", cohort=cohort, actor=lead)
    assert mail.outbox == [] and len(callbacks) == 1


def test_invitations_are_for_beta_cohorts_and_new_addresses(lead, tester, cohort):
    alpha = CohortFactory(kind=Cohort.Kind.ALPHA)
    with pytest.raises(Exception, match="beta cohorts"):
        invitation_send(email="x@example.org", cohort=alpha, actor=lead)
    with pytest.raises(Exception, match="already has an account"):
        invitation_send(email=tester.email, cohort=cohort, actor=lead)


def test_the_lead_invites_from_a_page(client, lead, cohort, django_capture_on_commit_callbacks):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:invitation_new"), {"email": "pat@example.org", "cohort": cohort.pk}
        )
    assert response.status_code == 302
    assert Invitation.objects.get().email == "pat@example.org"
    assert len(mail.outbox) == 1


def test_the_lead_invites_from_the_admin(client, lead, cohort, django_capture_on_commit_callbacks):
    client.force_login(lead)
    data = {
        "action": "invite_testers",
        "_selected_action": [cohort.pk],
        "apply": "1",
        "emails": "a@example.org\nb@example.org",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:uat_cohort_changelist"), data)
    assert response.status_code == 302
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "a@example.org",
        "b@example.org",
    ]
    assert len(mail.outbox) == 2
