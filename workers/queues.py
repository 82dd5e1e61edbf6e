"""Transport: which job runs which outbox kind, on which queue, and handing a row to RQ.

A claimed row's job has an id made from the row and its claim, so the scheduler can ask Redis
whether the job still exists. Never decides what is due: the outbox does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job

from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime

DEFAULT_QUEUE = "texts"
CRM_QUEUE = "crm"
JOB_TIMEOUT_S = 60
# Outbox kind -> (job function path, queue). Paths, not imports: loopstrat stays import-free
# of workers, and RQ resolves them in the worker.
JOBS: dict[Kind, tuple[str, str]] = {
    Kind.RESPOND_TO_LEAD: ("workers.jobs.respond_to_lead", DEFAULT_QUEUE),
    Kind.CRM_SYNC: ("workers.jobs.sync_crm", CRM_QUEUE),
    Kind.CONVERSATION_INBOUND: ("workers.jobs.handle_inbound", DEFAULT_QUEUE),
    Kind.CONTRACTOR_TEXT: ("workers.jobs.answer_contractor", DEFAULT_QUEUE),
    Kind.CONVERSATION_TEXT: ("workers.jobs.send_conversation_text", DEFAULT_QUEUE),
    Kind.AI_TURN: ("workers.jobs.take_ai_turn", DEFAULT_QUEUE),
    Kind.HANDOFF_CHECK: ("workers.jobs.check_hand_off", DEFAULT_QUEUE),
    Kind.RELEASE_HELD_LEADS: ("workers.jobs.release_held_leads", DEFAULT_QUEUE),
}


def queue(rt: Runtime, name: str = DEFAULT_QUEUE) -> Queue:
    return Queue(name, connection=rt.redis)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def claim_job_id(row_id: int, claimed_at: datetime) -> str:
    """The RQ job id of one claim of one outbox row (RQ allows letters, digits, _ and -)."""
    return f"outbox-{row_id}-{(claimed_at - EPOCH) // timedelta(microseconds=1)}"


def parse_claim_job_id(job_id: str) -> tuple[int, datetime] | None:
    """(row id, claimed at) of a claim's job id; None for a job that is not an outbox claim."""
    prefix, _, rest = job_id.partition("-")
    row, _, micros = rest.partition("-")
    if prefix != "outbox" or not row.isdigit() or not micros.isdigit():
        return None
    return int(row), EPOCH + timedelta(microseconds=int(micros))


def enqueue_outbox(rt: Runtime, kind: str, ref_id: str, *, job_id: str | None = None) -> None:
    """Hand one committed outbox row to RQ. Raises redis errors: the caller gives the claim
    back and rides the outage out."""
    func, queue_name = JOBS[Kind(kind)]
    queue(rt, queue_name).enqueue(
        func,
        int(ref_id) if ref_id.isdigit() else ref_id,
        job_id=job_id,
        job_timeout=JOB_TIMEOUT_S,
        result_ttl=300,
        failure_ttl=86400,
        description=f"{kind}:{ref_id}",
    )


def jobs_missing(rt: Runtime, job_ids: Sequence[str]) -> list[str]:
    """The ids Redis has no job for (it restarted empty, or was flushed): one round trip."""
    with rt.redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.exists(Job.key_for(job_id))
        found = pipe.execute()
    return [job_id for job_id, exists in zip(job_ids, found, strict=True) if not exists]
