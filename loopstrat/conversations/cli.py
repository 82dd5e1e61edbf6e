"""`loopstrat reply`, `handback` and `conversation`: a person's side of a conversation, until
the dashboard has it. Thin: parse, call takeover/view, print. Every command names its account."""

from __future__ import annotations

import re
import sys
import uuid
from zoneinfo import ZoneInfo

import click

from loopstrat.accounts import HHMM
from loopstrat.clock import utcnow
from loopstrat.commands import command_runtime
from loopstrat.conversations.inbound import InboundText, record_inbound
from loopstrat.conversations.outcomes import describe_outcome
from loopstrat.conversations.takeover import TakeoverError, hand_back, reply_as_person, send_draft
from loopstrat.conversations.view import Conversation, conversation
from loopstrat.models import Account
from loopstrat.phones import InvalidPhone, normalise

ACCOUNT = click.option("--account", "account_id", type=int, required=True, help="Account id.")
DND_RE = re.compile(rf"({HHMM})-({HHMM})")
LEAD = click.option("--lead", "lead_id", type=int, required=True, help="Lead id.")


@click.command()
@ACCOUNT
@LEAD
@click.option("--body", default=None, help="What to text the lead (or the edited draft).")
@click.option("--draft", "draft_id", type=int, default=None, help="Send this AI draft.")
@click.option("--key", default=None, help="Idempotency key: the same key never texts twice.")
def reply(
    account_id: int, lead_id: int, body: str | None, draft_id: int | None, key: str | None
) -> None:
    """Text the lead as a person (the AI then stays silent), or send an AI draft."""
    rt = command_runtime()
    try:
        if draft_id is not None:
            outcome = send_draft(
                rt, account_id=account_id, lead_id=lead_id, draft_id=draft_id, body=body
            )
        elif body:
            outcome = reply_as_person(
                rt,
                account_id=account_id,
                lead_id=lead_id,
                body=body,
                request_key=key or uuid.uuid4().hex,
            )
        else:
            raise click.UsageError("give --body, or --draft (with --body to edit it)")
    except TakeoverError as exc:
        raise click.ClickException(str(exc)) from None
    result = outcome.result if outcome else "missing"
    if outcome is not None and outcome.result == "deferred" and outcome.until:
        click.echo(f"reply {describe_outcome(rt, outcome)}")
    else:
        reason = f" ({outcome.reason})" if outcome and outcome.reason else ""
        click.echo(f"reply {result}{reason}")
    if result in ("blocked", "rejected", "missing"):
        sys.exit(1)  # a script must see that nothing went out


@click.command("text-in")
@ACCOUNT
@click.option("--from", "from_", required=True, help="The sender's phone number.")
@click.option("--body", required=True, help="What they texted.")
def text_in(account_id: int, from_: str, body: str) -> None:
    """Take in a text as if Twilio had delivered it: for trying conversations locally.

    It goes through the same code as POST /twilio/inbound after the signature check, which
    a sandbox (no TWILIO_AUTH_TOKEN) cannot pass."""
    try:
        sender = normalise(from_)  # the intake's own check: a number it would accept
    except InvalidPhone as exc:
        raise click.BadParameter(f"{from_!r}: {exc}", param_hint="--from") from None
    rt = command_runtime()
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        sid = f"SMlocal{uuid.uuid4().hex[:27]}"
        inbound = InboundText(sid, account.twilio_number, sender, body)
        stored = record_inbound(session, inbound, utcnow())
        session.commit()
    click.echo(f"stored as message {stored.message_id}; the worker takes it from here")


@click.command()
@ACCOUNT
@LEAD
def handback(account_id: int, lead_id: int) -> None:
    """Hand the conversation back to the AI."""
    rt = command_runtime()
    try:
        hand_back(rt, account_id=account_id, lead_id=lead_id)
    except TakeoverError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"lead {lead_id} handed back to the AI")


