"""Lead intake: validate a posted form and store contact, consent evidence, lead and outbox row.

Validation is pure (LeadForm.parse); storing is one transaction. Never texts, never enqueues.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.models import Account, ConsentEvent, Contact, Lead
from loopstrat.phones import InvalidPhone, normalise, normalise_zip

REPOST_WINDOW = timedelta(minutes=10)
HONEYPOT_FIELD = "hp_website"
TRUTHY = frozenset({"on", "yes", "true", "1", "y", "checked", "agree", "agreed"})
LIMITS = {"name": 120, "email": 200, "message": 2000, "service": 120, "source": 60, "page": 500}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ZIP_INPUT_RE = re.compile(r"^\d{5}(?:-?\d{4})?$")
OUTBOX_KIND = "respond_to_lead"


class FormErrors(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class LeadForm:
    phone: str
    name: str | None
    email: str | None
    message: str
    service: str | None
    zip: str | None
    consent: bool
    source: str
    page_url: str | None

    @classmethod
    def parse(cls, fields: Mapping[str, object]) -> LeadForm:
        """Raise FormErrors naming every bad field at once."""
        text = {k: _text(fields.get(k)) for k in ("phone", "name", "email", "message", "service")}
        text["zip"] = _text(fields.get("zip"))
        text["source"] = _text(fields.get("source"))
        text["page"] = _text(fields.get("page_url") or fields.get("page"))
        errors: dict[str, str] = {}
        phone = ""
        if not text["phone"]:
            errors["phone"] = "is required"
        else:
            try:
                phone = normalise(text["phone"])
            except InvalidPhone as exc:
                errors["phone"] = str(exc)
        for field, limit in LIMITS.items():
            if len(text[field]) > limit:
                errors[field] = f"must be at most {limit} characters"
        if text["email"] and "email" not in errors and not EMAIL_RE.match(text["email"]):
            errors["email"] = "is not an email address"
        if text["zip"] and not ZIP_INPUT_RE.match(text["zip"]):
            errors["zip"] = "must be a 5-digit US ZIP code"
        if errors:
            raise FormErrors(errors)
        return cls(
            phone=phone,
            name=text["name"] or None,
            email=text["email"] or None,
            message=text["message"],
            service=text["service"] or None,
            zip=normalise_zip(text["zip"]),
            consent=_truthy(fields.get("consent")),
            source=text["source"] or "web_form",
            page_url=text["page"] or None,
        )


def is_bot(fields: Mapping[str, object]) -> bool:
    """A hidden field people never see and bots fill in."""
    return bool(_text(fields.get(HONEYPOT_FIELD)))


def _text(value: object) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value).strip()


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return _text(value).lower() in TRUTHY


@dataclass(frozen=True)
class Evidence:
    ip: str | None
    user_agent: str | None


def record_lead(
    session: Session, account: Account, form: LeadForm, evidence: Evidence, now: datetime
) -> tuple[Lead, bool]:
    """Store the lead (or fold a re-post into the open one); return it and whether it is new.

    The caller commits, then enqueues: the worker must never run before the row exists.
    """
    contact = _contact_for(session, account, form, now)
    if form.consent:
        _record_consent(session, account, contact, form, evidence, now)
    lead = session.scalar(
        select(Lead)
        .where(
            Lead.account_id == account.id,
            Lead.contact_id == contact.id,
            Lead.received_at > now - REPOST_WINDOW,
        )
        .order_by(Lead.received_at.desc())
        .limit(1)
    )
    created = lead is None
    if lead is None:
        lead = Lead(account_id=account.id, contact_id=contact.id, received_at=now)
        session.add(lead)
    _fill_lead(lead, form)
    session.flush()
    if created or lead.response_state in ("pending", "suppressed"):
        outbox.schedule(
            session,
            account_id=account.id,
            kind=OUTBOX_KIND,
            ref_id=str(lead.id),
            enqueue_after_commit=True,
        )
    return lead, created


def _contact_for(session: Session, account: Account, form: LeadForm, now: datetime) -> Contact:
    query = select(Contact).where(Contact.account_id == account.id, Contact.phone == form.phone)
    contact = session.scalar(query)
    if contact is None:
        # Two posts for one new phone at once: one insert fails on the unique key at commit
        # and the caller runs record_lead again, which then finds this row.
        contact = Contact(account_id=account.id, phone=form.phone, created_at=now)
        session.add(contact)
        session.flush()
    contact.name = form.name or contact.name
    contact.email = form.email or contact.email
    contact.zip = form.zip or contact.zip
    return contact


def _record_consent(
    session: Session,
    account: Account,
    contact: Contact,
    form: LeadForm,
    evidence: Evidence,
    now: datetime,
) -> None:
    contact.consent_at = contact.consent_at or now
    session.add(
        ConsentEvent(
            account_id=account.id,
            contact_id=contact.id,
            kind="inquiry",
            source=form.source if form.source in ("api", "csv") else "web_form",
            text_shown=account.consent_text,
            ip=evidence.ip,
            user_agent=(evidence.user_agent or "")[:400] or None,
            page_url=form.page_url,
            created_at=now,
        )
    )


def _fill_lead(lead: Lead, form: LeadForm) -> None:
    if form.message and form.message not in (lead.inquiry or ""):
        lead.inquiry = f"{lead.inquiry}\n{form.message}".strip() if lead.inquiry else form.message
    lead.service = form.service or lead.service
    lead.zip = form.zip or lead.zip
    lead.source = form.source
    lead.page_url = form.page_url or lead.page_url
