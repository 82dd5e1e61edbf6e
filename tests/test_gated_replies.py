"""The first reply waits for the morning, and never goes to someone who said no."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from loopstrat.models import Contact, Lead, Message
from tests.conftest import make_account
from tests.leads_helpers import LEAD, post_lead
from workers.scheduler import dispatch_due

# 22:30 in Salt Lake City (MST, UTC-7): quiet hours.
NIGHT = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)
MORNING_8AM_DENVER = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def the_reply(db, lead_id: int) -> Message:
    db.expire_all()
    return db.scalars(select(Message).where(Message.lead_id == lead_id)).one()


def test_night_lead_is_held_until_eight_and_then_sent_once(client, account, rt, twilio, worker, db):
    with time_machine.travel(NIGHT, tick=False) as clock:
        lead_id = post_lead(client, account).get_json()["lead_id"]
        worker()
        assert twilio.created == []
        lead = db.get(Lead, lead_id)
        assert lead.response_state == "held"
        assert lead.held_until == MORNING_8AM_DENVER
        assert lead.hold_reason == "quiet_hours"
        msg = the_reply(db, lead_id)
        assert (msg.status, msg.reason, msg.scheduled_for) == (
            "deferred",
            "quiet_hours",
            MORNING_8AM_DENVER,
        )

        clock.move_to(MORNING_8AM_DENVER - timedelta(minutes=1))
        assert dispatch_due(rt) == 0
        clock.move_to(MORNING_8AM_DENVER)
        assert dispatch_due(rt) == 1
        worker()
        clock.shift(timedelta(hours=1))
        dispatch_due(rt)
        worker()

    assert len(twilio.created) == 1
    db.expire_all()
    lead = db.get(Lead, lead_id)
    assert lead.response_state == "responded"
    assert lead.first_response_at == MORNING_8AM_DENVER
    assert lead.first_response_s == (MORNING_8AM_DENVER - NIGHT).total_seconds()
    assert lead.first_touch_by == the_reply(db, lead_id).drafted_by
    assert lead.held_until == MORNING_8AM_DENVER  # the report can tell "held" from "slow"


def test_florida_lead_at_half_past_eight_pm_waits(client, rt, twilio, worker, db):
    account = make_account(rt, twilio_number="+13055550111", timezone="America/New_York")
    eight_thirty_pm_miami = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
    with time_machine.travel(eight_thirty_pm_miami, tick=False):
        answer = post_lead(client, account, {**LEAD, "phone": "305-555-0142", "zip": "33101"})
        worker()
    assert twilio.created == []
    assert db.get(Lead, answer.get_json()["lead_id"]).hold_reason == "quiet_hours"


def test_no_consent_is_suppressed_with_its_reason(client, account, twilio, worker, clock, db):
    lead_id = post_lead(client, account, {**LEAD, "consent": ""}).get_json()["lead_id"]
    worker()
    assert twilio.created == []
    msg = the_reply(db, lead_id)
    assert (msg.status, msg.reason) == ("suppressed", "no_consent")
    assert db.get(Lead, lead_id).response_state == "suppressed"


def test_consent_given_on_a_repost_lets_the_reply_go(client, account, twilio, worker, clock):
    post_lead(client, account, {**LEAD, "consent": ""})
    worker()
    post_lead(client, account, LEAD)
    worker()
    assert len(twilio.created) == 1


def test_opted_out_contact_is_suppressed(client, account, twilio, worker, clock, db):
    post_lead(client, account)
    contact = db.scalars(select(Contact)).one()
    contact.opted_out_at = datetime.now(UTC)
    db.commit()
    lead_id = db.scalars(select(Lead)).one().id
    worker()
    assert twilio.created == []
    assert the_reply(db, lead_id).reason == "opted_out"


def test_inactive_account_sends_nothing(client, rt, twilio, worker, clock, db):
    account = make_account(rt, plan_status="canceled")
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    assert twilio.created == []
    assert the_reply(db, lead_id).reason == "account_inactive"


def test_a_lead_who_texts_while_the_first_reply_is_held_gets_one_text_in_the_morning(
    client, account, rt, twilio, worker, db
):
    from tests.twilio_inbound import JANE, text_in

    with time_machine.travel(NIGHT, tick=False) as clock:
        post_lead(client, account)
        worker()
        clock.shift(timedelta(minutes=5))
        text_in(client, account, "Are you there?")
        worker()  # the contractor is alerted at once, whatever the hour
        clock.move_to(MORNING_8AM_DENVER + timedelta(seconds=30))
        for _ in range(3):
            dispatch_due(rt)
            worker()
            clock.shift(timedelta(minutes=11))
    to_lead = [m["Body"] for m in twilio.sent if m["To"] == JANE]
    assert len(to_lead) == 1, to_lead
    assert "Acme Plumbing" in to_lead[0] and "Reply STOP to opt out" in to_lead[0]
    first = db.scalars(select(Message).where(Message.kind == "first_reply")).one()
    assert (first.status, first.reason) == ("suppressed", "conversation_started")


def test_a_person_who_answers_at_night_stands_the_held_first_reply_down_at_once(
    client, account, rt, twilio, worker, db, caplog
):
    from loopstrat.conversations.takeover import reply_as_person
    from loopstrat.conversations.view import conversation
    from tests.twilio_inbound import JANE

    caplog.set_level(logging.INFO, logger="loopstrat")
    with time_machine.travel(NIGHT, tick=False) as clock:
        lead_id = post_lead(client, account).get_json()["lead_id"]
        worker()
        clock.shift(timedelta(minutes=5))
        reply_as_person(
            rt, account_id=account.id, lead_id=lead_id, body="Mike here", request_key="r1"
        )
        dispatch_due(rt)
        worker()
        with rt.sessions() as session:
            view = conversation(session, account.id, lead_id)
        # The terminal running the processes says why the person's text waits, in words.
        held = "held for quiet hours: goes at 8:00 in America/Denver (15:00 UTC)"
        logged = [r.getMessage() for r in caplog.records if r.name.endswith(".texts")]
        assert any(f'reason=quiet_hours note="{held}"' in line for line in logged), logged
        assert view is not None
        first = next(t for t in view.texts if t.kind == "first_reply")
        # Told at night, not at 8:00: the view does not promise a text that will not go.
        assert (first.status, first.reason, first.hold) == (
            "suppressed",
            "conversation_started",
            None,
        )
        # The lead's first answer is the person's, and it waits for 8:00: the feed says so.
        db.expire_all()
        lead = db.get(Lead, lead_id)
        assert (lead.response_state, lead.held_until) == ("held", MORNING_8AM_DENVER)
        clock.move_to(MORNING_8AM_DENVER + timedelta(seconds=30))
        dispatch_due(rt)
        worker()
    to_lead = [m["Body"] for m in twilio.sent if m["To"] == JANE]
    assert to_lead == ["Acme Plumbing: Mike here. Reply STOP to opt out."]
    # The lead's first answer is the person's, at 8:00:30: that is its speed to lead.
    db.expire_all()
    lead = db.get(Lead, lead_id)
    assert (lead.first_touch_by, lead.first_response_at) == (
        "person",
        MORNING_8AM_DENVER + timedelta(seconds=30),
    )


def test_consent_given_with_an_earlier_inquiry_does_not_cover_a_new_one(
    client, account, twilio, worker, clock, db
):
    post_lead(client, account)
    worker()
    clock.shift(timedelta(minutes=30))
    lead_id = post_lead(client, account, {**LEAD, "consent": ""}).get_json()["lead_id"]
    worker()
    assert len(twilio.created) == 1  # the first inquiry's reply only
    assert the_reply(db, lead_id).reason == "no_consent"
