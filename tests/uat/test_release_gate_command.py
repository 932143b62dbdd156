"""The release_gate command: the decision and its reasons, as an exit status."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.factories import AcceptanceReportFactory
from tests.reports.gate_support import approved, fresh_report, plan_with_signers, release_in
from uat.management.commands import release_gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return plan_with_signers(release_in("alpha"))


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("release_gate", *args, stdout=out)
    return exited.value.code, out.getvalue()


def spec(release) -> str:
    return f"{release.product.slug}:{release.version}"


def test_go_exits_0(plan):
    approved(plan)
    status, out = run(spec(plan.release), "--stage", "beta")
    assert status == 0
    assert out == f"{plan.release} → beta: GO\n"


def test_no_go_exits_1_with_the_reasons(plan):
    fresh_report(plan)
    status, out = run(str(plan.release.pk), "--stage", "beta")
    assert status == 1
    assert out.splitlines() == [
        f"{plan.release} → beta: NO-GO",
        "- Missing sign-off: Business Owner.",
    ]


def test_inconclusive_exits_2(plan):
    status, out = run(spec(plan.release), "--stage", "beta")
    assert status == 2
    assert "INCONCLUSIVE" in out


def test_json_prints_the_api_answer(plan):
    report = approved(plan)
    status, out = run(spec(plan.release), "--stage", "beta", "--json")
    body = json.loads(out)
    assert status == 0
    assert body["decision"] == "go"
    assert body["report"]["uuid"] == str(report.uuid)
    assert set(body) == {
        "release",
        "stage",
        "decision",
        "reasons",
        "report",
        "signoffs",
        "evaluated_at",
    }


@pytest.mark.parametrize("name", ["nope:1.0", "999999", "just-words"])
def test_an_unknown_release_is_an_error_with_status_2(name):
    with pytest.raises(CommandError, match="No release") as error:
        call_command("release_gate", name, "--stage", "beta")
    assert error.value.returncode == 2


def test_a_stage_without_a_gate_is_an_error_with_status_2():
    hotfix = release_in("alpha", hotfix=True)
    with pytest.raises(CommandError, match="no beta gate") as error:
        call_command("release_gate", str(hotfix.pk), "--stage", "beta")
    assert error.value.returncode == 2


def test_wait_asks_again_while_the_report_is_being_built(plan, monkeypatch):
    report = fresh_report(plan, status="running", decision="")
    naps = []

    def nap(seconds):
        naps.append(seconds)
        report.status, report.decision = "ready", "go"
        report.save()
        approved(plan, report)

    monkeypatch.setattr(release_gate.time, "sleep", nap)
    status, _ = run(spec(plan.release), "--stage", "beta", "--wait", "60")
    assert status == 0
    assert naps == [release_gate.POLL_SECONDS]


def test_wait_gives_up_when_the_time_runs_out(plan, monkeypatch):
    AcceptanceReportFactory(plan=plan, status="pending")
    clock = iter(range(0, 1000, 4))
    monkeypatch.setattr(release_gate.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(release_gate.time, "sleep", lambda seconds: None)
    status, out = run(spec(plan.release), "--stage", "beta", "--wait", "10")
    assert status == 2
    assert "still being built" in out


def test_wait_does_not_wait_for_a_decided_gate(plan, monkeypatch):
    monkeypatch.setattr(release_gate.time, "sleep", pytest.fail)
    status, _ = run(spec(plan.release), "--stage", "beta", "--wait", "60")
    assert status == 2  # no report at all: nothing to wait for
