"""Delivery reports: move a message forward through its states, never backwards.

Twilio sends status callbacks out of order and more than once; a replay changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.compliance.consent import record_opt_out
from loopstrat.config import Settings
from loopstrat.journal import note_change
from loopstrat.models import Contact, Message
from loopstrat.sms.gateway import ERROR_UNSUBSCRIBED

STATUS_PATH = "/twilio/status"  # webhooks/twilio.py serves it


def status_callback_url(settings: Settings) -> str:
    """Where Twilio reports each text's delivery: the public address, as signatures are checked."""
    return settings.public_base_url.rstrip("/") + STATUS_PATH


STATUS_RANK = {
    "claimed": 0,
    "unknown": 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "read": 6,
}


def apply_status(
    session: Session, *, sid: str, status: str, error_code: int | None, now: datetime
) -> Message | None:
    """Record one callback; the message, or None for a sid we never sent."""
    msg = session.scalar(select(Message).where(Message.twilio_sid == sid))
    if msg is None or status not in STATUS_RANK:
        return None
    before = (msg.status, msg.error_code)
    if STATUS_RANK[status] > STATUS_RANK.get(msg.status, 0):
        msg.status = status
        if status == "delivered":
            msg.delivered_at = now
    if error_code is not None and msg.error_code is None:
        msg.error_code = error_code
    if (msg.status, msg.error_code) != before:  # a replayed callback changes nothing
        note_change(session, msg.account_id, "message", msg.id)
    if error_code == ERROR_UNSUBSCRIBED and msg.contact_id is not None:
        contact = session.get(Contact, msg.contact_id)
        if contact is not None and contact.opted_out_at is None:
            record_opt_out(session, contact, source="carrier", evidence="Twilio 21610", now=now)
    return msg
