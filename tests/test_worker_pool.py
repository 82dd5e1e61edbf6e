"""`loopstrat worker` keeps many jobs in flight (a pool of processes), and a process killed
mid-job has its job handed out again at once, not when its claim goes stale."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job
from rq.worker import Worker
from sqlalchemy import select

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.models import Outbox
from tests import waiting
from workers.queues import DEFAULT_QUEUE, claim_job_id, queue
from workers.scheduler import dispatch_due

WAIT_S = 30.0  # a guard against hanging, never the figure under test


def until(found: Callable[[], Any]) -> Any:
    return waiting.until(found, WAIT_S)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pool(rt, tmp_path) -> Iterator[Callable[[int], subprocess.Popen[bytes]]]:
    """`loopstrat worker --concurrency N` in a process of its own, as `make run` starts it
    (not forked from the test process, whose threads a fork would strand mid-lock)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(processes: int) -> subprocess.Popen[bytes]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": rt.settings.database_url,
            "REDIS_URL": rt.settings.redis_url,
            "LOOPSTRAT_ENV": "test",
        }
        command = [sys.executable, "-c", "from loopstrat.cli import main; main()", "worker",
                   "--concurrency", str(processes)]  # fmt: skip
        with (tmp_path / "worker.log").open("wb") as log:
            started.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and module
                    command,
                    cwd=tmp_path,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its group: teardown can end its processes too
                )
            )
        return started[-1]

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)  # the pool stops its processes, then itself
        try:
            process.wait(WAIT_S)
        except subprocess.TimeoutExpired:
            pass
        # Whatever became of the parent, none of its processes may outlive the test: a
        # stray one would take the next tests' jobs from their Redis database.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_the_pool_runs_jobs_at_the_same_time(rt, pool):
    texts = queue(rt, DEFAULT_QUEUE)
    jobs = [texts.enqueue("tests.pool_jobs.meet", "pool-test-meet", 4) for _ in range(4)]
    pool(4)
    until(lambda: all(job.get_status(refresh=True) == "finished" for job in jobs))
    assert [Job.fetch(job.id, connection=rt.redis).return_value() for job in jobs] == [4] * 4


def test_a_process_killed_mid_job_has_its_job_handed_out_again_at_once(rt, account, db, pool):
    with rt.sessions() as session:
        outbox.schedule(session, account_id=account.id, kind="respond_to_lead", ref_id="1")
        session.commit()
    now = utcnow()
    with rt.engine.connect() as conn:
        (row_id,) = conn.scalars(select(Outbox.id))
        (claim,) = outbox.claim(conn, now, [row_id])
        conn.commit()
    job_id = claim_job_id(row_id, now)
    queue(rt, DEFAULT_QUEUE).enqueue("tests.pool_jobs.hang", job_id=job_id)
    pool(2)

    def running_it() -> Worker | None:
        workers = Worker.all(connection=rt.redis)
        return next((w for w in workers if w.get_current_job_id() == job_id), None)

    os.kill(until(running_it).pid, signal.SIGKILL)

    def handed_back() -> bool:
        db.expire_all()
        row = db.scalars(select(Outbox).where(Outbox.id == row_id)).one()
        # Judged lost: the next poll claims it now, without waiting out its silence.
        return row.enqueued_at == outbox.LOST_MARK

    assert until(handed_back)
    assert dispatch_due(rt) == 1  # claimed and queued again now, not two minutes on


def test_a_pool_told_to_stop_as_a_group_stops(rt, pool):
    """honcho and Heroku send SIGTERM to every process of the group at once. A helper thread
    (the heartbeat, RQ's command listener) that took it left the main thread in its seven-minute
    BLPOP, and the deploy killed the pool outright."""
    started = pool(8)
    until(lambda: len(Worker.all(connection=rt.redis)) >= 8)
    os.killpg(started.pid, signal.SIGTERM)
    started.wait(timeout=20)  # its stop, not a figure: a deploy waits 30 s, then kills
    assert not _group_alive(started.pid)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
