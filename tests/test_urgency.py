"""Urgent work first, fairly: a lead's reply goes before any queued campaign work, and one
account's burst of leads does not hold back another account's lead."""

from __future__ import annotations

from rq.job import Job
from rq.registry import FinishedJobRegistry
from sqlalchemy import select

from loopstrat.models import Lead
from tests.conftest import make_account
from tests.leads_helpers import LEAD, post_lead
from workers.queues import BULK_QUEUE, DEFAULT_QUEUE, queue
from workers.scheduler import dispatch_due
from workers.worker import LoopstratWorker


def post_from(client, account, i: int) -> int:
    """A lead from a visitor of its own (an address and a phone), as a burst of real ones."""
    answer = post_lead(
        client,
        account,
        {**LEAD, "phone": f"801555{i:04d}"},
        environ_base={"REMOTE_ADDR": f"10.1.{i // 200}.{i % 200 + 1}"},
    )
    assert answer.status_code == 202
    return int(answer.get_json()["lead_id"])


def started_in_order(rt, names: tuple[str, ...]) -> list[Job]:
    """Every job the burst worker finished, by when it started."""
    ids = [
        i for name in names for i in FinishedJobRegistry(name, connection=rt.redis).get_job_ids()
    ]
    jobs = Job.fetch_many(ids, connection=rt.redis)
    return sorted((job for job in jobs if job is not None), key=lambda job: job.started_at)


def test_a_low_urgency_backlog_never_runs_before_a_newly_posted_lead(
    client, account, rt, twilio, worker, clock, db
):
    bulk = queue(rt, BULK_QUEUE)
    backlog = [bulk.enqueue("tests.pool_jobs.campaign_like", n) for n in range(40)]
    lead_id = post_from(client, account, 1)
    worker()
    order = started_in_order(rt, (DEFAULT_QUEUE, BULK_QUEUE))
    assert {job.id for job in backlog} <= {job.id for job in order}  # the backlog ran too
    assert order[0].description == f"respond_to_lead:{lead_id}"
    assert db.get(Lead, lead_id).first_response_at is not None


def test_one_accounts_burst_takes_every_free_process_and_another_lead_the_next_one(
    client, account, rt, reconfigure, twilio, db, clock
):
    rt = reconfigure(worker_concurrency=6)  # a pool of six, none of them heard of yet
    other = make_account(rt, name="Other Co", twilio_number="+18015550222")
    burst = [post_from(client, account, i) for i in range(30)]
    assert dispatch_due(rt) == 6  # work-conserving: the whole idle pool, not a share of it
    assert dispatch_due(rt) == 0  # the rest waits in the outbox for a process to come free
    theirs = post_from(client, other, 99)
    assert dispatch_due(rt) == 0  # every process is spoken for

    texts = queue(rt, DEFAULT_QUEUE)
    LoopstratWorker([texts], connection=rt.redis).work(burst=True, max_jobs=1)
    assert dispatch_due(rt) == 1  # one process came free: it is the other account's turn
    assert Job.fetch(texts.job_ids[-1], connection=rt.redis).description == (
        f"respond_to_lead:{theirs}"
    )
    LoopstratWorker([texts], connection=rt.redis).work(burst=True)
    while dispatch_due(rt):  # then the burst goes on, through the processes as they free
        LoopstratWorker([texts], connection=rt.redis).work(burst=True)
    answered = db.scalars(select(Lead).where(Lead.first_response_at.is_not(None))).all()
    assert {lead.id for lead in answered} == {*burst, theirs}
