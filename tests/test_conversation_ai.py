"""The AI carries a few turns to qualify the job, once per burst, and hands off when it should."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from loopstrat import runtime
from loopstrat.conversations.handle import handle_inbound
from loopstrat.models import Lead, Message, Outbox
from tests.conftest import make_account
from tests.test_conversation_inbound import lead_with_first_reply, to_contractor, to_lead
from tests.twilio_inbound import text_in
from workers.scheduler import dispatch_due

FIRST = (
    "Acme Plumbing here, Jane: sorry about the water heater! What's your address? "
    "Reply STOP to opt out."
)
TURN = "Thanks Jane! What day and time suit you for a visit?"


def quiet_spell_passes(rt, clock, worker) -> None:
    clock.shift(timedelta(seconds=21))
    dispatch_due(rt)
    worker()


def follow_ups(db) -> list[Message]:
    db.expire_all()
    query = select(Message).where(Message.kind == "follow_up").order_by(Message.id)
    return list(db.scalars(query))


@pytest.fixture
def auto_account(rt):
    return make_account(rt, ai_mode="auto", owner_name="Mike")


def test_three_texts_in_a_burst_get_one_ai_turn(
    client, auto_account, rt, twilio, worker, clock, claude, db
):
    claude.reply(FIRST)
    claude.reply(TURN)
    lead_with_first_reply(client, auto_account, worker)
    for body in ("123 Main St", "Salt Lake", "84101"):
        text_in(client, auto_account, body)
        worker()
        clock.shift(timedelta(seconds=8))
        dispatch_due(rt)
        worker()
    assert follow_ups(db) == []  # still typing: 8 s since the last text

    quiet_spell_passes(rt, clock, worker)
    quiet_spell_passes(rt, clock, worker)

    assert to_lead(twilio)[1:] == [TURN]
    assert len(claude.requests) == 2
    turn_request = claude.requests[-1]
    assert turn_request["messages"][-1] == {
        "role": "user",
        "content": "123 Main St\nSalt Lake\n84101",
    }
    assert turn_request["messages"][-2] == {"role": "assistant", "content": FIRST}
    assert "Acme Plumbing" in turn_request["system"]
    (turn,) = follow_ups(db)
    assert (turn.drafted_by, turn.status) == ("claude", "queued")
    assert (turn.ai_input_tokens, turn.ai_output_tokens) == (212, 48)
    assert db.scalars(select(Lead)).one().ai_turns == 1


def test_auto_mode_stops_after_three_turns_and_hands_off(
    client, auto_account, rt, twilio, worker, clock, claude, db
):
    claude.reply(FIRST)
    claude.reply(TURN)
    lead_with_first_reply(client, auto_account, worker)
    for n in range(5):
        text_in(client, auto_account, f"answer {n}")
        worker()
        quiet_spell_passes(rt, clock, worker)

    assert len(follow_ups(db)) == 3
    assert len(claude.requests) == 4  # the first reply and three turns; none after
    lead = db.scalars(select(Lead)).one()
    assert (lead.owner, lead.handoff_reason, lead.ai_turns) == ("human", "turn_limit", 3)
    handoff_alerts = [a for a in to_contractor(twilio) if "needs you" in a]
    assert len(handoff_alerts) == 1
    assert "Jane (water heater, 84101) needs you: the AI has had its turns." in handoff_alerts[0]
    assert "Job: My water heater is leaking" in handoff_alerts[0]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("Can I talk to a real person?", "asked for a person"),
        ("This is ridiculous, you said someone would come", "sounds upset"),
        ("How much will it cost?", "asked about price"),
    ],
)
def test_the_ai_hands_off_at_once_when_the_customer_needs_a_person(
    client, auto_account, rt, twilio, worker, clock, claude, db, body, words
):
    claude.reply(FIRST)
    lead_with_first_reply(client, auto_account, worker)
    text_in(client, auto_account, body)
    worker()
    quiet_spell_passes(rt, clock, worker)

    assert follow_ups(db) == []
    assert len(claude.requests) == 1
    (alert,) = to_contractor(twilio)
    assert f"needs you: {words}." in alert
    assert f'Last text: "{body}".' in alert
    assert db.scalars(select(Lead)).one().owner == "human"


def test_the_model_saying_it_cannot_help_hands_off(
    client, auto_account, rt, twilio, worker, clock, claude, db
):
    claude.reply(FIRST)
    claude.reply("HANDOFF")
    lead_with_first_reply(client, auto_account, worker)
    text_in(client, auto_account, "Do you also install solar panels?")
    worker()
    quiet_spell_passes(rt, clock, worker)

    assert follow_ups(db) == []
    assert any("needs you: the AI could not help." in a for a in to_contractor(twilio))
    lead = db.scalars(select(Lead)).one()
    assert (lead.owner, lead.handoff_reason) == ("human", "model_cannot_help")


@pytest.mark.parametrize("failure", ["http_400", "price_in_draft"])
def test_a_failed_or_unfit_draft_falls_back_to_the_template_and_a_person(
    client, auto_account, rt, twilio, worker, clock, claude, db, failure
):
    claude.reply(FIRST)
    if failure == "http_400":
        claude.fail(400)
    else:
        claude.reply("A new water heater is $1,200 installed. When suits you?")
    lead_with_first_reply(client, auto_account, worker)
    text_in(client, auto_account, "Tomorrow works")
    worker()
    quiet_spell_passes(rt, clock, worker)

    (turn,) = follow_ups(db)
    assert turn.drafted_by == "template"
    held = "Thanks Jane, got it. Mike from Acme Plumbing will text you shortly."
    assert to_lead(twilio)[-1] == held
    assert db.scalars(select(Lead)).one().handoff_reason == "draft_failed"


def test_an_ai_turn_in_quiet_hours_waits_for_the_morning(client, rt, twilio, worker, claude, db):
    import time_machine

    from tests.test_conversation_inbound import MORNING_8AM_DENVER, NIGHT

    account = make_account(rt, ai_mode="auto")
    claude.reply(FIRST)
    claude.reply(TURN)
    with time_machine.travel(NIGHT - timedelta(hours=6), tick=False) as clock:
        lead_with_first_reply(client, account, worker)
        clock.move_to(NIGHT)
        text_in(client, account, "Is tomorrow ok?")
        worker()
        quiet_spell_passes(rt, clock, worker)
        assert follow_ups(db) == []
        clock.move_to(MORNING_8AM_DENVER)
        dispatch_due(rt)
        worker()
    (turn,) = follow_ups(db)
    assert turn.sent_at == MORNING_8AM_DENVER


def test_assist_mode_drafts_for_a_person_and_sends_nothing(
    client, rt, twilio, worker, clock, claude, db
):
    account = make_account(rt, ai_mode="assist")
    claude.reply(FIRST)
    claude.reply(TURN)
    lead_with_first_reply(client, account, worker)
    text_in(client, account, "123 Main St")
    worker()
    quiet_spell_passes(rt, clock, worker)

    (draft,) = follow_ups(db)
    assert (draft.status, draft.body, draft.drafted_by) == ("draft", TURN, "claude")
    assert len(to_lead(twilio)) == 1
    assert db.scalars(select(Lead)).one().owner == "ai"


def test_the_first_text_to_someone_who_texted_first_names_the_business_and_stop(
    client, auto_account, rt, twilio, worker, clock, claude, db
):
    claude.reply("Happy to help! What's the address or ZIP?")
    text_in(client, auto_account, "Do you fix garbage disposals?")
    worker()
    quiet_spell_passes(rt, clock, worker)
    assert to_lead(twilio) == [
        "Acme Plumbing: Happy to help! What's the address or ZIP? Reply STOP to opt out."
    ]


def test_a_text_that_arrives_while_claude_writes_keeps_its_turn_due(
    client, app, auto_account, rt, twilio, worker, clock, claude, db
):
    claude.reply(FIRST)
    claude.reply(TURN)
    lead_with_first_reply(client, auto_account, worker)
    text_in(client, auto_account, "123 Main St")
    worker()

    def lead_texts_again() -> None:
        """Another worker takes the new text in while this one waits on Claude."""
        claude.while_drafting = None
        text_in(app.test_client(), auto_account, "Oh, and it's a gas heater")
        with rt.sessions() as session:
            newest = session.scalars(select(Message.id).order_by(Message.id.desc())).first()
        handle_inbound(runtime.current(), newest)

    claude.while_drafting = lead_texts_again
    quiet_spell_passes(rt, clock, worker)
    assert len(follow_ups(db)) == 1
    db.expire_all()
    turn_row = db.scalars(select(Outbox).where(Outbox.kind == "conversation_ai_turn")).one()
    assert turn_row.state == "pending"  # the new text's turn is still to be decided
