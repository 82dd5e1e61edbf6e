"""Transport: which job runs which outbox kind, on which queue, and handing a row to RQ.

A claimed row's job has an id made from the row and its claim, so the scheduler can ask Redis
whether the job still exists. Never decides what is due: the outbox does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job, JobStatus
from rq.utils import str_to_date

from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime
from workers.liveness import LIVE_FOR_S, live_processes

# By urgency, in the order workers take them. texts: a lead or a conversation waits on it.
# crm: the Airtable sync, which may wait a second or so for Airtable's pace, in at most
# CRM_SLOTS processes. bulk: planned work (campaigns) that may wait a minute, in at most half a
# worker's processes. So a lead posted mid-campaign or mid-sync always finds a process free.
DEFAULT_QUEUE = "texts"
CRM_QUEUE = "crm"
BULK_QUEUE = "bulk"
WORKER_QUEUES = (DEFAULT_QUEUE, CRM_QUEUE, BULK_QUEUE)
CRM_SLOTS = 2
JOB_TIMEOUT_S = 60
RESULT_TTL_S = 300
# A failed job's traceback (masked: workers/worker.py) stays for `rq info` and an operator for a
# day, then goes: the outbox row is the record of what failed, and Redis is not storage.
FAILURE_TTL_S = 86400
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
    Kind.CAMPAIGN_PLAN: ("workers.jobs.write_campaign_text", BULK_QUEUE),
    Kind.CAMPAIGN_TEXT: ("workers.jobs.send_campaign_text", BULK_QUEUE),
    Kind.CAMPAIGN_TICK: ("workers.jobs.pace_campaign", BULK_QUEUE),
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
        result_ttl=RESULT_TTL_S,
        failure_ttl=FAILURE_TTL_S,
        description=f"{kind}:{ref_id}",
    )


# Each queue's outbox kinds: the groups the dispatcher hands out turns in.
KINDS_BY_QUEUE: dict[str, list[str]] = {
    name: [kind.value for kind, (_func, queue_name) in JOBS.items() if queue_name == name]
    for name in WORKER_QUEUES
}


@dataclass(frozen=True)
class Capacity:
    """The worker processes, as their beats tell (workers/liveness.py): how many serve texts,
    and the most bulk jobs out at once (half the processes serving bulk, so a lead always
    finds one free)."""

    texts_processes: int
    bulk_in_flight: int


def capacity(rt: Runtime) -> Capacity:
    """One Redis round trip. Before any worker process is heard of (the scheduler up first, a
    host restarting) the pool is taken to be of the configured size: the first worker up finds
    its work waiting."""
    live = live_processes(rt.redis, (DEFAULT_QUEUE, BULK_QUEUE))
    configured = rt.settings.worker_concurrency
    return Capacity(
        texts_processes=live[DEFAULT_QUEUE] or configured,
        bulk_in_flight=max(1, (live[BULK_QUEUE] or configured) // 2),
    )


# A claim's job in one of these is waiting its turn (in its queue for a process, or scheduled):
# however long that takes, the claim is not lost, and running it again would draft twice.
WAITING = frozenset(
    status.value
    for status in (
        JobStatus.CREATED, JobStatus.QUEUED, JobStatus.RATE_LIMITED, JobStatus.DEFERRED,
        JobStatus.SCHEDULED, JobStatus.READY_TO_ENQUEUE,
    )
)  # fmt: skip
JOB_FIELDS = ("status", "last_heartbeat", "started_at", "ended_at")
SILENT_RUNNING = timedelta(seconds=LIVE_FOR_S)
UNSETTLED_END = timedelta(seconds=120)


def jobs_lost(rt: Runtime, claims: Mapping[str, datetime], now: datetime) -> list[str]:
    """Of claims' job ids (with when each was claimed), those whose job is lost, judged from
    Redis in one round trip: gone (Redis restarted empty, or the row's sender died), running
    without a beat for SILENT_RUNNING (its process died), or ended without settling its row
    UNSETTLED_END ago. A job waiting for its turn is never lost."""
    job_ids = list(claims)
    with rt.redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hmget(Job.key_for(job_id), JOB_FIELDS)
        found = pipe.execute()
    return [
        job_id
        for job_id, fields in zip(job_ids, found, strict=True)
        if is_lost(fields, claims[job_id], now)
    ]


def is_lost(fields: Sequence[bytes | None], claimed_at: datetime, now: datetime) -> bool:
    status, *stamps = fields
    if status is None:
        return True
    if status.decode() in WAITING:
        return False
    heard = max((str_to_date(stamp) for stamp in stamps if stamp), default=claimed_at)
    if status.decode() == JobStatus.STARTED.value:
        # Its process beats it every few seconds (workers/liveness.py): silence is a death
        # (RQ itself keeps a killed worker's job "started" until its maintenance, minutes on).
        return heard < now - SILENT_RUNNING
    # Ended (finished, failed, stopped) with the row unsettled: the job gave up without a
    # retry time, and is run again this long after it stopped.
    return heard < now - UNSETTLED_END
