"""The conversation as the dashboard shows it: the lead's state and every text both ways.

Read-only, and always scoped by account: a lead id from another account finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.conversations.texts import CONTRACTOR_KINDS
from loopstrat.models import Contact, Lead, Message

AUTHORS = {"claude": "ai", "template": "template", "person": "person", "lead": "lead"}
# Texts that never reached the lead, or were never meant to, are not part of what they saw.
UNSENT = ("suppressed", "cancelled", "failed", "draft", "deferred", "claimed", "unknown")


@dataclass(frozen=True)
class ConversationText:
    id: int
    at: datetime
    direction: str  # in | out
    author: str  # ai | template | person | lead
    kind: str
    body: str
    status: str
    reason: str | None
    held_until: datetime | None = None  # a deferred text's next try (quiet hours, DND)


@dataclass(frozen=True)
class Conversation:
    lead_id: int
    contact_name: str | None
    contact_phone: str
    opted_out: bool
    state: str  # new | responded | replied | qualified | booked | lost
    owner: str  # ai | human
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
    contact = session.get(Contact, lead.contact_id)
    assert contact is not None
    texts = [
        ConversationText(
            id=m.id,
            at=m.created_at,
            direction=m.direction,
            author=AUTHORS.get(m.drafted_by or "", "template"),
            kind=m.kind,
            body=m.body,
            status=m.status,
            reason=m.reason,
            held_until=m.scheduled_for if m.status == "deferred" else None,
        )
        for m in lead_texts(session, account_id, lead_id)
    ]
    return Conversation(
        lead_id=lead.id,
        contact_name=contact.name,
        contact_phone=contact.phone,
        opted_out=contact.opted_out_at is not None,
        state=lead.status,
        owner=lead.owner,
        ai_turns=lead.ai_turns,
        handoff_reason=lead.handoff_reason,
        texts=texts,
    )
