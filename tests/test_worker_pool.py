"""`loopstrat worker` keeps many jobs in flight (a pool of processes), and a process killed
mid-job has its job handed out again at once, not when its claim goes stale."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from multiprocessing import get_context
from typing import Any

import pytest
from rq.job import Job
from rq.worker import Worker
from sqlalchemy import select

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.models import Outbox
from workers.pool import LoopstratPool
from workers.queues import DEFAULT_QUEUE, claim_job_id, queue

WAIT_S = 30.0  # a guard against hanging, never the figure under test


def until(found: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if value := found():
            return value
        time.sleep(0.1)
    raise AssertionError("never happened")


@pytest.fixture
def pool(rt) -> Iterator[Callable[[int], None]]:
    started = []

    def start(processes: int) -> None:
        process = get_context("fork").Process(
            target=lambda: LoopstratPool(rt, [DEFAULT_QUEUE], processes).start()
        )
        process.start()
        started.append(process)

    yield start
    for process in started:
        os.kill(process.pid, signal.SIGTERM)  # the pool stops its processes, then itself
        process.join(15)
        if process.is_alive():
            os.killpg(os.getpgid(process.pid), signal.SIGKILL)


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
        (claim,) = outbox.claim_due(conn, now, ["respond_to_lead"])
        row_id = claim.id
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
        # Made stale: the next poll claims it, without waiting out REENQUEUE_AFTER.
        return row.enqueued_at is not None and row.enqueued_at < now - outbox.REENQUEUE_AFTER

    until(handed_back)
