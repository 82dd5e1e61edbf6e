"""Deleting a contact: the person, their leads, texts and campaign enrollments go, here and (when
the account syncs) in its Airtable base. Opting out is not deleting: see compliance.consent.

Consent events stay: they are the evidence a texting complaint is answered with, so they keep
the phone number and lose only the link to the deleted contact.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from loopstrat.journal import note_deleted
from loopstrat.models import AuditLog, ConsentEvent, Contact, Enrollment, Lead, Message, Outbox
from loopstrat.outbox import Kind


@dataclass(frozen=True)
class Deleted:
    contact_id: int
    leads: int
    messages: int


def delete_contact(session: Session, account_id: int, contact_id: int, actor: str) -> Deleted:
    """Delete one contact of this account and everything that is only theirs; caller commits."""
    contact = session.scalar(
        select(Contact).where(Contact.account_id == account_id, Contact.id == contact_id)
    )
    if contact is None:
        raise LookupError(f"no contact {contact_id} in account {account_id}")
    lead_ids = list(
        session.scalars(
            select(Lead.id).where(Lead.account_id == account_id, Lead.contact_id == contact_id)
        )
    )
    theirs = or_(Message.contact_id == contact_id, Message.lead_id.in_(lead_ids))
    message_ids = list(
        session.scalars(select(Message.id).where(Message.account_id == account_id, theirs))
    )
    note_deleted(
        session,
        account_id,
        [("message", i) for i in message_ids]
        + [("lead", i) for i in lead_ids]
        + [("contact", contact_id)],
    )
    session.execute(
        update(ConsentEvent)
        .where(ConsentEvent.account_id == account_id, ConsentEvent.contact_id == contact_id)
        .values(contact_id=None, phone=contact.phone)
    )
    session.execute(
        update(Outbox)
        .where(
            Outbox.account_id == account_id,
            Outbox.kind == Kind.RESPOND_TO_LEAD,
            Outbox.ref_id.in_([str(i) for i in lead_ids]),
            Outbox.state == "pending",
        )
        .values(state="cancelled", reason="contact_deleted")
    )
    session.execute(delete(Message).where(Message.account_id == account_id, theirs))
    session.execute(
        delete(Enrollment).where(
            Enrollment.account_id == account_id, Enrollment.contact_id == contact_id
        )
    )
    session.execute(delete(Lead).where(Lead.account_id == account_id, Lead.id.in_(lead_ids)))
    session.delete(contact)
    detail = {"contact_id": contact_id, "leads": len(lead_ids), "messages": len(message_ids)}
    session.add(
        AuditLog(account_id=account_id, actor=actor, action="contact_deleted", detail=detail)
    )
    return Deleted(contact_id, len(lead_ids), len(message_ids))
