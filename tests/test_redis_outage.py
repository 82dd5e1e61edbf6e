"""Redis is transport: a real worker and a real scheduler ride out a Redis that is killed with a
backlog queued and comes back empty, and every lead still gets its one text."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import time_machine
from sqlalchemy import func, select

from loopstrat.clock import utcnow
from loopstrat.models import Lead
from tests.leads_helpers import LEAD, post_lead
from tests.twilio_api import ACCOUNT_SID, AUTH_TOKEN
from tests.twilio_standin import TwilioStandIn
from tests.waiting import until

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 60  # waiting for work to happen, not a bound on how fast it must


class RedisServer:
    """A redis-server of the test's own, on a spare port, that can be killed and restarted."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        wait_for(lambda: _answers(client), "redis-server to start")
        client.close()

    def kill(self) -> None:
        """SIGKILL: nothing saved, so it comes back empty."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


class DeadRedis:
    """The port of a Redis that is down: every connection is taken and dropped, and counted, so
    a test can wait until the processes have tried again and again."""

    def __init__(self, port: int) -> None:
        self.attempts = 0
        self.closing = threading.Event()
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(0.05)
        self.thread = threading.Thread(target=self._drop_all, daemon=True)
        self.thread.start()

    def _drop_all(self) -> None:
        while not self.closing.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            conn.close()
            self.attempts += 1

    def close(self) -> None:
        self.closing.set()
        self.thread.join()
        self.server.close()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def wait_for(done: Callable[[], bool], what: str) -> None:
    until(done, DEADLINE_S, what)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


WORKER_PROCESSES = 2
PROCESSES = {"worker": WORKER_PROCESSES, "scheduler": 1}


def spawn(command: str, rt, redis_url: str, twilio_base: str, log: Path) -> subprocess.Popen[bytes]:
    """`loopstrat <command>` as `make run` starts it, on the test's clock and database."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": rt.settings.database_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE": twilio_base,
        "PUBLIC_BASE_URL": rt.settings.public_base_url,
        "LOG_LEVEL": "INFO",
        "LOOPSTRAT_ENV": "test",  # settings default to production, which wants real keys
        "WORKER_CONCURRENCY": str(WORKER_PROCESSES),  # a pool, as `make run` starts it
    }
    real_now = time_machine.escape_hatch.time.time()
    args = [sys.executable, "-m", "tests.daytime_cli", utcnow().isoformat(), str(real_now)]
    with log.open("wb") as out:  # the child has its own copy of the file
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*args, command], cwd=log.parent, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def post_leads(client, account, numbers: range) -> None:
    for i in numbers:
        response = post_lead(client, account, {**LEAD, "phone": f"801555{i:04d}"})
        assert response.status_code == 202


def leads_answered(db) -> int:
    db.expire_all()
    answered = select(func.count()).where(Lead.first_response_at.is_not(None))
    return db.scalar(answered.select_from(Lead))


def lines(log: Path, words: str) -> int:
    return sum(words in line for line in log.read_text().splitlines())


def test_worker_and_scheduler_ride_out_a_redis_that_comes_back_empty(
    client, account, rt, db, redis_server, tmp_path, clock
):
    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "scheduler")}
    with TwilioStandIn() as twilio:
        twilio.hold_posts = True  # the first reply waits inside Twilio while the rest queue
        post_leads(client, account, range(12))
        procs = {
            name: spawn(name, rt, redis_server.url, twilio.base_url, log)
            for name, log in logs.items()
        }
        try:
            assert twilio.received.wait(timeout=DEADLINE_S)
            redis_server.kill()  # with a job running and eleven queued
            twilio.hold_posts = False
            twilio.release.set()
            post_leads(client, account, range(12, 15))  # leads keep coming while Redis is down
            dead = DeadRedis(redis_server.port)
            for name, log in logs.items():
                each = PROCESSES[name]
                wait_for(
                    lambda log=log, each=each: lines(log, "redis unreachable") == each,
                    f"{name} to notice",
                )
            wait_for(lambda: dead.attempts >= 12, "both to keep trying while it is down")
            dead.close()
            redis_server.start()  # empty: the eleven queued jobs are gone

            wait_for(lambda: leads_answered(db) == 15, "every lead to be answered")
            assert twilio.posts == 15
            assert len({text["to"] for text in twilio.created}) == 15  # one text each
            for name, proc in procs.items():
                assert proc.poll() is None, f"{name} exited"
                each = PROCESSES[name]  # once per process, never once per attempt
                wait_for(
                    lambda log=logs[name], each=each: lines(log, "redis reachable again") == each,
                    name,
                )
                assert lines(logs[name], "redis unreachable") == each
        finally:
            codes = {name: stop(proc) for name, proc in procs.items()}
    assert codes == {"worker": 0, "scheduler": 0}
    assert lines(logs["worker"], "quitting") == 0
