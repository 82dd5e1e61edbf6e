"""Transport: which job runs which outbox kind, on which queue, and enqueueing after commit."""

from __future__ import annotations

import logging

import redis
from rq import Queue
from sqlalchemy import update

from loopstrat.models import Outbox
from loopstrat.runtime import Runtime

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "texts"
CRM_QUEUE = "crm"
JOB_TIMEOUT_S = 60
# Outbox kind -> (job function path, queue). Paths, not imports: loopstrat stays import-free
# of workers, and RQ resolves them in the worker.
JOBS: dict[str, tuple[str, str]] = {
    "respond_to_lead": ("workers.jobs.respond_to_lead", DEFAULT_QUEUE),
}


def queue(rt: Runtime, name: str = DEFAULT_QUEUE) -> Queue:
    return Queue(name, connection=rt.redis)


def enqueue_outbox(rt: Runtime, kind: str, ref_id: str) -> bool:
    """Hand one committed outbox row to RQ. False if Redis is down: the dispatcher retries."""
    func, queue_name = JOBS[kind]
    try:
        queue(rt, queue_name).enqueue(
            func,
            int(ref_id) if ref_id.isdigit() else ref_id,
            job_timeout=JOB_TIMEOUT_S,
            result_ttl=300,
            failure_ttl=86400,
            description=f"{kind}:{ref_id}",
        )
    except redis.RedisError as exc:
        log.warning("enqueue failed kind=%s ref=%s error=%r", kind, ref_id, exc)
        return False
    return True


def enqueue_after_commit(rt: Runtime, kind: str, ref_id: str) -> bool:
    """Call only after the outbox row is committed (stamped by outbox.schedule with
    enqueue_after_commit). If Redis is down, clear the stamp: the next tick enqueues it."""
    if enqueue_outbox(rt, kind, ref_id):
        return True
    with rt.sessions() as session:
        session.execute(
            update(Outbox)
            .where(Outbox.kind == kind, Outbox.ref_id == ref_id, Outbox.state == "pending")
            .values(enqueued_at=None)
        )
        session.commit()
    return False
