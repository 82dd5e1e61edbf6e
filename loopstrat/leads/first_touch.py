"""A lead's first answer, written on the lead when a text to it is sent: when, how many seconds
after the lead arrived (its speed to lead), and who wrote it; and, while the first answer
waits for the lead's morning, until when. Whoever writes it: the first reply, the AI or a
person who answered first. The feed, Airtable and the ROI page read these columns instead of
searching the lead's texts each time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from loopstrat.models import Lead, Message
from loopstrat.texts.kinds import TextKind

# The texts that answer a lead: its first reply and the conversation's texts, by the AI, the
# template or a person. Not alerts to the contractor, opt-out confirmations, HELP answers or
# campaign texts: none of them answers the inquiry.
ANSWERING_KINDS = frozenset(
    {TextKind.FIRST_REPLY, TextKind.FOLLOW_UP, TextKind.HOLDING, TextKind.HUMAN_REPLY}
)


def stamp_first_touch(session: Session, message_id: int) -> int | None:
    """Called after a send settles, in its transaction. The earliest sent answer wins, whatever
    order two racing sends settle in. Returns the lead's id when its first answer changed."""
    msg, lead = _answer_and_lead(session, message_id)
    if msg is None or lead is None or msg.sent_at is None:
        return None
    stamped = session.execute(
        update(Lead)
        .where(
            Lead.id == lead.id,
            or_(Lead.first_response_at.is_(None), Lead.first_response_at > msg.sent_at),
        )
        .values(
            first_response_at=msg.sent_at,
            first_response_s=(msg.sent_at - lead.received_at).total_seconds(),
            first_touch_by=msg.drafted_by or "template",
            response_state="responded",
        )
    )
    return lead.id if stamped.rowcount == 1 else None  # type: ignore[attr-defined]


def hold_first_touch(session: Session, message_id: int, until: datetime, reason: str) -> None:
    """A text that would be the lead's first answer waits (quiet hours): the lead says so, as it
    does when its first reply waits. Called after the send settles, in its transaction."""
    msg, lead = _answer_and_lead(session, message_id)
    if msg is None or lead is None:
        return
    # Conditional in SQL: a racing send may have stamped the first answer since we read.
    session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.first_response_at.is_(None))
        .values(response_state="held", held_until=until, hold_reason=reason)
    )


def _answer_and_lead(session: Session, message_id: int) -> tuple[Message | None, Lead | None]:
    msg = session.get(Message, message_id)
    if msg is None or msg.lead_id is None or msg.direction != "out":
        return None, None
    if msg.kind not in ANSWERING_KINDS:
        return None, None
    return msg, session.get(Lead, msg.lead_id)
