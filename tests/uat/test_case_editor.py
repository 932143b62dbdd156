"""The QA lead's case editor and plan scope in the admin: steps numbered on save in the
order shown, the diff between two versions of a case, and the plan's case picker."""

import pytest

from tests.admin_support import admin_url, changeform_data
from tests.factories import CaseFactory
from uat.models import Case


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def _save_case(lead_client, case, **changes):
    page = lead_client.get(admin_url(Case, "change", case.pk))
    data = changeform_data(page, **changes)
    return lead_client.post(admin_url(Case, "change", case.pk), data)


def _steps(case) -> list[tuple[int, str]]:
    return [(step.position, step.action) for step in case.steps.order_by("position")]


# ------------------------------------------------------------------ step numbering


def test_typed_orders_with_gaps_and_ties_are_saved_as_1_to_n_in_the_order_shown(
    lead_client,
):
    case = CaseFactory(steps=3)
    response = _save_case(
        lead_client,
        case,
        **{"steps-0-position": "7", "steps-1-position": "7", "steps-2-position": "2"},
    )
    assert response.status_code == 302
    assert _steps(case) == [(1, "Do thing 3"), (2, "Do thing 1"), (3, "Do thing 2")]
    assert [s["action"] for s in case.versions.latest().steps] == [
        "Do thing 3",
        "Do thing 1",
        "Do thing 2",
    ]


def test_removing_a_step_closes_the_gap(lead_client):
    case = CaseFactory(steps=3)
    response = _save_case(lead_client, case, **{"steps-1-DELETE": "on"})
    assert response.status_code == 302
    assert _steps(case) == [(1, "Do thing 1"), (2, "Do thing 3")]


def test_a_new_step_without_an_order_goes_last_and_one_with_an_order_goes_there(lead_client):
    case = CaseFactory(steps=2)
    response = _save_case(
        lead_client,
        case,
        **{
            "steps-TOTAL_FORMS": "4",
            "steps-2-action": "Appended",
            "steps-2-expected": "At the end",
            "steps-3-position": "1",
            "steps-3-action": "First of all",
            "steps-3-expected": "At the start",
        },
    )
    assert response.status_code == 302
    assert _steps(case) == [
        (1, "First of all"),
        (2, "Do thing 1"),
        (3, "Do thing 2"),
        (4, "Appended"),
    ]


def test_an_empty_new_row_holding_only_its_number_is_no_step(lead_client):
    # The page numbers the empty row for a new step too; saving leaves it out.
    case = CaseFactory(steps=2)
    response = _save_case(lead_client, case, **{"steps-TOTAL_FORMS": "3", "steps-2-position": "3"})
    assert response.status_code == 302
    assert _steps(case) == [(1, "Do thing 1"), (2, "Do thing 2")]
    assert case.versions.count() == 1
