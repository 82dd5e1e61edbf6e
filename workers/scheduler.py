"""The dispatcher: polls the outbox and hands every due row to RQ, new or lost alike.

It reads only the database, so a lead just posted, a lead stored while Redis was down, a reply
held for the morning and a job that died with its worker are all found the same way. Running
two is safe (a row is claimed in one statement) and keeps texts going while one restarts.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.runtime import Runtime
from workers.queues import JOBS, enqueue_outbox

log = logging.getLogger(__name__)

# How long a committed lead may wait for the dispatcher: the web never enqueues, which spares
# each post a Redis round trip and leaves one path for new, held and lost work alike.
DISPATCH_POLL_S = 0.05
FAILURE_PAUSE_S = 2.0


def dispatch_due(rt: Runtime) -> int:
    """Enqueue every due row once; return how many went to RQ."""
    now = utcnow()
    with rt.sessions() as session:
        claimed = outbox.claim_due(session, now, JOBS.keys())
        session.commit()
    sent = 0
    for _row_id, kind, ref_id in claimed:
        if not enqueue_outbox(rt, kind, ref_id):
            break  # Redis is down: give the rest back, the next poll tries again
        sent += 1
    if sent < len(claimed):
        with rt.sessions() as session:
            outbox.release(session, [row_id for row_id, _, _ in claimed[sent:]], now)
            session.commit()
    if sent:
        log.info("dispatch enqueued=%d", sent)
    return sent


def run_forever(rt: Runtime, poll_s: float = DISPATCH_POLL_S) -> None:
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started poll_s=%s", poll_s)
    while not stopping:
        try:
            dispatch_due(rt)
        except Exception:
            log.exception("dispatch failed")
            time.sleep(FAILURE_PAUSE_S)  # the database or Redis is down: don't spin
        time.sleep(poll_s)
    log.info("scheduler stopped")
