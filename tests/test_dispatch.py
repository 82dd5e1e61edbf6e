"""The dispatcher: the only way work reaches RQ. New, lost and Redis-down rows alike."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import redis
from rq.job import Job, JobStatus
from rq.utils import utcformat
from sqlalchemy import event, select

from loopstrat.clock import utcnow
from loopstrat.models import Outbox
from tests.leads_helpers import LEAD, post_lead
from workers.queues import DEFAULT_QUEUE, SILENT_RUNNING, UNSETTLED_END, queue
from workers.scheduler import LOST_AFTER, dispatch_due, hand_back_lost


def post_leads(client, account, n: int) -> None:
    for i in range(n):
        assert post_lead(client, account, {**LEAD, "phone": f"801555{i:04d}"}).status_code == 202


def test_the_web_only_commits_and_the_dispatcher_queues_the_reply(client, account, rt, clock):
    post_lead(client, account)
    texts = queue(rt, DEFAULT_QUEUE)
    assert texts.count == 0
    assert dispatch_due(rt) == 1
    assert texts.count == 1
    assert dispatch_due(rt) == 0  # claimed: not queued twice


def test_two_dispatchers_at_once_queue_each_row_once(client, account, rt, clock):
    post_leads(client, account, 12)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def dispatch() -> None:
        barrier.wait()
        counts.append(dispatch_due(rt))

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 12
    job_ids = queue(rt, DEFAULT_QUEUE).job_ids
    described = {Job.fetch(job_id, connection=rt.redis).description for job_id in job_ids}
    assert len(job_ids) == len(described) == 12  # each row once in Redis


def test_claims_that_cannot_reach_redis_are_given_back(client, account, rt, reconfigure, db, clock):
    post_leads(client, account, 3)
    down = reconfigure(redis_url="redis://127.0.0.1:6390/0")  # nothing listens there
    with pytest.raises(redis.ConnectionError):  # the scheduler rides the outage out
        dispatch_due(down)
    db.expire_all()
    assert [row.enqueued_at for row in db.scalars(select(Outbox))] == [None, None, None]
    up = reconfigure(redis_url=rt.settings.redis_url)
    assert dispatch_due(up) == 3


def only_job_id(rt) -> str:
    (job_id,) = queue(rt, DEFAULT_QUEUE).job_ids
    return job_id


def test_a_job_whose_worker_died_is_queued_again_once_its_heartbeat_is_silent(
    client, account, rt, clock
):
    post_lead(client, account)
    assert dispatch_due(rt) == 1
    job = Job.fetch(only_job_id(rt), connection=rt.redis)
    queue(rt, DEFAULT_QUEUE).remove(job)  # taken by a worker that was then killed outright
    job.set_status(JobStatus.STARTED)
    job.heartbeat(utcnow(), ttl=600)
    clock.shift(SILENT_RUNNING - timedelta(seconds=1))
    assert hand_back_lost(rt) == 0  # still heard of: a slow job is not a lost one
    assert dispatch_due(rt) == 0
    clock.shift(timedelta(seconds=2))
    assert hand_back_lost(rt) == 1
    assert dispatch_due(rt) == 1


def test_a_job_that_ended_without_settling_its_row_is_queued_again_after_a_pause(
    client, account, rt, clock
):
    post_lead(client, account)
    assert dispatch_due(rt) == 1
    job = Job.fetch(only_job_id(rt), connection=rt.redis)
    queue(rt, DEFAULT_QUEUE).remove(job)
    clock.shift(timedelta(seconds=30))
    rt.redis.hset(job.key, mapping={"status": "failed", "ended_at": utcformat(utcnow())})
    clock.shift(UNSETTLED_END - timedelta(seconds=1))  # 149 s after the claim: from the end
    assert hand_back_lost(rt) == 0
    clock.shift(timedelta(seconds=2))
    assert hand_back_lost(rt) == 1
    assert dispatch_due(rt) == 1


def test_a_job_waiting_for_a_process_however_long_is_never_handed_out_twice(
    client, account, rt, twilio, worker, db, clock
):
    post_leads(client, account, 3)
    assert dispatch_due(rt) == 3  # queued: no worker has taken them yet
    for _ in range(5):  # ten minutes of a backlog that does not move
        clock.shift(UNSETTLED_END)
        assert hand_back_lost(rt) == 0
        assert dispatch_due(rt) == 0
    worker()
    assert len(twilio.created) == 3
    db.expire_all()
    assert [row.attempts for row in db.scalars(select(Outbox))] == [0, 0, 0]


def test_a_job_that_always_dies_is_given_up_not_queued_forever(account, rt, db, clock):
    from loopstrat import outbox as outbox_rows

    with rt.sessions() as session:
        outbox_rows.schedule(session, account_id=account.id, kind="respond_to_lead", ref_id="1")
        session.commit()
    queued = 0
    for _ in range(30):  # the job lost every time (Redis restarting empty under it)
        queued += dispatch_due(rt)
        rt.redis.flushdb()
        clock.shift(LOST_AFTER + timedelta(seconds=1))
        hand_back_lost(rt)
    assert queued == 1 + outbox_rows.MAX_LOST_ATTEMPTS  # the first run, then each retry
    db.expire_all()
    row = db.scalars(select(Outbox)).one()
    assert (row.state, row.reason) == ("failed", "lost_too_often")


def test_a_job_whose_row_is_gone_closes_its_outbox_row(account, rt, worker, db, clock):
    from loopstrat import outbox as outbox_rows

    with rt.sessions() as session:
        outbox_rows.schedule(session, account_id=account.id, kind="respond_to_lead", ref_id="999")
        session.commit()
    worker()
    db.expire_all()
    row = db.scalars(select(Outbox)).one()
    assert (row.state, row.reason) == ("cancelled", "missing")


def test_a_job_redis_lost_is_handed_out_again_within_seconds(client, account, rt, db, clock):
    post_lead(client, account)
    assert dispatch_due(rt) == 1
    rt.redis.flushdb()  # Redis restarted empty: the queued job is gone, the claim is not
    assert hand_back_lost(rt) == 0  # a fresh claim's job may still be on its way to Redis
    clock.shift(LOST_AFTER + timedelta(seconds=1))
    assert hand_back_lost(rt) == 1
    assert dispatch_due(rt) == 1
    assert queue(rt, DEFAULT_QUEUE).count == 1
    db.expire_all()
    assert db.scalars(select(Outbox)).one().attempts == 1  # a lost attempt, as for any loss


def test_a_claim_whose_scheduler_died_before_the_enqueue_is_handed_out_within_seconds(
    client, account, rt, db, clock
):
    from loopstrat import outbox as outbox_rows
    from loopstrat.clock import utcnow

    post_lead(client, account)
    with rt.engine.connect() as conn:  # claimed; then the scheduler died: no job in Redis
        (row_id,) = conn.scalars(select(Outbox.id))
        assert len(outbox_rows.claim(conn, utcnow(), [row_id])) == 1
        conn.commit()
    assert dispatch_due(rt) == 0  # the claim stands
    clock.shift(LOST_AFTER + timedelta(seconds=1))  # seconds, not a silence's
    assert hand_back_lost(rt) == 1
    assert dispatch_due(rt) == 1
    assert queue(rt, DEFAULT_QUEUE).count == 1


def test_a_job_redis_still_has_is_left_to_run(client, account, rt, clock):
    post_lead(client, account)
    assert dispatch_due(rt) == 1
    clock.shift(LOST_AFTER + timedelta(seconds=1))
    assert hand_back_lost(rt) == 0
    assert dispatch_due(rt) == 0
    assert queue(rt, DEFAULT_QUEUE).count == 1


def test_an_idle_poll_is_one_statement(account, rt, clock):
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement.split()[0])

    with rt.engine.connect() as conn:
        held = conn.execution_options(isolation_level="AUTOCOMMIT")  # as run_forever holds it
        dispatch_due(rt, held)
        event.listen(rt.engine, "before_cursor_execute", seen)
        try:
            assert dispatch_due(rt, held) == 0
        finally:
            event.remove(rt.engine, "before_cursor_execute", seen)
    assert statements == ["SELECT"]  # the due rows: none
