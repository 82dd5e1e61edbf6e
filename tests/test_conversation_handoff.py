"""A hand-off no one answers is nudged once: the contractor again, the lead with a holding text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from click.testing import CliRunner

from loopstrat import runtime
from loopstrat.cli import main
from loopstrat.models import Account, Lead
from tests.conftest import make_account
from tests.test_conversation_inbound import lead_with_first_reply, to_contractor, to_lead
from tests.twilio_inbound import text_in
from workers.scheduler import dispatch_due

HOLDING = "Thanks, Mike from Acme Plumbing will text you shortly."


def minutes_pass(rt, clock, worker, minutes: int) -> None:
    clock.shift(timedelta(minutes=minutes))
    dispatch_due(rt)
    worker()


def cli(rt, monkeypatch, *args: str, exit_code: int = 0):
    """`loopstrat ...` as an operator runs it, with the environment the test runs on."""
    current = runtime.current().settings  # Claude's stand-in too, when a test started one
    env = {
        "DATABASE_URL": current.database_url,
        "REDIS_URL": current.redis_url,
        "TWILIO_ACCOUNT_SID": current.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": current.twilio_auth_token,
        "PUBLIC_BASE_URL": current.public_base_url,
        "ANTHROPIC_API_KEY": current.anthropic_api_key,
        "ANTHROPIC_BASE_URL": current.anthropic_base_url,
        "DRAFT_BUDGET_S": str(current.draft_budget_s),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == exit_code, result.output
    return result


def test_an_unanswered_hand_off_re_alerts_once_and_holds_the_lead_once(
    client, rt, twilio, worker, clock, db
):
    account = make_account(rt, owner_name="Mike")  # AI off: every reply is for a person
    lead_id = lead_with_first_reply(client, account, worker)
    text_in(client, account, "Can you come Tuesday?")
    worker()
    assert len(to_contractor(twilio)) == 1

    minutes_pass(rt, clock, worker, 9)
    assert len(to_contractor(twilio)) == 1 and len(to_lead(twilio)) == 1
    minutes_pass(rt, clock, worker, 2)
    text_in(client, account, "Hello?")  # the same hand-off: forwarded, not nudged again
    worker()
    for _ in range(3):
        minutes_pass(rt, clock, worker, 15)

    alerts = to_contractor(twilio)
    assert len(alerts) == 3
    assert alerts[1].startswith(
        "Still waiting: Jane (water heater, 84101) has had no answer for 10 min."
    )
    assert alerts[2].startswith("New reply from Jane")
    assert to_lead(twilio)[1:] == [HOLDING]
    lead = db.get(Lead, lead_id)
    assert (lead.handoffs, lead.handoff_reason, lead.owner) == (1, "ai_off", "human")


def test_a_hand_off_answered_in_time_is_not_nudged(
    client, rt, twilio, worker, clock, db, monkeypatch
):
    account = make_account(rt)
    lead_id = lead_with_first_reply(client, account, worker)
    text_in(client, account, "Can you come Tuesday?")
    worker()
    minutes_pass(rt, clock, worker, 5)
    cli(rt, monkeypatch, "reply", "--account", str(account.id), "--lead", str(lead_id),
        "--body", "Tuesday at 10 works, see you then. - Mike")  # fmt: skip
    for _ in range(3):
        minutes_pass(rt, clock, worker, 15)
    assert len(to_contractor(twilio)) == 1
    assert to_lead(twilio)[1:] == ["Tuesday at 10 works, see you then. - Mike"]


def test_the_nudges_wait_out_the_lead_s_quiet_hours(client, rt, twilio, worker, db):
    account = make_account(rt)
    eight_fifty_five_pm_denver = datetime(2026, 11, 26, 3, 55, tzinfo=UTC)
    morning = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    with time_machine.travel(eight_fifty_five_pm_denver - timedelta(hours=2), tick=False) as clock:
        lead_with_first_reply(client, account, worker)
        clock.move_to(eight_fifty_five_pm_denver)
        text_in(client, account, "Can you come tomorrow?")
        worker()
        for _ in range(4):
            minutes_pass(rt, clock, worker, 30)
        assert len(to_contractor(twilio)) == 1 and len(to_lead(twilio)) == 1
        clock.move_to(morning)
        dispatch_due(rt)
        worker()
    assert len(to_contractor(twilio)) == 2
    assert to_lead(twilio)[1:] == ["Thanks, someone from Acme Plumbing will text you shortly."]


def test_an_operator_sets_how_conversations_run(rt, account, monkeypatch, db):
    args = ("conversation-settings", "--account", str(account.id))
    changes = ("--ai-mode", "auto", "--alert-dnd", "21:30-07:00", "--owner-name", "Mike")
    shown = cli(
        rt, monkeypatch, *args, *changes, "--no-advanced-opt-out", "--handoff-window-s", "900"
    )
    assert "ai_mode=auto" in shown.output and "alert_dnd=21:30-07:00" in shown.output
    db.expire_all()
    saved = db.get(Account, account.id)
    assert (saved.ai_mode, saved.owner_name, saved.advanced_opt_out) == ("auto", "Mike", False)
    assert (saved.alert_dnd_start, saved.alert_dnd_end, saved.handoff_window_s) == (
        "21:30",
        "07:00",
        900,
    )

    cli(rt, monkeypatch, *args, "--alert-dnd", "off", "--owner-name", "")
    db.expire_all()
    cleared = db.get(Account, account.id)
    assert (cleared.alert_dnd_start, cleared.owner_name, cleared.ai_mode) == (None, None, "auto")
    refused = CliRunner().invoke(main, [*args, "--alert-dnd", "25:00-07:00"])
    assert refused.exit_code == 2 and "HH:MM-HH:MM" in refused.output
