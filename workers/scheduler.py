"""The dispatcher: polls the outbox and hands every due row to RQ, new or lost alike.

It reads only the database, so a lead just posted, a lead stored while Redis was down, a reply
held for the morning and a job that died with its worker are all found the same way. Running
two is safe (a row is claimed in one statement) and keeps texts going while one restarts.
A Redis outage is waited out, never a reason to exit.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import timedelta
from types import FrameType
from typing import Any

from sqlalchemy import Connection

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.runtime import Runtime
from loopstrat.wake import CHANNEL
from workers.queues import (
    JOBS,
    KINDS_BY_QUEUE,
    capacity,
    claim_job_id,
    enqueue_outbox,
    jobs_lost,
)
from workers.redis_outage import REDIS_DOWN, RedisOutage
from workers.turns import next_turns, rooms

log = logging.getLogger(__name__)

# With nothing due and no wake-up, the dispatcher still looks this often: a wake-up lost (Redis
# restarting, a process killed between its commit and its publish) costs at most this long.
IDLE_POLL_S = 1.0
FAILURE_PAUSE_S = 2.0
# How often claims are checked against Redis for jobs it lost (a restart that came back
# empty), and how old a claim must be before its job must be there: a younger one may still
# be on its way to Redis from another dispatcher.
LOST_SWEEP_S = 2.0
LOST_AFTER = timedelta(seconds=5)
CLAIMS_PER_SWEEP = 1000
# No queue is handed more than a pool's worth at once: deeper than this into one account's
# backlog is never its turn yet.
CANDIDATES_PER_ACCOUNT = 64


def dispatch_due(rt: Runtime, conn: Connection | None = None) -> int:
    """Hand out the due rows it is each one's turn for, as many as the worker processes can
    take now (workers/turns.py); return how many went to RQ. If Redis is down, the claims not
    yet handed over are given back and the error raised.

    `conn`: a connection in autocommit mode, so an idle poll is one statement and nothing
    else (no BEGIN, COMMIT or pool check-out); without it one is checked out for this call.
    """
    if conn is None:
        with rt.engine.connect() as own:
            return dispatch_due(rt, own.execution_options(isolation_level="AUTOCOMMIT"))
    now = utcnow()
    groups = KINDS_BY_QUEUE
    candidates = outbox.due_candidates(conn, now, groups, per_account=CANDIDATES_PER_ACCOUNT)
    if not candidates:
        conn.commit()  # ends SQLAlchemy's bookkeeping; in autocommit the driver sends nothing
        return 0
    flying = outbox.in_flight(conn, groups)
    turns = next_turns(candidates, flying, rooms(capacity(rt), flying))
    order = {row_id: place for place, row_id in enumerate(turns)}
    # Queued in turn order (RETURNING keeps none): the first free process takes the first turn.
    claimed = sorted(outbox.claim(conn, now, turns), key=lambda claim: order[claim.id])
    conn.commit()
    sent = 0
    try:
        for claim in claimed:
            enqueue_outbox(rt, claim.kind, claim.ref_id, job_id=claim_job_id(claim.id, now))
            sent += 1
    finally:
        if sent < len(claimed):
            with rt.sessions() as session:
                outbox.release(session, [claim.id for claim in claimed[sent:]], now)
                session.commit()
    if sent:
        log.info("dispatch enqueued=%d", sent)
    return sent


class LostJobSweep:
    """Finds claims whose job is lost and makes them claimable at once. Every claim older than
    LOST_AFTER is asked after, a page of them a sweep, so a backlog of thousands waiting their
    turn does not hide a lost one behind it."""

    def __init__(self) -> None:
        self._after = 0  # the last row id of the previous page; 0: start again

    def run(self, rt: Runtime) -> int:
        """How many claims it handed back. Raises if Redis is down (nothing is judged then)."""
        now = utcnow()
        with rt.sessions() as session:
            claims = outbox.claims_to_check(
                session, now, LOST_AFTER, after=self._after, limit=CLAIMS_PER_SWEEP
            )
            session.commit()
        self._after = claims[-1][0] if len(claims) == CLAIMS_PER_SWEEP else 0
        if not claims:
            return 0
        by_job = {claim_job_id(row_id, at): (row_id, at) for row_id, at in claims}
        claimed_at = {job_id: at for job_id, (_row, at) in by_job.items()}
        lost = [by_job[job_id] for job_id in jobs_lost(rt, claimed_at, now)]
        with rt.sessions() as session:
            handed_back = outbox.mark_lost(session, lost)
            session.commit()
        if handed_back:
            log.warning("dispatch lost_jobs=%d handed back", handed_back)
        return handed_back


def hand_back_lost(rt: Runtime) -> int:
    """One sweep from the first claim: what the scheduler does every LOST_SWEEP_S."""
    return LostJobSweep().run(rt)


def run_forever(rt: Runtime, idle_poll_s: float = IDLE_POLL_S) -> None:
    """The scheduler process: dispatch until SIGTERM or SIGINT."""
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    serve(rt, stopping, idle_poll_s)


def serve(rt: Runtime, stopping: threading.Event, idle_poll_s: float = IDLE_POLL_S) -> None:
    """Dispatch what is due, then sleep until a commit wakes it (loopstrat/wake.py), the next
    row falls due, the lost-job sweep is due, or idle_poll_s passes: the poll that finds work
    whose wake-up was lost."""
    log.info("scheduler started idle_poll_s=%s", idle_poll_s)
    outage = RedisOutage("scheduler")
    wakeups = Wakeups(rt)
    lost_jobs = LostJobSweep()
    conn: Connection | None = None
    next_sweep = 0.0
    while not stopping.is_set():
        try:
            conn = conn or _claims_connection(rt)
            dispatch_due(rt, conn)
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + LOST_SWEEP_S
                if lost_jobs.run(rt):
                    continue  # dispatch them now
            sleep_s = min(idle_poll_s, next_sweep - time.monotonic(), _until_next_due(conn))
            wakeups.wait(max(0.0, sleep_s))
        except REDIS_DOWN as exc:
            wakeups.close()
            if outage.ride_out(rt.redis, exc, stopping.is_set):
                next_sweep = 0.0  # back, perhaps empty: look for lost jobs at once
            continue
        except Exception:
            log.exception("dispatch failed")
            _discard(conn)  # the database may have dropped it: take a fresh one
            conn = None
            stopping.wait(FAILURE_PAUSE_S)  # the database is down: don't spin
    wakeups.close()
    if conn is not None:
        conn.close()
    log.info("scheduler stopped")


def _until_next_due(conn: Connection) -> float:
    now = utcnow()
    due = outbox.next_due_at(conn, JOBS.keys(), after=now)
    conn.commit()
    return float("inf") if due is None else (due - now).total_seconds()


class Wakeups:
    """The wake-up channel, subscribed on first wait and again after Redis comes back."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.pubsub: Any = None

    def wait(self, timeout_s: float) -> None:
        """Until a wake-up or timeout_s; a burst of wake-ups is read as one."""
        if self.pubsub is None:
            self.pubsub = self.rt.redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            self.pubsub.subscribe(CHANNEL)
        message = self.pubsub.get_message(timeout=timeout_s)
        while message is not None:
            message = self.pubsub.get_message(timeout=0)

    def close(self) -> None:
        if self.pubsub is not None:
            try:
                self.pubsub.close()
            except REDIS_DOWN:
                pass
            self.pubsub = None


def _claims_connection(rt: Runtime) -> Connection:
    """Held for the scheduler's life: a pool check-out costs PostgreSQL a ping per poll."""
    return rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _discard(conn: Connection | None) -> None:
    if conn is not None:
        conn.invalidate()
        conn.close()
