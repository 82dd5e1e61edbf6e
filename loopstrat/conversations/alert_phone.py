"""A text from the account's alert phone: the contractor's words for a lead, or STOP/START/HELP
about their alerts. Runs in the webhook's transaction: picks the lead (the #reference's, of this
account only, or the latest alert's) and records an alerts opt-out at once. Never texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.compliance.consent import (
    pending_alerts_to,
    record_alerts_opt_in,
    record_alerts_opt_out,
)
from loopstrat.conversations.keywords import OPT_IN, OPT_OUT
from loopstrat.models import Account, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.phones import InvalidPhone, normalise
from loopstrat.sms.outbound import SETTLED
from loopstrat.texts.kinds import TextKind

# Why a text names no lead we can send it to (the answer says how to name one).
NO_ALERT = "no_alert"
NO_LEAD = "no_lead"
NO_WORDS = "no_words"
# "#12 Tuesday at 9 works": the alert's reference, then the words for the lead.
REFERENCE = re.compile(r"\s*#\s*(\d+|\S*)[\s:,.-]*(.*)", re.DOTALL)
MAX_LEAD_DIGITS = 9  # beyond any lead id, and inside a 32-bit integer column


@dataclass(frozen=True)
class Reference:
    given: str | None  # what followed '#', or None when the text names no lead
    words: str


@dataclass(frozen=True)
class Route:
    lead_id: int | None
    problem: str | None = None  # NO_ALERT | NO_LEAD | NO_WORDS


def from_alert_phone(account: Account, raw_from: str) -> bool:
    if not account.alert_phone:
        return False
    try:
        return normalise(raw_from) == account.alert_phone
    except InvalidPhone:
        return False


def reference_of(body: str) -> Reference:
    match = REFERENCE.fullmatch(body)
    if match is None:
        return Reference(None, body.strip())
    return Reference(match.group(1), match.group(2).strip())


def route(session: Session, account: Account, body: str) -> Route:
    """The lead the contractor's text is for, decided when it arrives: a later alert must not
    redirect words written in answer to the one on their screen."""
    ref = reference_of(body)
    if ref.given is None:
        lead_id = latest_alerted_lead(session, account)
        if lead_id is None:
            return Route(None, NO_ALERT)
    else:
        lead_id = _lead_of(session, account, ref.given)
        if lead_id is None:
            return Route(None, NO_LEAD)
    return Route(lead_id, None if ref.words else NO_WORDS)


def latest_alerted_lead(session: Session, account: Account) -> int | None:
    """The lead of the last alert this account's alert phone received."""
    return session.scalar(
        select(Message.lead_id)
        .where(
            Message.account_id == account.id,
            Message.contact_id.is_(None),
            Message.direction == "out",
            Message.kind == TextKind.ALERT,
            Message.to_phone == account.alert_phone,
            Message.lead_id.is_not(None),
            Message.status.in_(SETTLED),
            Message.sent_at.is_not(None),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )


def record_alerts_keyword(
    session: Session, account: Account, keyword: str, evidence: str, now: datetime
) -> None:
    """STOP from the alert phone ends alerts at once (pending ones cancelled); START restores."""
    if keyword == OPT_OUT:
        pending = session.scalars(select(Message.id).where(*pending_alerts_to(account))).all()
        for message_id in pending:
            outbox.finish(
                session,
                Kind.CONVERSATION_TEXT,
                str(message_id),
                state="cancelled",
                reason="opted_out",
            )
        record_alerts_opt_out(session, account, source="sms", evidence=evidence, now=now)
    elif keyword == OPT_IN and account.alerts_opted_out_at is not None:
        record_alerts_opt_in(session, account, source="sms", evidence=evidence, now=now)


def _lead_of(session: Session, account: Account, given: str) -> int | None:
    if not (given.isascii() and given.isdigit()) or len(given) > MAX_LEAD_DIGITS:
        return None
    return session.scalar(
        select(Lead.id).where(Lead.id == int(given), Lead.account_id == account.id)
    )
