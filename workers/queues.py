"""Transport: which job runs which outbox kind, on which queue, and handing a row to RQ."""

from __future__ import annotations

import logging

import redis
from rq import Queue

from loopstrat.runtime import Runtime

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "texts"
CRM_QUEUE = "crm"
JOB_TIMEOUT_S = 60
# Outbox kind -> (job function path, queue). Paths, not imports: loopstrat stays import-free
# of workers, and RQ resolves them in the worker.
JOBS: dict[str, tuple[str, str]] = {
    "respond_to_lead": ("workers.jobs.respond_to_lead", DEFAULT_QUEUE),
    "crm_sync": ("workers.jobs.sync_crm", CRM_QUEUE),
    "conversation_inbound": ("workers.jobs.handle_inbound", DEFAULT_QUEUE),
    "conversation_text": ("workers.jobs.send_conversation_text", DEFAULT_QUEUE),
    "conversation_ai_turn": ("workers.jobs.take_ai_turn", DEFAULT_QUEUE),
    "conversation_handoff": ("workers.jobs.check_hand_off", DEFAULT_QUEUE),
    "release_held_leads": ("workers.jobs.release_held_leads", DEFAULT_QUEUE),
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
