"""A text may wait at Twilio only until the recipient's quiet hours begin: its ValidityPeriod
ends with their allowed window, so a text queued at 20:59 can never arrive at 21:09."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import event, select

from loopstrat import runtime
from loopstrat.models import Lead, Message
from tests.leads_helpers import post_lead
from workers.scheduler import dispatch_due

# Salt Lake City (MST, UTC-7) on 26 November 2026; the lead's ZIP is 84101.
AT_20_50 = datetime(2026, 11, 27, 3, 50, tzinfo=UTC)
AT_20_59 = datetime(2026, 11, 27, 3, 59, tzinfo=UTC)
QUIET_AT_21_00 = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
MORNING_8AM = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def validity_periods(twilio) -> list[int]:
    return [int(params["ValidityPeriod"]) for params in twilio.params_of_calls()]


def test_a_text_early_in_the_evening_gets_the_configured_validity(client, account, twilio, worker):
    with time_machine.travel(AT_20_50, tick=False):
        post_lead(client, account)
        worker()
    assert validity_periods(twilio) == [600]


def test_a_text_sent_at_20_59_may_wait_at_twilio_only_until_21_00(client, account, twilio, worker):
    with time_machine.travel(AT_20_59, tick=False):
        post_lead(client, account)
        worker()
    assert validity_periods(twilio) == [60]


def test_a_text_with_under_a_minute_left_is_held_for_the_morning(
    client, account, rt, twilio, worker, db
):
    with time_machine.travel(AT_20_59 + timedelta(seconds=30), tick=False) as clock:
        lead_id = post_lead(client, account).get_json()["lead_id"]
        worker()
        assert twilio.create_calls == 0
        assert db.get(Lead, lead_id).held_until == MORNING_8AM
        clock.move_to(MORNING_8AM)
        dispatch_due(rt)
        worker()
    assert validity_periods(twilio) == [600]


def test_a_claim_that_stalls_past_the_window_sends_nothing_until_morning(
    client, account, twilio, worker, db
):
    """The database stalls for a minute while the 20:59 claim commits: by the time Twilio
    would be called the window has closed, so nothing is sent and the retry holds the text."""
    with time_machine.travel(AT_20_59, tick=False) as clock:
        stalled: list[str] = []

        def stall_the_claim(conn, cursor, statement, parameters, context, executemany) -> None:
            if statement.startswith("INSERT INTO messages") and not stalled:
                stalled.append(statement)
                clock.move_to(QUIET_AT_21_00)

        engine = runtime.current().engine  # the app's, which the worker uses
        event.listen(engine, "before_cursor_execute", stall_the_claim)
        try:
            lead_id = post_lead(client, account).get_json()["lead_id"]
            worker()
        finally:
            event.remove(engine, "before_cursor_execute", stall_the_claim)
        assert stalled and twilio.create_calls == 0
        db.expire_all()
        msg = db.scalars(select(Message).where(Message.lead_id == lead_id)).one()
        assert (msg.status, msg.reason) == ("deferred", "window_closed")
        clock.move_to(MORNING_8AM - timedelta(minutes=1))
        worker()
        assert twilio.create_calls == 0  # the retry's gate held it for 8:00
        clock.move_to(MORNING_8AM)
        worker()
    assert validity_periods(twilio) == [600]
    assert db.get(Lead, lead_id).first_response_at == MORNING_8AM
