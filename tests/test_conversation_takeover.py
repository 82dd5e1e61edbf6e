"""A person takes over (the AI falls silent), sends the AI's drafts, hands back; and the view."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from loopstrat.conversations.takeover import TakeoverError, reply_as_person
from loopstrat.conversations.view import conversation
from loopstrat.models import Lead, Message
from tests.conftest import make_account
from tests.test_conversation_ai import FIRST, TURN, follow_ups, quiet_spell_passes
from tests.test_conversation_handoff import cli
from tests.test_conversation_inbound import lead_with_first_reply, to_lead
from tests.twilio_inbound import status_callback, text_in


def test_a_human_reply_silences_the_ai_until_handed_back(
    client, rt, twilio, worker, clock, claude, db, monkeypatch
):
    account = make_account(rt, ai_mode="auto")
    claude.reply(FIRST)
    claude.reply(TURN)
    lead_id = lead_with_first_reply(client, account, worker)
    args = ("--account", str(account.id), "--lead", str(lead_id))
    text_in(client, account, "Water everywhere now")
    worker()
    cli(rt, monkeypatch, "reply", *args, "--body", "Mike here, on my way in 20.")
    quiet_spell_passes(rt, clock, worker)
    text_in(client, account, "Thank you!!")
    worker()
    quiet_spell_passes(rt, clock, worker)

    assert follow_ups(db) == []
    assert len(claude.requests) == 1  # only the first reply
    assert to_lead(twilio)[1:] == ["Mike here, on my way in 20."]
    lead = db.get(Lead, lead_id)
    assert (lead.owner, lead.last_human_reply_at is not None) == ("human", True)
    human = db.scalars(select(Message).where(Message.kind == "human_reply")).one()
    assert human.drafted_by == "person"

    cli(rt, monkeypatch, "handback", *args)
    text_in(client, account, "Also the sink drips")
    worker()
    quiet_spell_passes(rt, clock, worker)
    assert to_lead(twilio)[-1] == TURN
    db.expire_all()
    assert db.get(Lead, lead_id).owner == "ai"


def test_a_person_sends_an_assist_draft_as_is_or_edited(
    client, rt, twilio, worker, clock, claude, db, monkeypatch
):
    account = make_account(rt, ai_mode="assist")
    claude.reply(FIRST)
    claude.reply(TURN)
    lead_id = lead_with_first_reply(client, account, worker)
    args = ("--account", str(account.id), "--lead", str(lead_id))
    text_in(client, account, "123 Main St")
    worker()
    quiet_spell_passes(rt, clock, worker)
    (draft,) = follow_ups(db)
    cli(rt, monkeypatch, "reply", *args, "--draft", str(draft.id))
    cli(rt, monkeypatch, "reply", *args, "--draft", str(draft.id))  # sent once, not twice

    text_in(client, account, "Thursday")
    worker()
    quiet_spell_passes(rt, clock, worker)
    second = follow_ups(db)[-1]
    cli(rt, monkeypatch, "reply", *args, "--draft", str(second.id), "--body", "Thursday 9am?")

    assert to_lead(twilio)[1:] == [TURN, "Thursday 9am?"]
    sent = follow_ups(db)
    assert [(m.status, m.drafted_by) for m in sent] == [("queued", "claude"), ("queued", "person")]
    assert db.get(Lead, lead_id).owner == "ai"  # sending the AI's words is not taking over


def test_a_person_cannot_reach_another_account_s_lead(client, rt, account, twilio, worker, clock):
    lead_id = lead_with_first_reply(client, account, worker)
    other = make_account(rt, twilio_number="+18015550222")
    with pytest.raises(TakeoverError):
        reply_as_person(rt, account_id=other.id, lead_id=lead_id, body="hi", request_key="k")
    with rt.sessions() as session:
        assert conversation(session, other.id, lead_id) is None
    assert len(twilio.created) == 1


def test_the_conversation_view_shows_every_text_its_author_and_status(
    client, rt, twilio, worker, clock, claude, db, monkeypatch
):
    account = make_account(rt, ai_mode="auto")
    claude.reply(FIRST)
    claude.reply(TURN)
    lead_id = lead_with_first_reply(client, account, worker)
    text_in(client, account, "Basement, 84101")
    worker()
    quiet_spell_passes(rt, clock, worker)
    status_callback(client, twilio.created[-1]["sid"], "delivered")
    clock.shift(timedelta(minutes=1))
    cli(rt, monkeypatch, "reply", "--account", str(account.id), "--lead", str(lead_id),
        "--body", "Mike here, see you at 10.")  # fmt: skip
    text_in(client, account, "stop")
    worker()

    with rt.sessions() as session:
        view = conversation(session, account.id, lead_id)
    assert view is not None
    assert [(t.direction, t.author, t.kind, t.status) for t in view.texts] == [
        ("out", "ai", "first_reply", "queued"),
        ("in", "lead", "inbound", "received"),
        ("out", "ai", "follow_up", "delivered"),
        ("out", "person", "human_reply", "queued"),
        ("in", "lead", "inbound", "received"),
        ("out", "template", "opt_out_confirm", "queued"),
    ]
    assert (view.state, view.owner, view.opted_out) == ("replied", "human", True)
    shown = cli(
        rt, monkeypatch, "conversation", "--account", str(account.id), "--lead", str(lead_id)
    )
    assert "-> [person, queued] Mike here, see you at 10." in shown.output
