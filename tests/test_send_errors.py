"""Twilio's errors: transient ones are retried with backoff, permanent ones are not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from loopstrat.models import Contact, Lead, Message, Outbox
from loopstrat.sms.outbound import CLAIM_LEASE
from tests.leads_helpers import post_lead
from workers.scheduler import dispatch_due


def reply_row(db) -> Message:
    db.expire_all()
    return db.scalars(select(Message).where(Message.direction == "out")).one()


def test_rate_limited_send_is_retried_after_a_backoff(
    client, account, rt, twilio, worker, clock, db
):
    twilio.fail_next(429, 20429)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    assert twilio.created == []
    row = db.scalars(select(Outbox)).one()
    assert row.attempts == 1 and row.last_error == "twilio_rate_limited"

    assert dispatch_due(rt) == 0  # not before the backoff
    clock.shift(timedelta(seconds=6))
    assert dispatch_due(rt) == 1
    worker()
    assert len(twilio.created) == 1
    assert db.get(Lead, lead_id).response_state == "responded"


def test_server_error_is_reconciled_then_sent_once(client, account, rt, twilio, worker, clock, db):
    twilio.fail_next(500, 20500)
    post_lead(client, account)
    worker()
    assert reply_row(db).status == "unknown"
    clock.shift(CLAIM_LEASE + timedelta(seconds=1))
    dispatch_due(rt)
    worker()
    assert len(twilio.created) == 1
    assert twilio.create_calls == 2
    assert reply_row(db).twilio_sid == twilio.created[0]["sid"]


def test_unsubscribed_recipient_is_not_retried_and_is_opted_out(
    client, account, rt, twilio, worker, clock, db
):
    twilio.fail_next(400, 21610)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    clock.shift(timedelta(minutes=30))
    dispatch_due(rt)
    worker()
    assert twilio.create_calls == 1
    assert reply_row(db).error_code == 21610
    assert db.get(Lead, lead_id).response_state == "failed"
    assert db.scalars(select(Contact)).one().opted_out_at is not None


def test_a_send_that_keeps_failing_gives_up_after_its_attempts(
    client, account, rt, twilio, worker, clock, db
):
    for _ in range(10):
        twilio.fail_next(429, 20429)
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    for _ in range(8):
        clock.shift(timedelta(minutes=11))
        dispatch_due(rt)
        worker()
    assert twilio.created == []
    assert twilio.create_calls == 6
    assert db.get(Lead, lead_id).response_state == "failed"
    assert db.scalars(select(Outbox)).one().state == "failed"


def test_an_unknown_outcome_on_the_last_attempt_is_still_reconciled(
    client, account, rt, twilio, worker, clock, db
):
    for _ in range(5):
        twilio.fail_next(429, 20429)
    twilio.time_out_next(after_accepting=True)  # the sixth and last try: Twilio took it
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    for _ in range(8):
        clock.shift(timedelta(minutes=11))
        dispatch_due(rt)
        worker()
    assert len(twilio.created) == 1
    assert twilio.create_calls == 6
    assert reply_row(db).twilio_sid == twilio.created[0]["sid"]
    assert db.get(Lead, lead_id).response_state == "responded"
