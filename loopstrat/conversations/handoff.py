"""Hand-off: the conversation passes to a person, and a person who does not answer is nudged.

A hand-off is numbered (lead.handoffs) so its alert, re-alert and holding text each have one
idempotency key. The re-alert and the holding text go once per hand-off, only after the
account's window has passed unanswered, and never in the lead's quiet hours.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.compliance import REPLY, Defer, may_text
from loopstrat.compliance.consent import recipient_of
from loopstrat.conversations.alerts import still_waiting_body, store_alert
from loopstrat.conversations.texts import send_stored, store_text
from loopstrat.drafting.template import render_sms
from loopstrat.models import Account, Contact, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime
from loopstrat.texts.kinds import TextKind

log = logging.getLogger(__name__)


def hand_off_open(lead: Lead) -> bool:
    """Handed to a person who has not answered since."""
    if lead.handoff_at is None:
        return False
    return lead.last_human_reply_at is None or lead.last_human_reply_at < lead.handoff_at


def open_hand_off(
    session: Session, lead: Lead, reason: str, now: datetime, *, silence_ai: bool
) -> int:
    """Start hand-off n (or return the open one's n) and schedule its unanswered check."""
    if hand_off_open(lead):
        if silence_ai:
            lead.owner = "human"
        return lead.handoffs
    lead.handoffs += 1
    lead.handoff_at, lead.handoff_reason = now, reason
    if silence_ai:
        lead.owner = "human"
    account = session.get_one(Account, lead.account_id)
    outbox.schedule(
        session,
        account_id=lead.account_id,
        kind=Kind.HANDOFF_CHECK,
        ref_id=str(lead.id),
        due_at=now + timedelta(seconds=account.handoff_window_s),
    )
    return lead.handoffs


def check_hand_off(rt: Runtime, lead_id: int) -> list[int]:
    """After the window: re-alert once and send the lead one holding text, if still unanswered."""
    ref = str(lead_id)
    with rt.sessions() as session:
        lead = session.get(Lead, lead_id)
        if lead is None or lead.handoff_at is None or not hand_off_open(lead):
            outbox.finish(session, Kind.HANDOFF_CHECK, ref, reason="answered")
            session.commit()
            return []
        account = session.get_one(Account, lead.account_id)
        contact = session.get_one(Contact, lead.contact_id)
        now = utcnow()
        due = lead.handoff_at + timedelta(seconds=account.handoff_window_s)
        wait_until = due if now < due else _quiet_hours_until(account, contact, lead, now)
        if wait_until is not None:
            outbox.postpone(session, Kind.HANDOFF_CHECK, ref, wait_until)
            session.commit()
            return []
        ids = _store_nudges(session, account, contact, lead)
        outbox.finish(session, Kind.HANDOFF_CHECK, ref)
        session.commit()
    log.info("hand_off unanswered account_id=%s lead_id=%s", account.id, lead_id)
    for message_id in ids:
        send_stored(rt, message_id)
    return ids


def _quiet_hours_until(
    account: Account, contact: Contact, lead: Lead, now: datetime
) -> datetime | None:
    decision = may_text(
        recipient=recipient_of(contact, account, lead.zip),
        purpose=REPLY,
        now=now,
        account_active=account.is_active,
    )
    # Blocked (opted out, say): the holding text's own gate records why it did not go.
    return decision.until if isinstance(decision, Defer) else None


def _store_nudges(session: Session, account: Account, contact: Contact, lead: Lead) -> list[int]:
    n = lead.handoffs
    minutes = max(1, account.handoff_window_s // 60)
    rows: list[Message | None] = [
        store_alert(
            session,
            key=f"lead-{lead.id}-handoff-{n}-realert",
            account=account,
            lead=lead,
            body=still_waiting_body(account, contact, lead, minutes),
        )
    ]
    if not _lead_has_been_answered_since_handoff(session, lead):
        rows.append(
            store_text(
                session,
                key=f"lead-{lead.id}-handoff-{n}-holding",
                account=account,
                to=contact.phone,
                kind=TextKind.HOLDING,
                body=holding_body(account),
                drafted_by="template",
                contact_id=contact.id,
                lead_id=lead.id,
            )
        )
    return [row.id for row in rows if row is not None]


def holding_body(account: Account) -> str:
    who = f"{account.owner_name} from {account.name}" if account.owner_name else None
    return render_sms("holding.txt", who=who, business=account.name)


def _lead_has_been_answered_since_handoff(session: Session, lead: Lead) -> bool:
    """An AI or template text already went out after the hand-off (say, a fallback)."""
    if lead.handoff_at is None:
        return False
    return (
        session.scalar(
            select(Message.id)
            .where(
                Message.lead_id == lead.id,
                Message.account_id == lead.account_id,
                Message.direction == "out",
                Message.kind.in_((TextKind.FOLLOW_UP, TextKind.HUMAN_REPLY)),
                Message.created_at >= lead.handoff_at,
                Message.status.not_in(("suppressed", "cancelled", "draft", "failed")),
            )
            .limit(1)
        )
        is not None
    )
