"""User accounts in the admin: QA leads enrol testers but cannot grant anyone powers."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import Role, User
from tests.admin_support import changeform_data
from tests.factories import PASSWORD


def _change(user) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def _password(user) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


def _group(role: Role) -> str:
    return str(Group.objects.get(name=role.value).pk)


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def test_lead_edits_a_testers_profile_and_tester_role(lead_client, tester):
    page = lead_client.get(_change(tester))
    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "user_permissions" not in form.fields
    assert "is_staff" not in form.fields
    assert list(form.fields["groups"].queryset.values_list("name", flat=True)) == [
        "Release pipeline",
        "Tester",
    ]

    data = changeform_data(page, full_name="Alex A. Alpha", groups=[])
    assert lead_client.post(_change(tester), data).status_code == 302
    tester.refresh_from_db()
    assert tester.full_name == "Alex A. Alpha"
    assert not tester.groups.exists()


def test_lead_cannot_make_a_tester_superuser_staff_or_lead(lead_client, tester):
    page = lead_client.get(_change(tester))
    data = changeform_data(page, is_superuser="on", is_staff="on", groups=[_group(Role.QA_LEAD)])
    response = lead_client.post(_change(tester), data)
    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors

    data["groups"] = [_group(Role.TESTER)]
    data["user_permissions"] = ["1"]
    assert lead_client.post(_change(tester), data).status_code == 302
    tester.refresh_from_db()
    assert not tester.is_superuser
    assert not tester.is_staff
    assert not tester.user_permissions.exists()
    assert [group.name for group in tester.groups.all()] == ["Tester"]


@pytest.mark.parametrize("person", ["lead", "stakeholder", "admin_user"])
def test_lead_cannot_change_anyone_with_powers(lead_client, request, person):
    target = request.getfixturevalue(person)
    page = lead_client.get(_change(target))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    response = lead_client.post(
        _change(target), {"email": target.email, "is_superuser": "on", "full_name": "X"}
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.full_name != "X"


@pytest.mark.parametrize("person", ["lead", "stakeholder", "admin_user"])
def test_lead_cannot_set_the_password_of_anyone_with_powers(lead_client, request, person):
    target = request.getfixturevalue(person)
    assert lead_client.get(_password(target)).status_code == 403
    response = lead_client.post(
        _password(target),
        {"usable_password": "true", "password1": "taken-over-1", "password2": "taken-over-1"},
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.check_password(PASSWORD)


def test_lead_may_set_a_plain_testers_password(lead_client, tester):
    response = lead_client.post(
        _password(tester),
        {"usable_password": "true", "password1": "fresh-start-42x", "password2": "fresh-start-42x"},
    )
    assert response.status_code == 302
    tester.refresh_from_db()
    assert tester.check_password("fresh-start-42x")


def test_lead_adds_a_tester_but_not_a_privileged_user(lead_client):
    page = lead_client.get(reverse("admin:accounts_user_add"))
    form = page.context["adminform"].form
    assert set(form.fields) == {
        "email",
        "full_name",
        "is_external",
        "usable_password",
        "password1",
        "password2",
        "groups",
    }
    data = {
        "email": "New.Tester@Example.com",
        "full_name": "New Tester",
        "usable_password": "true",
        "password1": "a-long-unusual-passphrase",
        "password2": "a-long-unusual-passphrase",
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [_group(Role.ADMIN)],
    }
    response = lead_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors

    data["groups"] = [_group(Role.TESTER)]
    response = lead_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 302
    user = User.objects.get(email="new.tester@example.com")
    assert not user.is_superuser
    assert not user.is_staff
    assert user.has_role(Role.TESTER)
    assert user.check_password("a-long-unusual-passphrase")


def test_add_form_refuses_an_email_already_taken_in_another_case(lead_client, tester):
    data = {
        "email": tester.email.upper(),
        "full_name": "Copy",
        "usable_password": "false",
    }
    response = lead_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == [
        "User with this Email address already exists."
    ]
    assert User.objects.filter(email__iexact=tester.email).count() == 1


def test_superuser_manages_every_power(client, admin_user, tester):
    client.force_login(admin_user)
    page = client.get(_change(tester))
    form = page.context["adminform"].form
    assert {"is_superuser", "is_staff", "user_permissions"} <= set(form.fields)
    assert form.fields["groups"].queryset.count() == Group.objects.count()
    data = changeform_data(page, is_staff="on", groups=[_group(Role.QA_LEAD)])
    assert client.post(_change(tester), data).status_code == 302
    tester.refresh_from_db()
    assert tester.is_staff
    assert tester.has_role(Role.QA_LEAD)


def test_user_changelist_shows_roles(lead_client, tester, stakeholder):
    response = lead_client.get(reverse("admin:accounts_user_changelist"), {"q": "example.com"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Tester" in content
    assert "Stakeholder" in content
