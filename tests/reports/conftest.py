"""A small plan with results in every state, and a webhook receiver, for the report tests."""

import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kombu.pools
import pytest
from django.utils import timezone

from tests.factories import (
    CaseFactory,
    CohortFactory,
    DefectFactory,
    ExecutionFactory,
    PlanFactory,
    PlanSignoffRoleFactory,
    RequirementFactory,
    UserFactory,
)


@pytest.fixture
def plan(lead, stakeholder, tester):
    """Four cases (one critical) covering two requirements: passed, failed, blocked and
    one not run; one open major defect on the failure; the owner signs as business owner."""
    plan = PlanFactory(owner=lead)
    product = plan.release.product
    cohort = CohortFactory(product=product, members=[tester], name="Sales")
    plan.cohorts.add(cohort)
    r1, r2 = (
        RequirementFactory(product=product, key="R-1"),
        RequirementFactory(product=product, key="R-2"),
    )
    cases = [
        CaseFactory(product=product, key="C-1", critical=True),
        CaseFactory(product=product, key="C-2"),
        CaseFactory(product=product, key="C-3"),
        CaseFactory(product=product, key="C-4"),
    ]
    cases[0].requirements.add(r1)
    cases[1].requirements.add(r1)
    cases[2].requirements.add(r2)
    plan.cases.add(*cases)
    common = {"plan": plan, "tester": tester, "cohort": cohort}
    ExecutionFactory(case=cases[0], passed=True, **common)
    failed = ExecutionFactory(case=cases[1], failed=True, **common)
    ExecutionFactory(case=cases[2], blocked=True, **common)
    ExecutionFactory(case=cases[3], **common)
    defect = DefectFactory(release=plan.release, reported_by=tester, severity="major")
    defect.executions.add(failed)
    plan.stakeholders.add(stakeholder)
    PlanSignoffRoleFactory(plan=plan, signers=[stakeholder])
    return plan


def grow(plan, n: int) -> None:
    """Add ``n`` more cases, each with a history of two executions and a defect."""
    product = plan.release.product
    cohort = plan.cohorts.first()
    tester = UserFactory()
    for _ in range(n):
        case = CaseFactory(product=product)
        case.requirements.add(RequirementFactory(product=product))
        plan.cases.add(case)
        old = ExecutionFactory(
            plan=plan, case=case, tester=tester, cohort=cohort, failed=True, is_latest=False
        )
        ExecutionFactory(
            plan=plan,
            case=case,
            tester=tester,
            cohort=cohort,
            passed=True,
            finished_at=timezone.now(),
        )
        DefectFactory(release=plan.release, reported_by=tester).executions.add(old)


def broker_connections_forget() -> None:
    """Drop pooled broker connections, so the next task connects to the broker now set
    (kombu keeps its pools in a registry of its own, which must go too)."""
    from config.celery import app

    if app._pool is not None:
        app._pool.force_close_all()
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


class Receiver:
    """A loopback HTTP server answering POSTs with the scripted statuses (the last one
    repeats) and keeping what it received. ``holds`` scripts seconds to wait before each
    answer the same way: a held POST whose sender hangs up meanwhile is never answered,
    and is marked so (``answered`` False)."""

    def __init__(self):
        self.statuses = [200]
        self.holds = [0]
        self.received: list[dict] = []
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                record = {"headers": dict(self.headers), "body": body, "answered": False}
                receiver.received.append(record)
                index = len(receiver.received) - 1
                hold = receiver.holds[min(index, len(receiver.holds) - 1)]
                if hold and self.sender_hangs_up_within(hold):
                    return
                status = receiver.statuses[min(index, len(receiver.statuses) - 1)]
                record["answered"] = True
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def sender_hangs_up_within(self, seconds: float) -> bool:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline and not receiver.closing.is_set():
                    readable, _, _ = select.select([self.connection], [], [], 0.1)
                    if readable and not self.connection.recv(1, socket.MSG_PEEK):
                        self.close_connection = True
                        return True
                return False

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/greenlight"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
