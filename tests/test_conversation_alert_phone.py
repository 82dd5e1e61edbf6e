"""The contractor answers from their phone: a text from the alert phone goes to the lead of the
latest alert (or of its #reference) as `loopstrat reply` would, and they are told what became
of it. End to end through the signed webhook, the dispatcher and the worker."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from loopstrat.conversations.alerts import hand_off_body
from loopstrat.conversations.contractor_reply import answer_contractor
from loopstrat.models import Account, ConsentEvent, Contact, Lead, Message
from tests.conftest import make_account
from tests.leads_helpers import LEAD, post_lead
from tests.test_conversation_ai import FIRST, follow_ups, quiet_spell_passes
from tests.test_conversation_inbound import (
    ALERT_PHONE,
    MORNING_8AM_DENVER,
    NIGHT,
    lead_with_first_reply,
    to_contractor,
    to_lead,
)
from tests.twilio_inbound import JANE, post_inbound, text_in
from workers.scheduler import dispatch_due

BOB = "+18015550177"
BOB_LEAD = {**LEAD, "name": "Bob Roe", "phone": "(801) 555-0177", "message": "Clogged drain"}


def from_contractor(client, account, body: str, **kwargs) -> dict[str, str]:
    return text_in(client, account, body, from_=ALERT_PHONE, **kwargs)


def reference(name: str, lead_id: int) -> str:
    return f"\nReply to answer {name}, or text #{lead_id} then your message."


def sent_to(twilio, phone: str) -> list[str]:
    return [m["Body"] for m in twilio.sent if m["To"] == phone]


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def replied_lead(client, account, worker, data=None, **kwargs) -> int:
    """A lead with its first reply, who has texted back: the contractor has their alert."""
    lead_id = post_lead(client, account, data).get_json()["lead_id"]
    worker()
    text_in(client, account, "Can you come Tuesday?", **kwargs)
    worker()
    return int(lead_id)


def test_a_reply_from_the_alert_phone_goes_to_the_latest_alert_s_lead_once(
    client, rt, account, twilio, worker, clock, db
):
    lead_id = replied_lead(client, account, worker)
    assert to_contractor(twilio)[-1].endswith(reference("Jane", lead_id))

    params = from_contractor(client, account, "Tuesday at 9 works, see you then.")
    worker()
    for _ in range(2):  # Twilio retries the same MessageSid: nothing more is sent
        assert post_inbound(client, params).status_code == 200
        worker()
    mine = db.scalars(select(Message).where(Message.from_phone == ALERT_PHONE)).one()
    answer_contractor(rt, mine.id)  # the job once more, as if its worker had been lost

    assert to_lead(twilio)[1:] == ["Tuesday at 9 works, see you then."]
    assert to_contractor(twilio)[-1] == f"Sent to Jane (#{lead_id})."
    assert len(to_contractor(twilio)) == 2  # the lead's alert, the answer: no alert about itself
    db.expire_all()
    lead = db.get(Lead, lead_id)
    assert (lead.owner, lead.status) == ("human", "replied")
    assert count(db, Lead) == 1 and count(db, Contact) == 1  # the alert phone is no lead
    assert (mine.kind, mine.direction, mine.contact_id, mine.lead_id, mine.drafted_by) == (
        "contractor_reply", "in", None, lead_id, "person",
    )  # fmt: skip
    human = db.scalars(select(Message).where(Message.kind == "human_reply")).one()
    assert (human.to_phone, human.drafted_by, human.status) == (JANE, "person", "queued")
    assert human.idempotency_key == f"lead-{lead_id}-human-sms-{params['MessageSid']}"


def test_a_reference_picks_the_lead_and_the_latest_alert_is_the_default(
    client, account, twilio, worker, clock, db
):
    jane = replied_lead(client, account, worker)
    bob = replied_lead(client, account, worker, BOB_LEAD, from_=BOB)

    from_contractor(client, account, f"#{jane} Tuesday 10am?")
    worker()
    from_contractor(client, account, "Thursday works for the drain")
    worker()

    assert to_lead(twilio)[1:] == ["Tuesday 10am?"]
    assert sent_to(twilio, BOB)[1:] == ["Thursday works for the drain"]
    assert to_contractor(twilio)[-2:] == [f"Sent to Jane (#{jane}).", f"Sent to Bob (#{bob})."]


def test_another_account_s_lead_or_an_unknown_reference_sends_nothing_to_anyone(
    client, rt, account, twilio, worker, clock, db
):
    replied_lead(client, account, worker)
    other = make_account(rt, twilio_number="+18015550222", alert_phone="+18015550333")
    theirs = post_lead(client, other).get_json()["lead_id"]
    worker()
    sent_before = len(twilio.sent)

    from_contractor(client, account, f"#{theirs} I can come now")
    from_contractor(client, account, "#99999 hello")
    from_contractor(client, account, "#abc hello")
    worker()

    how = "Reply to an alert, or text #12 then your message for lead 12."
    assert to_contractor(twilio)[-3:] == [
        f"Not sent: no lead #{theirs}. {how}",
        f"Not sent: no lead #99999. {how}",
        f"Not sent: no lead #abc. {how}",
    ]
    assert len(twilio.sent) == sent_before + 3  # only the three answers
    rows = db.scalars(select(Message).where(Message.kind == "contractor_reply")).all()
    assert [(m.lead_id, m.route) for m in rows] == [(None, "no_lead")] * 3
    assert db.get(Lead, theirs).owner == "ai"


def test_with_no_alert_yet_the_contractor_is_told_how_and_no_lead_is_made(
    client, account, twilio, worker, clock, db
):
    from_contractor(client, account, "Hi, is this working?")
    worker()
    assert to_contractor(twilio) == [
        "Not sent: no alert to answer yet. "
        "Reply to an alert, or text #12 then your message for lead 12."
    ]
    assert len(twilio.sent) == 1
    assert count(db, Lead) == 0 and count(db, Contact) == 0 and count(db, ConsentEvent) == 0


def test_a_lead_who_opted_out_is_not_texted_and_the_contractor_is_told_why(
    client, account, twilio, worker, clock, db
):
    lead_id = replied_lead(client, account, worker)
    text_in(client, account, "STOP")
    worker()
    to_jane = len(to_lead(twilio))

    from_contractor(client, account, "Sorry to hear that, bye")
    worker()

    assert len(to_lead(twilio)) == to_jane
    assert to_contractor(twilio)[-1] == f"Not sent: Jane (#{lead_id}) opted out."
    human = db.scalars(select(Message).where(Message.kind == "human_reply")).one()
    assert (human.status, human.reason) == ("suppressed", "opted_out")


def test_in_the_lead_s_quiet_hours_the_contractor_is_told_when_it_goes(
    client, rt, account, twilio, worker, db
):
    with time_machine.travel(NIGHT - timedelta(hours=6), tick=False) as clock:
        lead_id = replied_lead(client, account, worker)
        clock.move_to(NIGHT)  # 22:30 in Salt Lake City, for Jane and the contractor
        from_contractor(client, account, "I'll come at 8 tomorrow.")
        worker()
        assert to_lead(twilio)[1:] == []
        assert to_contractor(twilio)[-1] == (
            f"Held for Jane (#{lead_id})'s quiet hours: goes at 8:00 Thu (your time)."
        )
        clock.move_to(MORNING_8AM_DENVER)
        dispatch_due(rt)
        worker()
    assert to_lead(twilio)[1:] == ["I'll come at 8 tomorrow."]


def test_the_contractor_s_reply_silences_the_ai(client, rt, twilio, worker, clock, claude, db):
    account = make_account(rt, ai_mode="auto")
    claude.reply(FIRST)
    lead_id = lead_with_first_reply(client, account, worker)
    text_in(client, account, "Water everywhere now")
    worker()
    from_contractor(client, account, "Mike here, on my way in 20.")
    worker()
    quiet_spell_passes(rt, clock, worker)

    assert follow_ups(db) == []
    assert len(claude.requests) == 1  # the first reply only: the AI took no turn
    assert to_lead(twilio)[1:] == ["Mike here, on my way in 20."]
    db.expire_all()
    assert db.get(Lead, lead_id).owner == "human"


def test_stop_from_the_alert_phone_ends_alerts_and_start_restores_them(
    client, account, twilio, worker, clock, db
):
    lead_id = replied_lead(client, account, worker)
    from_contractor(client, account, "STOP")
    worker()
    text_in(client, account, "Hello? Anyone there?")
    worker()
    from_contractor(client, account, "stop")  # a second STOP changes nothing, says nothing
    worker()

    assert to_contractor(twilio)[1:] == [
        "Acme Plumbing: alerts are off, and this text went to no lead. "
        "Reply START to turn alerts back on."
    ]
    assert to_lead(twilio)[1:] == []  # the contractor's STOP reached no lead
    db.expire_all()
    assert db.get(Account, account.id).alerts_opted_out_at is not None
    held = db.scalars(select(Message).where(Message.kind == "alert").order_by(Message.id)).all()
    assert [(m.status, m.reason) for m in held][-1] == ("suppressed", "opted_out")
    events = db.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
    assert [(e.kind, e.phone, e.contact_id) for e in events if e.kind.startswith("alerts")] == [
        ("alerts_opt_out", ALERT_PHONE, None),
        ("alerts_opt_out", ALERT_PHONE, None),
    ]

    from_contractor(client, account, "START")
    worker()
    text_in(client, account, "Still there?")
    worker()
    assert to_contractor(twilio)[2:] == [
        "Acme Plumbing: alerts are on. Reply to an alert to answer its lead.",
        f"New reply from Jane (water heater, 84101): Still there?{reference('Jane', lead_id)}",
    ]
    assert count(db, Contact) == 1 and count(db, Lead) == 1


def test_an_answer_to_the_contractor_skips_their_do_not_disturb_but_alerts_wait(
    client, rt, twilio, worker, db
):
    quiet = make_account(rt, alert_dnd_start="21:00", alert_dnd_end="07:00")
    with time_machine.travel(NIGHT - timedelta(hours=6), tick=False) as clock:
        lead_id = replied_lead(client, quiet, worker)
        clock.move_to(NIGHT)
        text_in(client, quiet, "Still leaking")
        from_contractor(client, quiet, f"#{lead_id} Turn the valve off, I'll be there at 8")
        worker()
    assert to_contractor(twilio)[1:] == [
        f"Held for Jane (#{lead_id})'s quiet hours: goes at 8:00 Thu (your time)."
    ]  # the lead's alert waits for 07:00; the answer to what they just sent does not


def test_the_hand_off_summary_is_punctuated():
    account = Account(trade="plumbing")
    contact = Contact(name="Ana Ruiz", phone="+18015550142", zip="84101")
    lead = Lead(id=12, inquiry="leaky faucet also the toilet", service=None, zip=None)
    body = hand_off_body(account, contact, lead, "asked_about_price", "Tuesday works")
    assert body == (
        "Ana (plumbing, 84101) needs you: asked about price. "
        'Job: leaky faucet also the toilet. Last text: "Tuesday works". '
        "Phone +18015550142."
    )
    asked = Lead(id=12, inquiry="Can you fix a leaky faucet?")
    assert "Job: Can you fix a leaky faucet? Last text" in hand_off_body(
        account, contact, asked, "angry", "ok"
    )


def test_a_hand_off_alert_ends_with_its_reference(client, rt, twilio, worker, clock, claude, db):
    account = make_account(rt, ai_mode="auto")
    claude.reply(FIRST)
    lead_id = lead_with_first_reply(client, account, worker)
    text_in(client, account, "How much will it cost?")
    worker()
    (alert,) = to_contractor(twilio)
    assert alert.startswith("Jane (water heater, 84101) needs you: asked about price. ")
    assert alert.endswith(
        f'Last text: "How much will it cost?". Phone {JANE}.' + reference("Jane", lead_id)
    )


def test_help_or_a_bare_reference_from_the_alert_phone_is_answered_and_texts_no_lead(
    client, account, twilio, worker, clock, db
):
    lead_id = replied_lead(client, account, worker)
    from_contractor(client, account, "HELP")
    from_contractor(client, account, f"#{lead_id}")
    worker()
    assert to_contractor(twilio)[1:] == [
        "Acme Plumbing alerts: reply to an alert to text its lead, or text #12 then your "
        "message for lead 12. Reply STOP to end alerts.",
        "Not sent: nothing to send. Reply to an alert, or text #12 then your message for lead 12.",
    ]
    assert to_lead(twilio)[1:] == []
    assert db.scalars(select(Message).where(Message.kind == "human_reply")).all() == []


def test_a_carrier_unsubscribed_alert_phone_gets_no_more_alerts(
    client, account, twilio, worker, clock, db
):
    lead_with_first_reply(client, account, worker)
    twilio.fail_next(400, 21610)  # the alert phone sent STOP to the carrier, not to us
    text_in(client, account, "Tuesday works")
    worker()
    calls = twilio.create_calls
    text_in(client, account, "Hello?")
    worker()

    assert twilio.create_calls == calls and to_contractor(twilio) == []
    db.expire_all()
    assert db.get(Account, account.id).alerts_opted_out_at is not None
    event = db.scalars(select(ConsentEvent).where(ConsentEvent.kind == "alerts_opt_out")).one()
    assert (event.source, event.phone) == ("carrier", ALERT_PHONE)
