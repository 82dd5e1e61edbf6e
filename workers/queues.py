"""Transport: which job runs which outbox kind, on which queue, and handing a row to RQ.

A claimed row's job has an id made from the row and its claim, so the scheduler can ask Redis
whether the job still exists. Never decides what is due: the outbox does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job, JobStatus
from rq.rate_limit import RateLimit
from rq.utils import str_to_date

from loopstrat.outbox import LOST_SILENCE, Kind
from loopstrat.runtime import Runtime

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


def enqueue_outbox(
    rt: Runtime,
    kind: str,
    ref_id: str,
    *,
    account_id: int | None = None,
    job_id: str | None = None,
) -> None:
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
        rate_limit=slots_for(rt, queue_name, account_id),
    )


def slots_for(rt: Runtime, queue_name: str, account_id: int | None) -> RateLimit | None:
    """RQ's concurrency limit for a job: one account's urgent jobs hold at most
    ACCOUNT_JOBS_IN_FLIGHT slots (its burst waits in Redis, not in front of another
    account's lead), the sync CRM_SLOTS, and bulk work at most half of a worker's."""
    settings = rt.settings
    if queue_name == CRM_QUEUE:
        return RateLimit("crm", CRM_SLOTS)
    if queue_name == BULK_QUEUE:
        return RateLimit("bulk", max(1, settings.worker_concurrency // 2))
    if queue_name == DEFAULT_QUEUE and account_id is not None:
        return RateLimit(f"account-{account_id}", settings.account_jobs_in_flight)
    return None


# A claim's job in one of these is waiting its turn (in its queue, or for a concurrency slot):
# however long that takes, the claim is not lost, and running it again would draft twice.
WAITING = frozenset(
    status.value
    for status in (
        JobStatus.CREATED, JobStatus.QUEUED, JobStatus.RATE_LIMITED, JobStatus.DEFERRED,
        JobStatus.SCHEDULED, JobStatus.READY_TO_ENQUEUE,
    )
)  # fmt: skip
JOB_FIELDS = ("status", "last_heartbeat", "started_at", "ended_at")


def jobs_lost(rt: Runtime, claims: Mapping[str, datetime], now: datetime) -> list[str]:
    """Of claims' job ids (with when each was claimed), those whose job is lost, judged from
    Redis in one round trip: gone (Redis restarted empty, or the row's sender died), or not
    heard of for LOST_SILENCE while running or since it ended without settling its row. A
    job waiting for its turn is never lost."""
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
    # Started: its worker heartbeats it (a killed worker's job stays "started" until RQ's
    # maintenance, minutes on). Ended (finished, failed, stopped) with the row unsettled:
    # the job gave up without a retry time, and is run again this long after it stopped.
    heard = max((str_to_date(stamp) for stamp in stamps if stamp), default=claimed_at)
    return heard < now - LOST_SILENCE
