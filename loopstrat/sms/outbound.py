"""Exactly-once sending: one idempotency key, one text, however often a job runs.

The key is claimed in the database before Twilio is called and settled after. A claim whose
outcome is unknown (the worker died during the call, or Twilio timed out) is settled by asking
Twilio's Messages list before anything is sent again. Never calls a gateway without a claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from loopstrat.clock import utcnow
from loopstrat.compliance import Block, Decision, Defer
from loopstrat.db import begin_writing
from loopstrat.models import Account, Contact, Message
from loopstrat.sms.gateway import SentMessage, SmsError, SmsGateway

log = logging.getLogger(__name__)

# Longer than one Twilio call can take (timeout plus a little), shorter than the sweeper's
# re-enqueue delay, so a live claim is never reconciled and a dead one is found in one sweep.
CLAIM_LEASE = timedelta(seconds=60)
SETTLED = frozenset(
    {"accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read"}
)
FINAL_OPEN = frozenset({"cancelled"})
UNKNOWN_REASON = "outcome_unknown"
WINDOW_CLOSED = "window_closed"
RECONCILE_PREFIX = "reconcile_"


@dataclass(frozen=True)
class OutboundText:
    key: str
    account_id: int
    contact_id: int | None
    lead_id: int | None
    kind: str
    to: str
    from_: str


@dataclass(frozen=True)
class Composed:
    body: str
    drafted_by: str
    ai_tokens: tuple[int, int] | None = None  # Claude's input and output tokens for this text


@dataclass(frozen=True)
class Outcome:
    """What happened: sent | already | in_flight | blocked | deferred | rejected | retry."""

    result: str
    message_id: int | None = None
    reason: str | None = None
    until: datetime | None = None
    error_code: int | None = None

    @property
    def unsettled(self) -> bool:
        """A retry whose text Twilio may already have: it must be reconciled, not dropped."""
        reason = self.reason or ""
        return self.result == "retry" and (
            reason == UNKNOWN_REASON or reason.startswith(RECONCILE_PREFIX)
        )


def send_once(
    sessions: sessionmaker[Session],
    gateway: SmsGateway,
    status_callback: str,
    text: OutboundText,
    decide: Callable[[Session, datetime], Decision],
    compose: Callable[[], Composed],
) -> Outcome:
    """Decide, draft, claim, send, settle. Safe to call any number of times for one key."""
    with sessions() as session:
        seen = _by_key(session, text.key)
        early = _settle_earlier_attempt(session, gateway, seen)
        if early is not None:
            session.commit()
            return early
        now = utcnow()
        decision = decide(session, now)
        if isinstance(decision, Block | Defer):
            return _ended(session, _record_decision(session, text, seen, decision))
        session.commit()
    composed = compose()
    with sessions() as session:
        # Drafting can take seconds: a STOP, a cancelled plan or the evening may have come
        # meanwhile, so decide again right before the claim, in the claim's transaction.
        _hold_contact(session, text)
        now = utcnow()
        decision = decide(session, now)
        if isinstance(decision, Block | Defer):
            return _ended(session, _record_decision(session, text, seen, decision))
        claimed = _claim(session, text, seen, composed, now)
        if claimed is None:
            session.rollback()
            return Outcome("in_flight")
        session.commit()  # the claim, and the contact's lock with it: now Twilio may be called
    return _call_gateway(
        sessions, gateway, status_callback, text, claimed, composed, decision.window_ends
    )


def _hold_contact(session: Session, text: OutboundText) -> None:
    """Lock the contact until the claim commits, so that an opt-out (an UPDATE of the contact,
    or any write on SQLite) either committed before the decision or waits for the claim, and
    two capped texts to one person are counted one after the other."""
    begin_writing(session)
    if text.contact_id is not None:
        # FOR NO KEY UPDATE: conflicts with the opt-out's UPDATE and with another claim's
        # lock, not with the foreign-key checks of rows that merely point at the contact.
        session.execute(
            select(Contact.id)
            .where(Contact.id == text.contact_id, Contact.account_id == text.account_id)
            .with_for_update(key_share=True)
        )
    else:
        # A text to the alert phone: its STOP is an UPDATE of the account row.
        session.execute(
            select(Account.id).where(Account.id == text.account_id).with_for_update(key_share=True)
        )


def _by_key(session: Session, key: str) -> Message | None:
    return session.scalar(select(Message).where(Message.idempotency_key == key))


def _settle_earlier_attempt(
    session: Session, gateway: SmsGateway, seen: Message | None
) -> Outcome | None:
    if seen is None or seen.status in ("deferred", "suppressed"):
        return None
    if seen.status == "failed":
        return Outcome("rejected", seen.id, seen.reason, error_code=seen.error_code)
    if seen.status in SETTLED:
        return Outcome("already", seen.id)
    if seen.status in FINAL_OPEN:
        return Outcome("blocked", seen.id, reason=seen.reason)
    # A claimed or unknown row is stamped when claimed; unstamped, look as far back as the row.
    claimed_at = seen.claimed_at or seen.created_at
    if utcnow() - claimed_at < CLAIM_LEASE:
        if seen.status == "claimed":
            return Outcome("in_flight", seen.id)
        # A call that timed out may still be creating the message at Twilio: asking its
        # Messages list too soon would find nothing and send the text a second time.
        return Outcome("retry", seen.id, reason=f"{RECONCILE_PREFIX}wait")
    try:
        found = gateway.find_sent(
            to=seen.to_phone,
            from_=seen.from_phone,
            body=seen.body,
            since=claimed_at,
            exclude=_sids_taken(session, seen),
        )
    except SmsError as exc:
        return Outcome("retry", seen.id, reason=f"{RECONCILE_PREFIX}{exc.outcome}")
    if found is None:
        log.info("reconcile message_id=%s result=not_sent", seen.id)
        return None
    log.info("reconcile message_id=%s result=found_sent", seen.id)
    _mark_sent(seen, found, claimed_at)
    return Outcome("already", seen.id)


def _sids_taken(session: Session, seen: Message) -> frozenset[str]:
    """Sids other rows already hold: two texts with the same words to the same person (two
    identical alerts, say) must not both claim the one Twilio message."""
    taken = session.scalars(
        select(Message.twilio_sid).where(
            Message.to_phone == seen.to_phone,
            Message.from_phone == seen.from_phone,
            Message.body == seen.body,
            Message.id != seen.id,
            Message.twilio_sid.is_not(None),
        )
    )
    return frozenset(sid for sid in taken if sid)


def _ended(session: Session, recorded: Outcome) -> Outcome:
    """End the caller's transaction on what was recorded: kept, or nothing (another won)."""
    if recorded.message_id is None:
        session.rollback()
    else:
        session.commit()
    return recorded


