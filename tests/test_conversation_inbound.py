"""A lead texts back: stored once, routed to its account, keywords honoured, the contractor told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from loopstrat.models import (
    Account,
    Campaign,
    ConsentEvent,
    Contact,
    Enrollment,
    Lead,
    Message,
    Outbox,
)
from tests.conftest import make_account
from tests.leads_helpers import post_lead
from tests.test_conversation_keywords import OPT_OUTS
from tests.twilio_inbound import EMPTY_TWIML, JANE, inbound_params, post_inbound, sign, text_in
from workers.scheduler import dispatch_due

ALERT_PHONE = "+18015550199"
NIGHT = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)  # 22:30 in Salt Lake City
MORNING_8AM_DENVER = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def lead_with_first_reply(client, account, worker) -> int:
    lead_id = post_lead(client, account).get_json()["lead_id"]
    worker()
    return lead_id


def to_lead(twilio) -> list[str]:
    return [m["Body"] for m in twilio.sent if m["To"] == JANE]


def to_contractor(twilio) -> list[str]:
    return [m["Body"] for m in twilio.sent if m["To"] == ALERT_PHONE]


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_reply_is_forwarded_to_the_contractor_at_once(client, account, twilio, worker, clock, db):
    lead_id = lead_with_first_reply(client, account, worker)
    text_in(client, account, "It's the one in the basement, can you come Tuesday?")
    worker()
    assert to_contractor(twilio) == [
        "New reply from Jane (water heater, 84101): "
        "It's the one in the basement, can you come Tuesday?\n"
        f"Reply to answer Jane, or text #{lead_id} then your message."
    ]
    db.expire_all()
    lead = db.get(Lead, lead_id)
    assert lead.status == "replied"
    assert lead.last_inbound_at is not None
    inbound = db.scalars(select(Message).where(Message.direction == "in")).one()
    assert (inbound.lead_id, inbound.status, inbound.drafted_by) == (lead_id, "received", "lead")


def test_a_bad_signature_is_refused_and_nothing_is_stored(client, account, twilio, db):
    params = inbound_params(account.twilio_number, "hello")
    wrong_url = sign("https://evil.test/twilio/inbound", params)
    assert post_inbound(client, params, signature=wrong_url).status_code == 403
    answer = post_inbound(client, params, signature="bm90IGEgc2lnbmF0dXJl")
    assert answer.status_code == 403
    assert client.post("/twilio/inbound", data=params).status_code == 403
    assert count(db, Message) == 0 and count(db, Contact) == 0


def test_a_text_to_an_unknown_number_touches_no_account(client, rt, twilio, worker, clock, db):
    make_account(rt)
    make_account(rt, twilio_number="+18015550222", form_key="other")
    before = {m: count(db, m) for m in (Contact, Lead, Message, Outbox, ConsentEvent)}
    answer = post_inbound(client, inbound_params("+18015550333", "STOP"))
    assert answer.status_code == 200 and answer.data == EMPTY_TWIML
    worker()
    assert {m: count(db, m) for m in before} == before
    assert twilio.created == []


def test_replayed_webhooks_store_one_message_and_send_one_alert(
    client, account, twilio, worker, clock, db
):
    lead_with_first_reply(client, account, worker)
    params = inbound_params(account.twilio_number, "Tuesday works")
    for _ in range(3):
        assert post_inbound(client, params).data == EMPTY_TWIML
    worker()
    assert post_inbound(client, params).status_code == 200
    worker()
    assert count(db, Message) == 3  # first reply, the inbound text, one alert
    assert len(to_contractor(twilio)) == 1


def test_a_stranger_texting_first_becomes_a_lead(client, account, twilio, worker, clock, db):
    text_in(client, account, "Do you fix garbage disposals?", from_="+13855550188")
    worker()
    lead = db.scalars(select(Lead)).one()
    assert (lead.source, lead.inquiry) == ("sms", "Do you fix garbage disposals?")
    event = db.scalars(select(ConsentEvent)).one()
    assert (event.kind, event.source) == ("inquiry", "sms")
    assert to_contractor(twilio)[0].startswith("New reply from +13855550188 (plumbing)")


@pytest.mark.parametrize("body", OPT_OUTS)
def test_every_opt_out_is_total_recorded_and_confirmed_once(
    client, account, twilio, worker, clock, db, body
):
    lead_with_first_reply(client, account, worker)
    text_in(client, account, body)
    worker()
    contact = db.scalars(select(Contact)).one()
    assert contact.opted_out_at is not None
    event = db.scalars(select(ConsentEvent).where(ConsentEvent.kind == "opt_out")).one()
    assert event.source == "sms" and body in event.text_shown
    assert to_lead(twilio)[1:] == [
        "Acme Plumbing: You're unsubscribed and will get no more texts from us. "
        "Reply START to resubscribe."
    ]
    assert to_contractor(twilio) == []


def test_a_second_stop_changes_nothing_and_sends_nothing(client, account, twilio, worker, clock):
    lead_with_first_reply(client, account, worker)
    text_in(client, account, "STOP")
    text_in(client, account, "stop")
    worker()
    assert len(to_lead(twilio)) == 2  # the first reply and one confirmation


def test_a_second_stop_does_not_cancel_a_confirmation_waiting_to_retry(
    client, account, rt, twilio, worker, clock
):
    lead_with_first_reply(client, account, worker)
    text_in(client, account, "STOP")
    twilio.fail_next(429, 20429)
    worker()  # the confirmation is rate-limited and waits for its retry
    text_in(client, account, "STOP again")
    clock.shift(timedelta(seconds=10))
    dispatch_due(rt)
    worker()
    assert to_lead(twilio)[1:] == [
        "Acme Plumbing: You're unsubscribed and will get no more texts from us. "
        "Reply START to resubscribe."
    ]


def test_stop_start_stop_sends_no_resubscribed_text_to_someone_opted_out(
    client, account, twilio, worker, clock
):
    lead_with_first_reply(client, account, worker)
    for body in ("STOP", "START", "STOP"):
        text_in(client, account, body)
    worker()  # all three jobs run after all three webhooks committed
    assert not any("resubscribed" in body for body in to_lead(twilio))


@pytest.mark.parametrize("body", [" Start ", "unstop!", "Yes."])
def test_start_re_opts_in_with_a_confirmation(client, account, twilio, worker, clock, db, body):
    lead_with_first_reply(client, account, worker)
    text_in(client, account, "STOP")
    text_in(client, account, body)
    worker()
    assert db.scalars(select(Contact)).one().opted_out_at is None
    kinds = db.scalars(select(ConsentEvent.kind).order_by(ConsentEvent.id)).all()
    assert kinds == ["inquiry", "opt_out", "opt_in"]
    assert to_lead(twilio)[-1].startswith("Acme Plumbing: You're resubscribed")


@pytest.mark.parametrize("body", ["help?", " INFO "])
def test_help_names_the_business_how_to_get_help_and_how_to_stop(
    client, account, twilio, worker, clock, body
):
    lead_with_first_reply(client, account, worker)
    text_in(client, account, body)
    worker()
    assert to_lead(twilio)[-1] == (
        "Acme Plumbing: for help, reply here with your question or visit acmeplumbing.com. "
        "Msg & data rates may apply. Reply STOP to opt out."
    )
    assert to_contractor(twilio) == []


@pytest.mark.parametrize("opt_out_type", ["STOP", "START", "HELP"])
def test_twilio_advanced_opt_out_already_answered(
    client, account, twilio, worker, clock, db, opt_out_type
):
    lead_with_first_reply(client, account, worker)
    text_in(client, account, opt_out_type.lower(), OptOutType=opt_out_type)
    worker()
    assert len(to_lead(twilio)) == 1  # only the first reply: Twilio sent the answer
    opted_out = db.scalars(select(Contact)).one().opted_out_at is not None
    assert opted_out == (opt_out_type == "STOP")


def test_without_advanced_opt_out_we_confirm_ourselves(client, rt, twilio, worker, clock, db):
    account = make_account(rt, advanced_opt_out=False)
    lead_with_first_reply(client, account, worker)
    text_in(client, account, "STOP", OptOutType="STOP")
    worker()
    assert to_lead(twilio)[-1].startswith("Acme Plumbing: You're unsubscribed")


def test_stop_cancels_a_pending_follow_up_and_a_campaign_text(
    client, rt, twilio, worker, db, reconfigure
):
    account = make_account(rt, ai_mode="auto")
    with time_machine.travel(NIGHT - timedelta(hours=6), tick=False) as clock:
        lead_id = lead_with_first_reply(client, account, worker)
        enrollment, review = _pending_campaign_text(db, account, lead_id)
        clock.move_to(NIGHT)
        text_in(client, account, "Ok. Is tomorrow morning possible?")
        worker()
        clock.shift(timedelta(seconds=30))
        dispatch_due(rt)
        worker()  # the AI turn waits for the morning
        ai_turn = db.scalars(select(Outbox).where(Outbox.kind == "conversation_ai_turn")).one()
        assert (ai_turn.state, ai_turn.due_at) == ("pending", MORNING_8AM_DENVER)

        text_in(client, account, "STOP please")
        worker()
        clock.move_to(MORNING_8AM_DENVER + timedelta(hours=1))
        dispatch_due(rt)
        worker()

    db.expire_all()
    assert db.get(Outbox, ai_turn.id).state == "cancelled"
    assert db.get(Outbox, ai_turn.id).reason == "opted_out"
    assert (db.get(Enrollment, enrollment).state, db.get(Enrollment, enrollment).reason) == (
        "cancelled",
        "opted_out",
    )
    assert (db.get(Message, review).status, db.get(Message, review).reason) == (
        "cancelled",
        "opted_out",
    )
    assert len(to_lead(twilio)) == 2  # the first reply, then only the confirmation
    assert "unsubscribed" in to_lead(twilio)[-1]


def _pending_campaign_text(db, account: Account, lead_id: int) -> tuple[int, int]:
    lead = db.get(Lead, lead_id)
    campaign = Campaign(account_id=account.id, kind="review_request", name="Reviews")
    db.add(campaign)
    db.flush()
    enrollment = Enrollment(
        account_id=account.id,
        campaign_id=campaign.id,
        contact_id=lead.contact_id,
        lead_id=lead_id,
        kind="review_request",
        key=f"review:{lead_id}",
        due_at=MORNING_8AM_DENVER + timedelta(days=1),
    )
    review = Message(
        account_id=account.id,
        contact_id=lead.contact_id,
        direction="out",
        kind="review_request",
        idempotency_key="review-1",
        to_phone=JANE,
        from_phone=account.twilio_number,
        body="Would you leave us a review?",
        status="deferred",
        scheduled_for=MORNING_8AM_DENVER,
    )
    db.add_all([enrollment, review])
    db.commit()
    return enrollment.id, review.id


def test_alerts_go_out_at_night_unless_the_account_set_do_not_disturb(
    client, rt, twilio, worker, db
):
    quiet = make_account(rt, alert_dnd_start="21:00", alert_dnd_end="07:00")
    with time_machine.travel(NIGHT - timedelta(hours=6), tick=False) as clock:
        lead_with_first_reply(client, quiet, worker)
        clock.move_to(NIGHT)
        text_in(client, quiet, "Still leaking, any chance tonight?")
        worker()
        assert to_contractor(twilio) == []
        seven_am_denver = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
        clock.move_to(seven_am_denver)
        dispatch_due(rt)
        worker()
    assert len(to_contractor(twilio)) == 1


def test_alerts_reach_the_contractor_in_the_lead_s_quiet_hours(client, account, twilio, worker):
    with time_machine.travel(NIGHT - timedelta(hours=6), tick=False) as clock:
        lead_with_first_reply(client, account, worker)
        clock.move_to(NIGHT)
        text_in(client, account, "Still leaking, any chance tonight?")
        worker()
    assert len(to_contractor(twilio)) == 1


def test_two_identical_alerts_are_two_texts_even_when_one_times_out(
    client, account, rt, twilio, worker, clock, db
):
    lead_id = lead_with_first_reply(client, account, worker)
    text_in(client, account, "ok")
    worker()
    twilio.time_out_next(after_accepting=False)
    text_in(client, account, "ok")
    worker()
    clock.shift(timedelta(minutes=3))
    dispatch_due(rt)
    worker()  # reconciling must not take the first alert's Twilio message for its own

    alert = (
        "New reply from Jane (water heater, 84101): ok\n"
        f"Reply to answer Jane, or text #{lead_id} then your message."
    )
    assert to_contractor(twilio) == [alert, alert]
    alerts = db.scalars(select(Message).where(Message.kind == "alert")).all()
    assert {a.twilio_sid for a in alerts} == {m["sid"] for m in twilio.created[1:]}


def test_a_short_code_texting_in_gets_no_reply_and_breaks_nothing(
    client, account, twilio, worker, clock, db
):
    text_in(client, account, "Your code is 1234", from_="22395")
    text_in(client, account, "HELP", from_="22395")
    worker()
    clock.shift(timedelta(minutes=11))  # past the hand-off window
    worker()
    assert ALERT_PHONE in {m["To"] for m in twilio.sent}  # the contractor still sees it
    assert "22395" not in {m["To"] for m in twilio.sent}
    assert db.scalars(select(Outbox).where(Outbox.state == "pending")).all() == []


def test_a_text_stored_before_the_route_column_keeps_its_keyword():
    from loopstrat.conversations.inbound import route_of

    # Stored by the previous release while a deploy overlaps migration 0003.
    assert route_of(Message(reason="opt_out:answered")) == "opt_out"
    assert route_of(Message(reason="help")) == "help"
    assert route_of(Message(reason=None)) == "reply"
    assert route_of(Message(route="no_lead", reason="answered")) == "no_lead"
