"""The scheduler: every tick, hand due and lost outbox rows to RQ.

It reads only the database, so a lead stored while Redis was down, a reply held for the
morning and a job that died with its worker are all found the same way.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

from sqlalchemy import update

from loopstrat.clock import utcnow
from loopstrat.models import Outbox
from loopstrat.outbox import due_rows
from loopstrat.runtime import Runtime
from workers.queues import JOBS, enqueue_outbox

log = logging.getLogger(__name__)

TICK_S = 2.0


def dispatch_due(rt: Runtime) -> int:
    """Enqueue every due row once; return how many went to RQ."""
    now = utcnow()
    with rt.sessions() as session:
        rows = [(r.id, r.kind, r.ref_id) for r in due_rows(session, now) if r.kind in JOBS]
    sent = 0
    for row_id, kind, ref_id in rows:
        if not enqueue_outbox(rt, kind, ref_id):
            break  # Redis is down: the rows stay due, the next tick tries again
        with rt.sessions() as session:
            session.execute(update(Outbox).where(Outbox.id == row_id).values(enqueued_at=now))
            session.commit()
        sent += 1
    if sent:
        log.info("dispatch enqueued=%d", sent)
    return sent


def run_forever(rt: Runtime, tick_s: float = TICK_S) -> None:
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started tick_s=%s", tick_s)
    while not stopping:
        try:
            dispatch_due(rt)
        except Exception:
            log.exception("scheduler tick failed")
        time.sleep(tick_s)
    log.info("scheduler stopped")
