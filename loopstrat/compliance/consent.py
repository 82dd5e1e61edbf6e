"""Consent changes: opt-out and opt-in, each recorded as append-only evidence.

An opt-out takes effect at once and everywhere for the account: every pending text to the
contact is cancelled in the same transaction (FCC revocation rule, April 2025).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from loopstrat.compliance.gates import Recipient
from loopstrat.crm.journal import note_change
from loopstrat.models import Account, ConsentEvent, Contact, Enrollment, Message
from loopstrat.phones import is_nanp, recipient_place

PENDING_OUT = ("deferred", "draft", "new")
# The one text an opt-out still owes the person; a second STOP must not cancel it mid-retry.
OPT_OUT_CONFIRM_KIND = "opt_out_confirm"


def pending_texts_to(contact: Contact) -> tuple[ColumnElement[bool], ...]:
    """The conditions naming every unsent text to the contact that an opt-out stops."""
    return (
        Message.account_id == contact.account_id,
        Message.contact_id == contact.id,
        Message.direction == "out",
        Message.status.in_(PENDING_OUT),
        Message.kind != OPT_OUT_CONFIRM_KIND,
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
    if not zones and is_nanp(contact.phone):
        zones = (account.timezone,)  # a non-geographic number: the business's own zone
    return Recipient(
        zones=zones,
        states=states,
        consent=contact.consent_at is not None,
        marketing_consent=contact.marketing_consent_at is not None,
        opted_out=contact.opted_out_at is not None,
    )
