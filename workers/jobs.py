"""RQ job functions. Each loads by id, calls the core, and returns; a missing row is logged."""

from __future__ import annotations

import time
from collections.abc import Callable

from loopstrat import runtime
from loopstrat.campaigns import handout, pacer
from loopstrat.conversations import ai_turn, alerts, contractor_reply, handle, handoff, texts
from loopstrat.crm.sync import sync_account
from loopstrat.leads import flood
from loopstrat.leads.respond import respond_to_lead as respond
from loopstrat.outbox import Kind


def respond_to_lead(lead_id: int) -> str | None:
    outcome = respond(runtime.current(), lead_id)
    return outcome.result if outcome else None


def sync_crm(account_id: int, sleep: Callable[[float], None] = time.sleep) -> str:
    """crm queue only: it may wait up to a second and a half for an Airtable request slot."""
    rt = runtime.current()
    result = sync_account(rt, account_id, sleep=sleep)
    if result.alert_since is not None:
        alerts.alert_crm_failing(rt, account_id, result.alert_since, result.error or "")
    return result.state


def handle_inbound(message_id: int) -> str | None:
    return handle.handle_inbound(runtime.current(), message_id)


def answer_contractor(message_id: int) -> str | None:
    return contractor_reply.answer_contractor(runtime.current(), message_id)


def send_conversation_text(message_id: int) -> str | None:
    outcome = texts.send_stored(runtime.current(), message_id)
    return outcome.result if outcome else None


def take_ai_turn(lead_id: int) -> str:
    return ai_turn.take_ai_turn(runtime.current(), lead_id)


def check_hand_off(lead_id: int) -> int:
    return len(handoff.check_hand_off(runtime.current(), lead_id))


def release_held_leads(account_id: int) -> str:
    return flood.release_held_leads(runtime.current(), account_id).result


def write_campaign_text(enrollment_id: int) -> str:
    """bulk queue: a planned text come due is written and sent, or skipped with its reason."""
    return handout.hand_out(runtime.current(), enrollment_id)


def send_campaign_text(message_id: int) -> str | None:
    """bulk queue: a campaign text held for quiet hours or retried after an error."""
    outcome = texts.send_stored(runtime.current(), message_id, Kind.CAMPAIGN_TEXT)
    return outcome.result if outcome else None


def pace_campaign(campaign_id: int) -> str:
    """bulk queue: a running campaign's pacer releases its next sends."""
    return pacer.pace(runtime.current(), campaign_id)
