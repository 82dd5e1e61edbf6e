"""Never text a person twice for the same reason: duplicates, re-runs, timeouts, dead workers."""

from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta

from sqlalchemy import select

from loopstrat.leads.respond import respond_to_lead
from loopstrat.models import Lead, Message
from loopstrat.sms.outbound import CLAIM_LEASE
from tests.leads_helpers import post_lead
from tests.twilio_standin import TwilioStandIn
from workers.queues import SILENT_RUNNING, enqueue_outbox
from workers.scheduler import dispatch_due


def first_reply(db, lead_id: int) -> Message:
    db.expire_all()
    return db.scalars(select(Message).where(Message.lead_id == lead_id)).one()


def test_duplicate_post_sends_one_text(client, account, twilio, worker, clock, db):
    ids = {post_lead(client, account).get_json()["lead_id"] for _ in range(3)}
    worker()
    assert len(ids) == 1
    assert len(twilio.created) == 1


def test_a_job_enqueued_twice_sends_one_text(client, account, rt, twilio, worker, clock):
    lead_id = post_lead(client, account).get_json()["lead_id"]
    enqueue_outbox(rt, "respond_to_lead", str(lead_id))
    enqueue_outbox(rt, "respond_to_lead", str(lead_id))
    worker()
    assert len(twilio.created) == 1
    assert twilio.create_calls == 1


def test_job_run_again_after_success_sends_nothing(client, account, rt, twilio, worker, clock):
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    assert respond_to_lead(rt, lead_id).result == "already"
    assert twilio.create_calls == 1


def test_twilio_took_it_but_timed_out_is_reconciled_not_resent(
    client, account, rt, twilio, worker, clock, db
):
    twilio.time_out_next(after_accepting=True)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    assert first_reply(db, lead_id).status == "unknown"

    clock.shift(timedelta(seconds=30))  # Twilio may still be creating it: neither ask nor send
    assert dispatch_due(rt) == 1
    worker()
    assert first_reply(db, lead_id).status == "unknown"
    assert [c.request.method for c in twilio.mock.calls] == ["POST"]

    clock.shift(CLAIM_LEASE)
    assert dispatch_due(rt) == 1
    worker()

    assert twilio.create_calls == 1
    msg = first_reply(db, lead_id)
    assert msg.twilio_sid == twilio.created[0]["sid"]
    assert db.get(Lead, lead_id).response_state == "responded"


def test_twilio_never_got_it_is_sent_once_after_reconciling(
    client, account, rt, twilio, worker, clock, db
):
    twilio.time_out_next(after_accepting=False)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    clock.shift(CLAIM_LEASE + timedelta(seconds=1))
    dispatch_due(rt)
    worker()
    assert twilio.create_calls == 2
    assert len(twilio.created) == 1
    assert first_reply(db, lead_id).twilio_sid == twilio.created[0]["sid"]


def test_worker_killed_during_the_twilio_call_is_recovered_without_a_second_text(
    client, account, rt, reconfigure, worker, clock, db
):
    with TwilioStandIn() as standin:
        rt = reconfigure(twilio_api_base=standin.base_url)
        lead_id = post_lead(client, account).get_json()["lead_id"]
        standin.hold_posts = True
        pid = os.fork()
        if pid == 0:  # the worker: dies inside the Twilio call
            try:
                rt.engine.dispose(close=False)
                respond_to_lead(rt, lead_id)
            finally:
                os._exit(0)
        assert standin.received.wait(timeout=30)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        standin.hold_posts = False
        standin.release.set()
        assert first_reply(db, lead_id).status == "claimed"

        # While the claim is fresh, a re-run must not touch it.
        assert respond_to_lead(rt, lead_id).result == "in_flight"
        clock.shift(max(CLAIM_LEASE, SILENT_RUNNING) + timedelta(seconds=1))
        assert dispatch_due(rt) == 1
        worker()

        assert standin.posts == 1
        msg = first_reply(db, lead_id)
        assert msg.twilio_sid == standin.created[0]["sid"]
        assert db.get(Lead, lead_id).response_state == "responded"


def test_two_workers_at_once_send_one_text(client, account, reconfigure, clock, db):
    with TwilioStandIn() as standin:
        rt = reconfigure(twilio_api_base=standin.base_url)
        lead_id = post_lead(client, account).get_json()["lead_id"]
        standin.hold_posts = True
        first = threading.Thread(target=respond_to_lead, args=(rt, lead_id))
        first.start()
        assert standin.received.wait(timeout=30)
        assert respond_to_lead(rt, lead_id).result == "in_flight"
        standin.release.set()
        first.join(timeout=30)
        assert standin.posts == 1
        assert first_reply(db, lead_id).status == "queued"


def test_a_rejected_reply_run_again_stays_failed_and_is_not_resent(
    client, account, rt, twilio, worker, clock, db
):
    twilio.fail_next(400, 21211)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    assert respond_to_lead(rt, lead_id).result == "rejected"
    assert twilio.create_calls == 1
    db.expire_all()
    assert db.get(Lead, lead_id).response_state == "failed"
    assert first_reply(db, lead_id).error_code == 21211
