"""Consent changes: opt-out and opt-in, each recorded as append-only evidence; and the gate's
view of a contact, or of the account's alert phone.

An opt-out takes effect at once and everywhere for the account: every pending text to the
contact (or, from the alert phone, every pending alert) is cancelled in the same transaction
(FCC revocation rule, April 2025).
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from loopstrat.compliance.gates import Recipient
from loopstrat.compliance.quiet_hours import DoNotDisturb
from loopstrat.journal import note_change
from loopstrat.models import Account, ConsentEvent, Contact, Enrollment, Message
from loopstrat.phones import is_textable, recipient_place
from loopstrat.texts.kinds import TextKind

PENDING_OUT = ("deferred", "draft", "new")
# The one text an opt-out still owes the person; a second STOP must not cancel it mid-retry.
ALERTS_OPT_OUT = "alerts_opt_out"
ALERTS_OPT_IN = "alerts_opt_in"


def pending_texts_to(contact: Contact) -> tuple[ColumnElement[bool], ...]:
    """The conditions naming every unsent text to the contact that an opt-out stops."""
    return (
        Message.account_id == contact.account_id,
        Message.contact_id == contact.id,
        Message.direction == "out",
        Message.status.in_(PENDING_OUT),
        Message.kind != TextKind.OPT_OUT_CONFIRM,
    )


def record_opt_out(
    session: Session, contact: Contact, *, source: str, evidence: str, now: datetime
) -> None:
    if contact.opted_out_at is None:
        contact.opted_out_at = now
    session.add(
        ConsentEvent(
            account_id=contact.account_id,
            contact_id=contact.id,
            kind="opt_out",
            source=source,
            text_shown=evidence[:500],
            created_at=now,
        )
    )
    cancel_pending_texts(session, contact, reason="opted_out")
    note_change(session, contact.account_id, "contact", contact.id)


def record_opt_in(
    session: Session, contact: Contact, *, source: str, evidence: str, now: datetime
) -> None:
    contact.opted_out_at = None
    session.add(
        ConsentEvent(
            account_id=contact.account_id,
            contact_id=contact.id,
            kind="opt_in",
            source=source,
            text_shown=evidence[:500],
            created_at=now,
        )
    )
    note_change(session, contact.account_id, "contact", contact.id)


def cancel_pending_texts(session: Session, contact: Contact, *, reason: str) -> None:
    session.execute(
        update(Message)
        .where(*pending_texts_to(contact))
        .values(status="cancelled", reason=reason, scheduled_for=None)
    )
    session.execute(
        update(Enrollment)
        .where(
            Enrollment.account_id == contact.account_id,
            Enrollment.contact_id == contact.id,
            Enrollment.state == "pending",
        )
        .values(state="cancelled", reason=reason)
    )


def recipient_of(contact: Contact, account: Account, lead_zip: str | None = None) -> Recipient:
    """The gate's view of a contact: where they are and what they agreed to."""
    zones, states = recipient_place(contact.phone, contact.zip or lead_zip)
    if not zones and is_textable(contact.phone):
        zones = (account.timezone,)  # a non-geographic number: the business's own zone
    return Recipient(
        zones=zones,
        states=states,
        consent=contact.consent_at is not None,
        marketing_consent=contact.marketing_consent_at is not None,
        opted_out=contact.opted_out_at is not None,
        follow_up_consent=contact.follow_up_consent_at is not None,
    )


def alert_phone_recipient(account: Account, to: str, *, answering: bool) -> Recipient:
    """The gate's view of the alert phone. The account owner setting it is the contractor's
    consent to alerts, for that number only: a text stored for an earlier alert phone has none.
    An answer to a text the contractor has just sent skips do-not-disturb: they are awake."""
    return Recipient(
        zones=(account.timezone,),
        states=frozenset(),
        consent=account.alert_phone is not None and to == account.alert_phone,
        marketing_consent=False,
        opted_out=account.alerts_opted_out_at is not None,
        do_not_disturb=None if answering else do_not_disturb_of(account),
    )


def do_not_disturb_of(account: Account) -> DoNotDisturb | None:
    if not account.alert_dnd_start or not account.alert_dnd_end:
        return None
    start, end = _hhmm(account.alert_dnd_start), _hhmm(account.alert_dnd_end)
    return DoNotDisturb(start, end, account.timezone)


def pending_alerts_to(account: Account) -> tuple[ColumnElement[bool], ...]:
    """The conditions naming every unsent text to the alert phone that its STOP stops."""
    return (
        Message.account_id == account.id,
        Message.contact_id.is_(None),
        Message.to_phone == (account.alert_phone or ""),
        Message.direction == "out",
        Message.status.in_(PENDING_OUT),
        Message.kind != TextKind.OPT_OUT_CONFIRM,
    )


def record_alerts_opt_out(
    session: Session, account: Account, *, source: str, evidence: str, now: datetime
) -> None:
    if account.alerts_opted_out_at is None:
        account.alerts_opted_out_at = now
    _alert_phone_event(session, account, ALERTS_OPT_OUT, source, evidence, now)
    session.execute(
        update(Message)
        .where(*pending_alerts_to(account))
        .values(status="cancelled", reason="opted_out", scheduled_for=None)
    )


def record_alerts_opt_in(
    session: Session, account: Account, *, source: str, evidence: str, now: datetime
) -> None:
    account.alerts_opted_out_at = None
    _alert_phone_event(session, account, ALERTS_OPT_IN, source, evidence, now)


def _alert_phone_event(
    session: Session, account: Account, kind: str, source: str, evidence: str, now: datetime
) -> None:
    session.add(
        ConsentEvent(
            account_id=account.id,
            contact_id=None,  # the contractor is no contact: the phone names them
            phone=account.alert_phone,
            kind=kind,
            source=source,
            text_shown=evidence[:500],
            created_at=now,
        )
    )


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
