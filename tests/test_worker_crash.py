"""A worker host that dies outright costs seconds, not minutes: real `loopstrat worker` and
`loopstrat scheduler` processes, the whole worker process tree SIGKILLed (an OOM kill, a host
lost) with an account's drafts in flight and more waiting; and one account's burst uses the
idle pool while another account's lead still takes the next free process.

Drafts come from a local stand-in of Anthropic's Messages API that takes DRAFT_S a draft, and
texts go to a local stand-in of Twilio's: each lead must be texted exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import time_machine
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from loopstrat.clock import utcnow
from loopstrat.models import Outbox
from tests.claude_api import message_payload
from tests.conftest import make_account
from tests.leads_helpers import LEAD, post_lead
from tests.twilio_api import ACCOUNT_SID, AUTH_TOKEN
from tests.twilio_standin import TwilioStandIn
from tests.waiting import until

ROOT = Path(__file__).resolve().parent.parent
DRAFT_S = 2.0
# Guards against a hung test, never the figure under test (bench/burst.py measures that). Each
# is far inside what the fault costs without recovery: a dead job's concurrency slot held
# until RQ's maintenance (600 s), or its claim until a two-minute silence.
RECOVERY_GUARD_S = 75.0
START_GUARD_S = 45.0


@dataclass
class SlowClaude:
    """Anthropic's Messages API, DRAFT_S a draft, as many at once as are asked."""

    server: HTTPServer
    arrivals: list[tuple[float, str]] = field(default_factory=list)  # (when, the lead's marker)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Request) -> Response:
        body = request.get_data(as_text=True)
        marker = next((word for word in body.replace('"', " ").split() if word.startswith("lead-")),
                      "?")  # fmt: skip
        with self.lock:
            self.arrivals.append((time.monotonic(), marker.strip(".,\\")))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(DRAFT_S)
        finally:
            with self.lock:
                self.in_flight -= 1
        text = "Hi, thanks for reaching out. We can come by today. What time suits you?"
        return Response(json.dumps(message_payload(text)), content_type="application/json")


@pytest.fixture
def slow_claude() -> Iterator[SlowClaude]:
    server = HTTPServer(host="127.0.0.1", threaded=True)
    standin = SlowClaude(server)
    server.expect_request("/v1/messages", method="POST").respond_with_handler(standin.answer)
    server.start()
    yield standin
    server.clear()
    if server.is_running():
        server.stop()


@dataclass
class Host:
    """The processes `make run` starts, each its own process group: killing a group kills the
    whole tree (the pool's parent and every child), as losing the host does."""

    rt: object
    twilio: TwilioStandIn
    claude: SlowClaude
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, command: str, processes: int = 4) -> subprocess.Popen[bytes]:
        settings = self.rt.settings  # type: ignore[attr-defined]
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE": self.twilio.base_url,
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": self.claude.server.url_for("/").rstrip("/"),
            "PUBLIC_BASE_URL": settings.public_base_url,
            "LOOPSTRAT_ENV": "test",
            "LOG_LEVEL": "INFO",
            "WORKER_CONCURRENCY": str(processes),
        }
        real_now = time_machine.escape_hatch.time.time()
        args = [sys.executable, "-m", "tests.daytime_cli", utcnow().isoformat(), str(real_now)]
        log = self.logs / f"{command}-{len(self.started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [*args, command], cwd=self.logs, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.started.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # none may outlive the test
            proc.wait()


@pytest.fixture
def host(rt, slow_claude, tmp_path) -> Iterator[Host]:
    with TwilioStandIn() as twilio:
        running = Host(rt, twilio, slow_claude, tmp_path)
        try:
            yield running
        finally:
            running.stop_all()


def post_leads(client, account, numbers: range) -> list[str]:
    """The leads' phones as Twilio will see them (E.164)."""
    phones = []
    for i in numbers:
        lead = {**LEAD, "phone": f"801555{i:04d}", "message": f"leaking, lead-{i}"}
        assert post_lead(client, account, lead).status_code == 202
        phones.append(f"+1801555{i:04d}")
    return phones


def texted(twilio: TwilioStandIn, phones: list[str]) -> dict[str, int]:
    sent = [message["to"] for message in list(twilio.created)]
    return {phone: sent.count(phone) for phone in phones}


def settled(db) -> bool:
    db.expire_all()
    standing = select(func.count()).where(
        Outbox.state == "pending", Outbox.kind == "respond_to_lead"
    )
    return db.scalar(standing.select_from(Outbox)) == 0


def test_a_worker_host_killed_outright_mid_burst_loses_no_lead_and_texts_none_twice(
    client, account, host, db, clock
):
    phones = post_leads(client, account, range(10))
    host.start("scheduler")
    worker = host.start("worker", processes=4)
    until(lambda: host.claude.in_flight >= 4, START_GUARD_S, "four drafts in flight")
    host.kill(worker)  # with four jobs running and six waiting
    host.start("worker", processes=4)
    until(lambda: all(texted(host.twilio, phones).values()), RECOVERY_GUARD_S, "every text")
    until(lambda: settled(db), START_GUARD_S, "every job settled")  # a duplicate lands by then
    assert set(texted(host.twilio, phones).values()) == {1}


def test_with_two_worker_hosts_the_one_left_finishes_the_leads_of_the_one_killed(
    client, account, host, db, clock
):
    phones = post_leads(client, account, range(8))
    host.start("scheduler")
    doomed = host.start("worker", processes=2)
    host.start("worker", processes=2)
    until(lambda: host.claude.in_flight >= 4, START_GUARD_S, "both hosts drafting")
    host.kill(doomed)
    until(lambda: all(texted(host.twilio, phones).values()), RECOVERY_GUARD_S, "every text")
    until(lambda: settled(db), START_GUARD_S, "every job settled")  # a duplicate lands by then
    assert set(texted(host.twilio, phones).values()) == {1}


def test_one_accounts_burst_uses_the_idle_pool_and_another_lead_takes_the_next_free_process(
    client, account, rt, host, db, clock
):
    other = make_account(rt, name="Other Co", twilio_number="+18015550222")
    host.start("scheduler")
    host.start("worker", processes=6)
    burst = post_leads(client, account, range(18))
    until(lambda: host.claude.in_flight >= 6, START_GUARD_S, "the pool drafting")
    posted_at = time.monotonic()
    theirs = post_leads(client, other, range(900, 901))
    until(lambda: all(texted(host.twilio, [*burst, *theirs]).values()), START_GUARD_S, "texts")
    assert host.claude.most_in_flight > 4  # more than any fixed per-account share
    after = [marker for at, marker in host.claude.arrivals if at > posted_at]
    # Drafted in the first wave of processes that came free after its post, not behind the
    # burst's other twelve; which of the six freed at once reaches Claude first is a race.
    assert "lead-900" in after[:6], after
    until(lambda: settled(db), START_GUARD_S, "every job settled")
    assert set(texted(host.twilio, [*burst, *theirs]).values()) == {1}