@click.command("conversation")
@ACCOUNT
@LEAD
def show_conversation(account_id: int, lead_id: int) -> None:
    """Print the conversation with a lead, oldest text first."""
    rt = command_runtime()
    with rt.sessions() as session:
        view = conversation(session, account_id, lead_id)
    if view is None:
        raise click.ClickException(f"account {account_id} has no lead {lead_id}")
    zone = ZoneInfo(view.timezone)
    click.echo(f"lead {view.lead_id}: {view.state}, {_who_answers(view)}{_opted_out(view)}")
    click.echo(f"times in {view.timezone}")
    for text in view.texts:
        arrow = "<-" if text.direction == "in" else "->"
        body = text.body or f"({text.kind.replace('_', ' ')}: written when it goes)"
        why = f" ({text.reason})" if text.reason and text.status != "received" else ""
        state = text.hold or f"{text.status}{why}"
        at = text.at.astimezone(zone)
        click.echo(f"{at:%Y-%m-%d %H:%M %Z} {arrow} [{text.author}, {state}] {body}")


def _who_answers(view: Conversation) -> str:
    if view.owner == "human":
        return "a person has it"
    if view.ai_mode == "off":
        return "a person has it (AI replies are off)"
    return f"the AI has it ({view.ai_mode})"


def _opted_out(view: Conversation) -> str:
    return " (opted out)" if view.opted_out else ""


@click.command("conversation-settings")
@ACCOUNT
@click.option("--ai-mode", type=click.Choice(["off", "assist", "auto"]), default=None)
@click.option("--quiet-spell-s", type=click.IntRange(1, 600), default=None)
@click.option("--handoff-window-s", type=click.IntRange(60, 86400), default=None)
@click.option("--alert-dnd", default=None, help="HH:MM-HH:MM in the account's zone, or 'off'.")
@click.option("--advanced-opt-out/--no-advanced-opt-out", default=None)
@click.option("--owner-name", default=None, help="Named in the holding text; '' for none.")
def conversation_settings(
    account_id: int,
    ai_mode: str | None,
    quiet_spell_s: int | None,
    handoff_window_s: int | None,
    alert_dnd: str | None,
    advanced_opt_out: bool | None,
    owner_name: str | None,
) -> None:
    """Show or change how an account's conversations run."""
    changes: dict[str, object] = {
        "ai_mode": ai_mode,
        "ai_quiet_spell_s": quiet_spell_s,
        "handoff_window_s": handoff_window_s,
        "advanced_opt_out": advanced_opt_out,
        # "" clears a text setting; None leaves it as it is.
        "owner_name": owner_name.strip()[:60] if owner_name is not None else None,
    }
    if alert_dnd is not None:
        changes["alert_dnd_start"], changes["alert_dnd_end"] = _dnd_window(alert_dnd)
    rt = command_runtime()
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise click.ClickException(f"no account {account_id}")
        for name, value in changes.items():
            if value is not None:
                setattr(account, name, value if value != "" else None)
        session.commit()
        dnd = (
            f"{account.alert_dnd_start}-{account.alert_dnd_end}"
            if account.alert_dnd_start
            else "off"
        )
        click.echo(
            f"account {account.id}: ai_mode={account.ai_mode} quiet_spell_s="
            f"{account.ai_quiet_spell_s} handoff_window_s={account.handoff_window_s} "
            f"alert_dnd={dnd} advanced_opt_out={account.advanced_opt_out} "
            f"owner_name={account.owner_name or '-'}"
        )


def _dnd_window(raw: str) -> tuple[str, str]:
    if raw.strip().lower() == "off":
        return "", ""
    match = DND_RE.fullmatch(raw.strip())
    if match is None:
        raise click.BadParameter(
            "use HH:MM-HH:MM, e.g. 21:30-07:00, or off", param_hint="--alert-dnd"
        )
    return match.group(1), match.group(2)
