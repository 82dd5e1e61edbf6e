"""The conversation commands as a developer or a contractor uses them before the dashboard."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from loopstrat.models import Message
from tests.leads_helpers import LEAD, post_lead
from tests.test_conversation_handoff import cli
from tests.test_conversation_inbound import ALERT_PHONE, lead_with_first_reply, to_contractor


def test_text_in_takes_a_text_as_twilio_would_deliver_it(
    client, account, rt, twilio, worker, clock, db, monkeypatch
):
    lead_with_first_reply(client, account, worker)
    result = cli(rt, monkeypatch, "text-in", "--account", str(account.id),
                 "--from", "801-555-0142", "--body", "Tuesday works")  # fmt: skip
    assert "stored as message" in result.output
    worker()
    assert ": Tuesday works\nReply to answer Jane" in to_contractor(twilio)[0]
    assert {m["To"] for m in twilio.sent} == {"+18015550142", ALERT_PHONE}
    inbound = db.scalars(select(Message).where(Message.direction == "in")).one()
    assert inbound.body == "Tuesday works" and inbound.account_id == account.id


def test_a_reply_that_is_blocked_says_so_and_exits_non_zero(
    client, account, rt, twilio, worker, clock, db, monkeypatch
):
    lead_id = post_lead(client, account, {**LEAD, "consent": ""}).get_json()["lead_id"]
    worker()
    result = cli(rt, monkeypatch, "reply", "--account", str(account.id),
                 "--lead", str(lead_id), "--body", "Mike here", exit_code=1)  # fmt: skip
    assert "blocked (no_consent)" in result.output
    assert twilio.sent == []


def test_conversation_shows_when_a_held_reply_will_go(
    client, account, rt, twilio, worker, db, monkeypatch
):
    import time_machine

    from tests.test_gated_replies import NIGHT

    with time_machine.travel(NIGHT, tick=False):
        lead_id = post_lead(client, account).get_json()["lead_id"]
        worker()
        shown = cli(rt, monkeypatch, "conversation", "--account", str(account.id),
                    "--lead", str(lead_id))  # fmt: skip
    lines = shown.output.splitlines()
    assert lines[0] == f"lead {lead_id}: new, a person has it (AI replies are off)"
    assert lines[1] == "times in America/Denver"
    # Posted at 22:30 in Utah: the contractor reads their own clock, and when the text goes.
    assert lines[2] == (
        "2026-11-25 22:30 MST -> [not drafted yet, held for quiet hours: goes at 8:00 in "
        "America/Denver (15:00 UTC)] (first reply: written when it goes)"
    )


def test_a_reply_held_for_quiet_hours_says_when_it_goes(
    client, account, rt, twilio, worker, db, monkeypatch
):
    import time_machine

    from tests.test_gated_replies import NIGHT

    with time_machine.travel(NIGHT - timedelta(hours=10), tick=False):  # 12:30 in Utah
        lead_id = lead_with_first_reply(client, account, worker)
    with time_machine.travel(NIGHT, tick=False):
        result = cli(rt, monkeypatch, "reply", "--account", str(account.id),
                     "--lead", str(lead_id), "--body", "Mike here, I can come at 10.")  # fmt: skip
        shown = cli(rt, monkeypatch, "conversation", "--account", str(account.id),
                    "--lead", str(lead_id))  # fmt: skip
    held = "held for quiet hours: goes at 8:00 in America/Denver (15:00 UTC)"
    assert result.output.strip() == f"reply {held}"
    assert shown.output.splitlines()[0] == f"lead {lead_id}: responded, a person has it"
    assert f"-> [person, {held}] Mike here, I can come at 10." in shown.output
    assert len(twilio.sent) == 1  # the first reply; the person's text waits for the morning