def _record_decision(
    session: Session, text: OutboundText, seen: Message | None, decision: Block | Defer
) -> Outcome:
    """The held or suppressed row, flushed; in_flight (nothing written) if another won."""
    values: dict[str, object]
    if isinstance(decision, Block):
        values = {"status": "suppressed", "reason": decision.reason, "scheduled_for": None}
        result, until = "blocked", None
    else:
        values = {"status": "deferred", "reason": decision.reason, "scheduled_for": decision.until}
        result, until = "deferred", decision.until
    msg = _write_row(session, text, seen, values)
    if msg is None:
        return Outcome("in_flight")  # another worker wrote the same key first: theirs stands
    return Outcome(result, msg.id, decision.reason, until)


def _claim(
    session: Session,
    text: OutboundText,
    seen: Message | None,
    composed: Composed,
    now: datetime,
) -> Message | None:
    """Take the key for this attempt, or None if another worker took it first."""
    fields: dict[str, object] = {
        "status": "claimed",
        "claimed_at": now,
        "body": composed.body,
        "drafted_by": composed.drafted_by,
        **_token_fields(composed),
        "reason": None,
        "scheduled_for": None,
    }
    return _write_row(session, text, seen, fields)


def _token_fields(composed: Composed) -> dict[str, object]:
    if composed.ai_tokens is None:
        return {}
    return {"ai_input_tokens": composed.ai_tokens[0], "ai_output_tokens": composed.ai_tokens[1]}


