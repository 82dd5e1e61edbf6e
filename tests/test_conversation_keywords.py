"""What a lead's text asks for, decided from the words alone; and the account's alert hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loopstrat.compliance import ALERT, Allow, Defer, may_text
from loopstrat.compliance.consent import alert_phone_recipient
from loopstrat.conversations.keywords import (
    ANGRY,
    ASKS_FOR_PERSON,
    ASKS_PRICE,
    HELP,
    OPT_IN,
    OPT_OUT,
    hand_off_trigger,
    keyword_of,
)
from loopstrat.models import Account

OPT_OUTS = [
    "STOP", "stop", "  Stop.  ", "sToP!!", "STOPALL", "stop all", "Unsubscribe", "cancel",
    "END", "quit.", "Revoke", "OPTOUT", "opt-out", "Opt out", "STOP please", "stop!! now",
    "Stop texting me", "please stop texting me!", "Please remove me", "remove me from your list",
    "Wrong number", "wrong person sorry", "Don't text me", "do not contact me again",
    "No more texts", "unsubscribe me please", "\u2018stop\u2019",
]  # fmt: skip
NOT_OPT_OUTS = [
    "Can you stop by tomorrow?", "Stop by at 3 if you can", "Cancel my appointment for Friday",
    "The end of the pipe is leaking", "Quit worrying, it's fine, come Tuesday", "",
    "Yes", "The water won't stop running", "Thanks!",
]  # fmt: skip


@pytest.mark.parametrize("body", OPT_OUTS)
def test_opt_out_keywords_and_plain_requests(body):
    assert keyword_of(body, opted_out=False) == OPT_OUT


@pytest.mark.parametrize("body", NOT_OPT_OUTS)
def test_ordinary_replies_are_not_opt_outs(body):
    assert keyword_of(body, opted_out=False) is None


@pytest.mark.parametrize("body", ["START", " start ", "Unstop!", "UNSTOP"])
def test_start_and_unstop_opt_in(body):
    assert keyword_of(body, opted_out=True) == OPT_IN
    assert keyword_of(body, opted_out=False) == OPT_IN


def test_yes_opts_in_only_someone_who_is_opted_out():
    assert keyword_of("YES", opted_out=True) == OPT_IN
    assert keyword_of("Yes.", opted_out=False) is None


@pytest.mark.parametrize("body", ["HELP", "help?", " Info ", "INFO."])
def test_help_and_info(body):
    assert keyword_of(body, opted_out=False) == HELP


def test_help_inside_a_sentence_is_a_reply():
    assert keyword_of("Can you help with my sink", opted_out=False) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Can I talk to a real person?", ASKS_FOR_PERSON),
        ("is this a bot", ASKS_FOR_PERSON),
        ("Just call me please", ASKS_FOR_PERSON),
        ("This is ridiculous, nobody came yesterday", ANGRY),
        ("WHY HAS NOBODY CALLED ME BACK YET", ANGRY),
        ("where are you!!!", ANGRY),
        ("How much for a new water heater?", ASKS_PRICE),
        ("what do you charge for a service call", ASKS_PRICE),
        ("Is it over $200?", ASKS_PRICE),
        ("Can I get a quote", ASKS_PRICE),
    ],
)
def test_hand_off_triggers(body, reason):
    assert hand_off_trigger(body) == reason


@pytest.mark.parametrize(
    "body", ["It's 123 Main St, 84101", "Tuesday morning works", "I feel it's getting worse"]
)
def test_ordinary_answers_do_not_hand_off(body):
    assert hand_off_trigger(body) is None


def dnd_account(start: str | None, end: str | None) -> Account:
    return Account(
        timezone="America/Denver",
        alert_phone="+18015550199",
        alert_dnd_start=start,
        alert_dnd_end=end,
    )


def alert_dnd_until(now: datetime, account: Account) -> datetime | None:
    """What the one gate decides for an alert to this account's alert phone at `now`."""
    recipient = alert_phone_recipient(account, "+18015550199", answering=False)
    decision = may_text(recipient=recipient, purpose=ALERT, now=now, account_active=True)
    if isinstance(decision, Defer):
        assert decision.reason == "alert_dnd"
        return decision.until
    assert decision == Allow()
    return None


def test_no_dnd_window_means_alerts_at_any_hour():
    three_am_denver = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert alert_dnd_until(three_am_denver, dnd_account(None, None)) is None


def test_overnight_dnd_window_defers_to_its_end():
    account = dnd_account("22:00", "07:00")
    eleven_pm = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    three_am = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    seven_am = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    noon = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
    assert alert_dnd_until(eleven_pm, account) == seven_am
    assert alert_dnd_until(three_am, account) == seven_am
    assert alert_dnd_until(seven_am, account) is None
    assert alert_dnd_until(noon, account) is None


def test_daytime_dnd_window():
    account = dnd_account("12:00", "13:00")
    half_past_noon = datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    assert alert_dnd_until(half_past_noon, account) == datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
