"""Roles are groups with exactly the permissions each needs, made by a data migration."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.models import Role, User
from accounts.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_each_role_holds_exactly_its_permissions(role):
    held = {
        (p.content_type.app_label, p.codename)
        for p in Group.objects.get(name=role).permissions.select_related("content_type")
    }
    assert held == set(ROLE_PERMISSIONS[role])


def test_admins_hold_every_permission():
    assert Group.objects.get(name=Role.ADMIN).permissions.count() == Permission.objects.count()


@pytest.mark.parametrize(
    ("persona", "allowed", "refused"),
    [
        (
            "tester",
            ["uat.change_execution", "uat.add_stepresult", "uat.add_defect", "uat.add_evidence"],
            ["uat.change_defect", "uat.add_case", "reports.add_signoff", "accounts.change_user"],
        ),
        (
            "lead",
            [
                "uat.add_case",
                "uat.change_plan",
                "uat.change_defect",
                "reports.add_acceptancereport",
            ],
            [
                "uat.change_event",
                "uat.delete_event",
                "reports.add_signoff",
                "reports.change_signoff",
                "uat.change_waiver",
                "auth.change_group",
                "accounts.delete_user",
            ],
        ),
        (
            "stakeholder",
            [
                "reports.add_signoff",
                "uat.add_waiver",
                "uat.view_event",
                "reports.view_acceptancereport",
            ],
            ["reports.change_signoff", "uat.change_execution", "uat.add_defect", "uat.change_plan"],
        ),
        ("outsider", [], ["uat.view_case", "uat.view_execution", "uat.view_defect"]),
    ],
)
def test_role_permissions(request, persona, allowed, refused):
    user = User.objects.get(pk=request.getfixturevalue(persona).pk)
    for permission in allowed:
        assert user.has_perm(permission), permission
    for permission in refused:
        assert not user.has_perm(permission), permission


def test_has_role(lead, tester):
    assert lead.has_role(Role.QA_LEAD)
    assert lead.is_qa_lead
    assert not tester.has_role(Role.QA_LEAD)
    assert not tester.is_qa_lead
    assert User.objects.with_role(Role.TESTER).filter(pk=tester.pk).exists()