def _write_row(
    session: Session, text: OutboundText, seen: Message | None, values: dict[str, object]
) -> Message | None:
    """Insert the key's row, or compare-and-set the row we saw; None if another worker won.
    Flushes only: the caller commits the row, or rolls back on None."""
    if seen is None:
        msg = _new_row(text)
        for name, value in values.items():
            setattr(msg, name, value)
        session.add(msg)
        try:
            session.flush()
        except IntegrityError:
            return None
        return msg
    # Of two workers that saw the same row, exactly one changes it.
    swapped = session.execute(
        update(Message)
        .where(
            Message.id == seen.id,
            Message.status == seen.status,
            _same_claim(seen.claimed_at),
        )
        .values(**values)
    )
    if swapped.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Message, seen.id, populate_existing=True)


def _new_row(text: OutboundText) -> Message:
    return Message(
        idempotency_key=text.key,
        account_id=text.account_id,
        contact_id=text.contact_id,
        lead_id=text.lead_id,
        direction="out",
        kind=text.kind,
        to_phone=text.to,
        from_phone=text.from_,
        body="",
        status="new",
    )


def _same_claim(claimed_at: datetime | None):  # type: ignore[no-untyped-def]
    if claimed_at is None:
        return Message.claimed_at.is_(None)
    return Message.claimed_at == claimed_at


def _call_gateway(
    sessions: sessionmaker[Session],
    gateway: SmsGateway,
    status_callback: str,
    text: OutboundText,
    claimed: Message,
    composed: Composed,
    window_ends: datetime | None,
) -> Outcome:
    called_at = utcnow()
    validity_s = validity_period_s(gateway.max_validity_period_s, window_ends, called_at)
    if validity_s < 1:
        return _release_claim(sessions, claimed.id)
    try:
        sent = gateway.send(
            to=text.to,
            from_=text.from_,
            body=composed.body,
            status_callback=status_callback,
            validity_period_s=validity_s,
        )
    except SmsError as exc:
        return _record_failure(sessions, claimed.id, exc)
    with sessions() as session:
        msg = session.get_one(Message, claimed.id)
        _mark_sent(msg, sent, called_at)
        session.commit()
    return Outcome("sent", claimed.id)


def validity_period_s(most_s: int, window_ends: datetime | None, now: datetime) -> int:
    """How long Twilio may hold the text: never past the end of the recipient's allowed hours,
    so a text that waits in Twilio's queue is dropped rather than delivered at night."""
    if window_ends is None:
        return most_s
    return min(most_s, int((window_ends - now).total_seconds()))


def _release_claim(sessions: sessionmaker[Session], message_id: int) -> Outcome:
    """The claim outlasted the recipient's window (it stalled for a minute): nothing was sent;
    the retry decides again and holds the text for the next window."""
    with sessions() as session:
        msg = session.get_one(Message, message_id)
        msg.status, msg.reason = "deferred", WINDOW_CLOSED
        session.commit()
    log.warning("sms not sent message_id=%s reason=%s", message_id, WINDOW_CLOSED)
    return Outcome("retry", message_id, WINDOW_CLOSED)


def _mark_sent(msg: Message, sent: SentMessage, called_at: datetime) -> None:
    msg.twilio_sid = sent.sid
    msg.status = sent.status if sent.status in SETTLED else "queued"
    msg.segments = sent.segments
    msg.price_cents = sent.price_cents
    msg.sent_at = called_at


def _record_failure(sessions: sessionmaker[Session], message_id: int, exc: SmsError) -> Outcome:
    with sessions() as session:
        msg = session.get_one(Message, message_id)
        msg.error_code = exc.code
        if exc.outcome == "rejected":
            msg.status, msg.reason = "failed", f"twilio_{exc.code}"
            outcome = Outcome("rejected", msg.id, msg.reason, error_code=exc.code)
        elif exc.outcome == "not_sent":
            msg.status, msg.reason = "deferred", "twilio_rate_limited"
            outcome = Outcome("retry", msg.id, msg.reason, error_code=exc.code)
        else:
            msg.status, msg.reason = "unknown", str(exc)[:120]
            outcome = Outcome("retry", msg.id, UNKNOWN_REASON, error_code=exc.code)
        session.commit()
    log.warning("sms failure message_id=%s outcome=%s code=%s", message_id, exc.outcome, exc.code)
    return outcome
