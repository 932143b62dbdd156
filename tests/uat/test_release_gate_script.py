"""scripts/release-gate and the README's pipeline examples, run for real.

curl talks to a loopback HTTP server that replays what the API answered in this test
(through Django's test client, with the same token), so the script's parsing and exit
statuses meet real answers while the test keeps its own transaction (a live server
thread would need a flushed, transactional database)."""

import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.conftest import require
from tests.factories import ApiTokenFactory, UserFactory
from tests.reports.gate_support import approved, fresh_report, plan_with_signers, release_in

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "release-gate"
README = ROOT / "README.md"

pytestmark = pytest.mark.django_db


class Replay:
    """Answers each GET exactly as the API answered the same path and credentials."""

    def __init__(self):
        self.client = APIClient()
        self.asked: list[str] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                replay.asked.append(self.path)
                response = replay.answer(self.path, self.headers.get("Authorization", ""))
                self.send_response(response.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            def log_message(self, *args):
                pass

        self.answers = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def prepare(self, path: str, token: str) -> None:
        header = f"Token {token}"
        self.answers[path, header] = self.client.get(path, HTTP_AUTHORIZATION=header)

    def answer(self, path: str, header: str):
        return self.answers[path, header]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replay():
    require(bool(shutil.which("curl") and shutil.which("jq")), "curl and jq")
    server = Replay()
    yield server
    server.close()


@pytest.fixture
def token():
    return ApiTokenFactory(user=UserFactory(roles=[Role.PIPELINE])).secret


def run_shell(replay, token, command: list[str], **env) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "GREENLIGHT_URL": replay.url, "GREENLIGHT_TOKEN": token, **env}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def step(replay, token, release_id, stage, sent_token=None):
    path = f"/api/v1/releases/{release_id}/gate/?stage={stage}"
    replay.prepare(path, sent_token or token)
    done = run_shell(replay, sent_token or token, [str(SCRIPT), str(release_id), stage])
    assert replay.asked == [path]
    return done


def test_go_exits_0(replay, token):
    plan = plan_with_signers(release_in("alpha"))
    approved(plan)
    done = step(replay, token, plan.release.pk, "beta")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{plan.release.product.slug} {plan.release.version} → beta: go"
    ]


def test_no_go_exits_1_with_the_reasons(replay, token):
    plan = plan_with_signers(release_in("alpha"))
    fresh_report(plan)
    done = step(replay, token, plan.release.pk, "beta")
    assert done.returncode == 1
    assert done.stdout.splitlines()[1:] == ["- Missing sign-off: Business Owner."]


def test_inconclusive_exits_2(replay, token):
    assert step(replay, token, release_in("alpha").pk, "beta").returncode == 2


@pytest.mark.parametrize("problem", ["token", "release", "stage"])
def test_no_answer_is_never_a_pass(replay, token, problem):
    plan = plan_with_signers(release_in("alpha"))
    approved(plan)
    release, stage, sent = plan.release.pk, "beta", None
    if problem == "token":
        sent = "glt_wrong"
    elif problem == "release":
        release = 999999
    else:
        stage = "alpha"
    done = step(replay, token, release, stage, sent_token=sent)
    assert done.returncode == 2
    assert "did not answer" in done.stderr


def test_an_unreachable_gate_is_never_a_pass(replay, token):
    done = run_shell(replay, token, [str(SCRIPT), "1", "beta"], GREENLIGHT_URL="http://127.0.0.1:9")
    assert done.returncode == 2


def readme_block(language: str, after: str) -> str:
    """The first ```language block after the heading ``after`` in the README."""
    text = README.read_text()
    start = text.index(f"```{language}\n", text.index(after)) + len(language) + 4
    return text[start : text.index("```", start)]


@pytest.mark.parametrize(("ready", "expected"), [(True, 0), (False, 2)])
def test_the_readme_shell_step_works(replay, token, ready, expected):
    release = release_in("beta")
    if ready:
        approved(plan_with_signers(release, stage="beta"))
    replay.prepare(f"/api/v1/releases/{release.pk}/gate/?stage=production", token)
    command = ["/bin/sh", "-c", readme_block("sh", "### A shell step")]
    done = run_shell(replay, token, command, RELEASE_ID=str(release.pk))
    assert done.returncode == expected, done.stderr
    assert "→ production" in done.stdout


def test_the_readme_pipeline_examples_are_valid_yaml():
    yaml = pytest.importorskip("yaml")
    job = yaml.safe_load(readme_block("yaml", "### A GitHub Actions job"))
    steps = job["jobs"]["release"]["steps"]
    assert "/gate/?stage=production" in steps[0]["run"]
    assert "/promote/" in steps[1]["run"]
    template = yaml.safe_load(readme_block("yaml", "### An Argo Rollouts analysis"))
    [metric] = template["spec"]["metrics"]
    assert metric["successCondition"] == 'result == "go"'
    web = metric["provider"]["web"]
    assert web["jsonPath"] == "{$.decision}"
    assert web["headers"] == [{"key": "Authorization", "value": "Token {{args.greenlight-token}}"}]
    assert "/gate/?stage={{args.stage}}" in web["url"]
