"""The frequency cap's memory: when a contact's capped texts went out, read from the messages.

Reads only, scoped by account and contact; the decision stays with may_text.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from loopstrat.compliance.gates import FREQUENCY_WINDOW
from loopstrat.models import Message

# A claim whose call is under way or whose outcome is unknown may have reached the person.
MAY_HAVE_GONE = ("claimed", "unknown")


def capped_sends(
    session: Session,
    account_id: int,
    contact_id: int,
    kinds: Collection[str],
    now: datetime,
    *,
    besides: str,
) -> list[datetime]:
    """When the contact's texts of these kinds went to Twilio (or may have) in the last 24 h,
    other than the text being decided (key `besides`: after an unknown outcome it is decided
    again, and must not count against itself).

    A text Twilio rejected never left (no sent_at); one it accepted counts even if the carrier
    later failed it. Run it in the claim's transaction, after the contact is locked, so two
    capped texts to one person are counted one after the other."""
    went_at = func.coalesce(Message.sent_at, Message.claimed_at)
    return list(
        session.scalars(
            select(went_at).where(
                Message.account_id == account_id,
                Message.contact_id == contact_id,
                Message.direction == "out",
                Message.kind.in_(kinds),
                or_(Message.sent_at.is_not(None), Message.status.in_(MAY_HAVE_GONE)),
                went_at > now - FREQUENCY_WINDOW,
                or_(Message.idempotency_key.is_(None), Message.idempotency_key != besides),
            )
        )
    )
