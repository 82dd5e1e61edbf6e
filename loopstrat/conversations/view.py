"""The conversation as the dashboard shows it: the lead's state and every text both ways.

Read-only, and always scoped by account: a lead id from another account finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.clock import utcnow
from loopstrat.compliance.consent import recipient_of
from loopstrat.compliance.holds import describe_hold
from loopstrat.models import Account, Contact, Lead, Message
from loopstrat.texts.kinds import CONTRACTOR_KINDS

AUTHORS = {"claude": "ai", "template": "template", "person": "person", "lead": "lead"}
NOT_DRAFTED = "not drafted yet"  # a held text is written when it goes, by the AI or a template
# Texts that never reached the lead, or were never meant to, are not part of what they saw.
UNSENT = ("suppressed", "cancelled", "failed", "draft", "deferred", "claimed", "unknown")


@dataclass(frozen=True)
class ConversationText:
    id: int
    at: datetime
    direction: str  # in | out
    author: str  # ai | template | person | lead | not drafted yet
    kind: str
    body: str
    status: str
    reason: str | None
    held_until: datetime | None = None  # a deferred text's next try (quiet hours, DND)
    hold: str | None = None  # the same in words: "held for quiet hours: goes at 8:00 in ..."


@dataclass(frozen=True)
class Conversation:
    lead_id: int
    contact_name: str | None
    contact_phone: str
    opted_out: bool
    state: str  # new | responded | replied | qualified | booked | lost
    owner: str  # ai | human
    ai_mode: str  # off | assist | auto: with "off" a person has every conversation
    timezone: str  # the account's, for showing times as the contractor lives them
    ai_turns: int
    handoff_reason: str | None
    texts: list[ConversationText]


def lead_texts(session: Session, account_id: int, lead_id: int) -> list[Message]:
    """Every text between the business and the lead, oldest first; alerts to the contractor
    and the texts they send from the alert phone are about the conversation, not in it."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.account_id == account_id,
                Message.lead_id == lead_id,
                Message.kind.not_in(CONTRACTOR_KINDS),
            )
            .order_by(Message.created_at, Message.id)
        )
    )


def conversation(session: Session, account_id: int, lead_id: int) -> Conversation | None:
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.account_id == account_id))
    if lead is None:
        return None
    account = session.get(Account, account_id)
    contact = session.get(Contact, lead.contact_id)
    if account is None or contact is None:
        return None
    now = utcnow()
    zones = recipient_of(contact, account, lead.zip).zones
    texts = [_text_of(m, zones, now) for m in lead_texts(session, account_id, lead_id)]
    return Conversation(
        lead_id=lead.id,
        contact_name=contact.name,
        contact_phone=contact.phone,
        opted_out=contact.opted_out_at is not None,
        state=lead.status,
        owner=lead.owner,
        ai_mode=account.ai_mode,
        timezone=account.timezone,
        ai_turns=lead.ai_turns,
        handoff_reason=lead.handoff_reason,
        texts=texts,
    )


def _text_of(m: Message, zones: tuple[str, ...], now: datetime) -> ConversationText:
    held_until = m.scheduled_for if m.status == "deferred" else None
    return ConversationText(
        id=m.id,
        at=m.created_at,
        direction=m.direction,
        author=AUTHORS.get(m.drafted_by or "", NOT_DRAFTED),
        kind=m.kind,
        body=m.body,
        status=m.status,
        reason=m.reason,
        held_until=held_until,
        hold=describe_hold(m.reason, held_until, zones, now) if held_until else None,
    )
