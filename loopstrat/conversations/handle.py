"""What follows an inbound text: the keyword's answer, or the contractor's alert and the AI's turn.

Runs in a job after the webhook committed the text (and any opt-out). Decisions and the texts
they cause are stored in one transaction with the outbox row finished, then sent; a re-run
only re-sends what was stored. Never decides consent: inbound.record_inbound did.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.conversations.alerts import forward_body, hand_off_body, store_alert
from loopstrat.conversations.handoff import open_hand_off
from loopstrat.conversations.inbound import NO_ANSWER_OWED, route_of
from loopstrat.conversations.keywords import HELP, OPT_IN, OPT_OUT, hand_off_trigger
from loopstrat.conversations.texts import send_stored, store_text
from loopstrat.drafting.template import render_sms
from loopstrat.models import Account, Contact, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime
from loopstrat.texts.kinds import TextKind

log = logging.getLogger(__name__)

KEYWORD_ANSWERS = {
    OPT_OUT: ("stop-confirm", TextKind.OPT_OUT_CONFIRM, "opt_out_confirm.txt"),
    OPT_IN: ("start-confirm", TextKind.OPT_IN_CONFIRM, "opt_in_confirm.txt"),
    HELP: ("help", TextKind.HELP, "help.txt"),
}


def handle_inbound(rt: Runtime, message_id: int) -> str | None:
    with rt.sessions() as session:
        msg = session.get(Message, message_id)
        if msg is None or msg.direction != "in":
            log.warning("handle_inbound message_id=%s missing", message_id)
            outbox.finish(
                session,
                Kind.CONVERSATION_INBOUND,
                str(message_id),
                state="cancelled",
                reason="missing",
            )
            session.commit()
            return None
        row = outbox.find(session, Kind.CONVERSATION_INBOUND, str(message_id))
        if row is not None and row.state == "done":
            ids = _stored_for(session, msg)  # decided before; only the sends may be unfinished
        else:
            ids = _decide(session, msg, utcnow())
            outbox.finish(session, Kind.CONVERSATION_INBOUND, str(message_id))
        session.commit()
        what = route_of(msg)
        account_id, lead_id = msg.account_id, msg.lead_id
    for text_id in ids:
        send_stored(rt, text_id)
    log.info(
        "handle_inbound account_id=%s lead_id=%s message_id=%s what=%s texts=%d",
        account_id,
        lead_id,
        message_id,
        what,
        len(ids),
    )
    return what


def _decide(session: Session, msg: Message, now: datetime) -> list[int]:
    account = session.get_one(Account, msg.account_id)
    contact = session.get_one(Contact, msg.contact_id)
    keyword = route_of(msg)
    if keyword in KEYWORD_ANSWERS:
        if msg.reason == NO_ANSWER_OWED:
            return []  # Twilio's Advanced Opt-Out answered, or nothing changed
        return [_store_keyword_answer(session, account, contact, msg, keyword).id]
    lead = session.get_one(Lead, msg.lead_id)
    alert = _follow_reply(session, account, contact, lead, msg, now)
    return [alert.id] if alert is not None else []


def _store_keyword_answer(
    session: Session, account: Account, contact: Contact, msg: Message, keyword: str
) -> Message:
    suffix, kind, template = KEYWORD_ANSWERS[keyword]
    body = render_sms(template, business=account.name, website=account.website)
    return store_text(
        session,
        key=f"in-{msg.id}-{suffix}",
        account=account,
        to=contact.phone,
        kind=kind,
        body=body,
        drafted_by="template",
        contact_id=contact.id,
        lead_id=msg.lead_id,
    )


def _follow_reply(
    session: Session, account: Account, contact: Contact, lead: Lead, msg: Message, now: datetime
) -> Message | None:
    """Alert the contractor; then hand off, or let the AI answer after the quiet spell."""
    body = forward_body(account, contact, lead, msg.body)
    trigger = hand_off_trigger(msg.body)
    if lead.owner == "human":
        pass  # a person has the conversation: they only need to see the reply
    elif account.ai_mode == "auto" and trigger:
        open_hand_off(session, lead, trigger, now, silence_ai=True)
        outbox.finish(session, Kind.AI_TURN, str(lead.id), state="cancelled", reason=trigger)
        body = hand_off_body(account, contact, lead, trigger, msg.body)
    elif account.ai_mode in ("auto", "assist"):
        schedule_ai_turn(session, account, lead)
    else:
        open_hand_off(session, lead, "ai_off", now, silence_ai=True)
    return store_alert(session, key=f"in-{msg.id}-alert", account=account, lead=lead, body=body)


def schedule_ai_turn(session: Session, account: Account, lead: Lead) -> None:
    """Debounce: the turn is due a quiet spell after the latest text, however many came."""
    if lead.last_inbound_at is None:
        return  # the lead has not texted: there is nothing for the AI to answer
    due = lead.last_inbound_at + timedelta(seconds=account.ai_quiet_spell_s)
    row = outbox.find(session, Kind.AI_TURN, str(lead.id))
    if row is None:
        outbox.schedule(
            session, account_id=account.id, kind=Kind.AI_TURN, ref_id=str(lead.id), due_at=due
        )
    else:
        row.state, row.due_at, row.enqueued_at, row.reason = "pending", due, None, None


def _stored_for(session: Session, msg: Message) -> list[int]:
    return list(
        session.scalars(
            select(Message.id).where(
                Message.account_id == msg.account_id,
                Message.idempotency_key.like(f"in-{msg.id}-%"),
            )
        )
    )
