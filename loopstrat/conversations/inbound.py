"""An inbound text, stored once: routed to its account, its contact and lead, and its keyword;
or, from the account's alert phone, to the contractor's side (alert_phone.py), never a lead.

Runs inside the webhook's transaction, so an opt-out takes effect the moment Twilio delivers
it (FCC: honour revocation at once) and everything pending for the contact is cancelled with
it. Never texts and never enqueues: the caller commits; the dispatcher runs the outbox row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.compliance.consent import pending_texts_to, record_opt_in, record_opt_out
from loopstrat.conversations.alert_phone import from_alert_phone, record_alerts_keyword, route
from loopstrat.conversations.keywords import HELP, OPT_IN, OPT_OUT, keyword_of
from loopstrat.journal import note_change
from loopstrat.models import Account, ConsentEvent, Contact, Enrollment, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.phones import InvalidPhone, normalise
from loopstrat.texts.kinds import TextKind

# The contractor's text from the alert phone has its own job (contractor_reply.py).
# Work that dies with an opt-out. The held first reply's row cancels itself: its text is.
CONVERSATION_KINDS = (Kind.AI_TURN, Kind.HANDOFF_CHECK)
# Twilio Advanced Opt-Out names the keyword it answered in the OptOutType parameter.
OPT_OUT_TYPES = {"STOP": OPT_OUT, "START": OPT_IN, "HELP": HELP}
ROUTE_REPLY = "reply"  # a message's route: words for the conversation, not a keyword
NO_ANSWER_OWED = "answered"  # a keyword's reason: Twilio answered it, or nothing changed


def route_of(msg: Message) -> str:
    """What an inbound text asks for. A text stored by the release before migration 0003 (in
    a deploy's overlap) still carries it in reason, as 'opt_out' or 'opt_out:answered'."""
    if msg.route:
        return msg.route
    legacy = (msg.reason or "").partition(":")[0]
    return legacy if legacy and legacy != NO_ANSWER_OWED else ROUTE_REPLY


@dataclass(frozen=True)
class InboundText:
    sid: str
    to: str
    from_: str
    body: str
    opt_out_type: str | None = None


@dataclass(frozen=True)
class Stored:
    account_id: int | None = None
    message_id: int | None = None
    duplicate: bool = False


def account_for_number(session: Session, number: str) -> Account | None:
    try:
        e164 = normalise(number)
    except InvalidPhone:
        return None
    return session.scalar(select(Account).where(Account.twilio_number == e164))


def record_inbound(session: Session, inbound: InboundText, now: datetime) -> Stored:
    """Store the text once per MessageSid; the caller commits, the dispatcher runs the job."""
    account = account_for_number(session, inbound.to)
    if account is None:
        return Stored()
    if session.scalar(select(Message.id).where(Message.twilio_sid == inbound.sid)):
        return Stored(account.id, None, duplicate=True)
    if account.alert_phone and from_alert_phone(account, inbound.from_):
        msg = _contractor_text(session, account, account.alert_phone, inbound, now)
        job = Kind.CONTRACTOR_TEXT
    else:
        msg, job = _lead_text(session, account, inbound, now), Kind.CONVERSATION_INBOUND
    session.add(msg)
    session.flush()
    for entity, entity_id in (
        ("contact", msg.contact_id),
        ("lead", msg.lead_id),
        ("message", msg.id),
    ):
        if entity_id is not None:
            note_change(session, account.id, entity, entity_id)
    outbox.schedule(session, account_id=account.id, kind=job, ref_id=str(msg.id))
    return Stored(account.id, msg.id)


def _lead_text(session: Session, account: Account, inbound: InboundText, now: datetime) -> Message:
    contact = _contact_for(session, account, inbound.from_, now)
    keyword = _keyword_of(inbound, opted_out=contact.opted_out_at is not None)
    lead = _latest_lead(session, account, contact)
    if lead is None and keyword is None:
        lead = _new_lead(session, account, contact, inbound.body, now)
    msg = _inbound_message(account, inbound, now, from_=contact.phone, kind=TextKind.LEAD_TEXT)
    msg.contact_id, msg.lead_id, msg.drafted_by = contact.id, lead.id if lead else None, "lead"
    if keyword is None and lead is not None:
        _apply_reply(session, contact, lead, inbound, now)
        msg.route = ROUTE_REPLY
    elif keyword is not None:
        msg.route = keyword
        if _apply_keyword(session, account, contact, keyword, inbound, now):
            msg.reason = NO_ANSWER_OWED
    return msg


def _contractor_text(
    session: Session, account: Account, alert_phone: str, inbound: InboundText, now: datetime
) -> Message:
    """The contractor's own words from the alert phone: never a lead, a contact, or a lead's
    reply (no alert, no AI turn); the job sends them on to the lead the route names."""
    was_out = account.alerts_opted_out_at is not None
    keyword = _keyword_of(inbound, opted_out=was_out)
    msg = _inbound_message(account, inbound, now, from_=alert_phone, kind=TextKind.CONTRACTOR_TEXT)
    msg.drafted_by = "person"
    if keyword is None:
        to = route(session, account, inbound.body)
        msg.lead_id, msg.route = to.lead_id, to.problem or ROUTE_REPLY
    else:
        evidence = f"sms {inbound.sid}: {inbound.body}"
        record_alerts_keyword(session, account, keyword, evidence, now)
        msg.route = keyword
        if _answered(account, keyword, inbound, was_out):
            msg.reason = NO_ANSWER_OWED
    return msg


def _inbound_message(
    account: Account, inbound: InboundText, now: datetime, *, from_: str, kind: str
) -> Message:
    return Message(
        account_id=account.id,
        direction="in",
        kind=kind,
        twilio_sid=inbound.sid,
        to_phone=account.twilio_number,
        from_phone=from_,
        body=inbound.body,
        status="received",
        created_at=now,
    )


def _keyword_of(inbound: InboundText, *, opted_out: bool) -> str | None:
    return OPT_OUT_TYPES.get((inbound.opt_out_type or "").upper()) or keyword_of(
        inbound.body, opted_out=opted_out
    )


def _answered(account: Account, keyword: str, inbound: InboundText, was_out: bool) -> bool:
    """Nothing is ours to send back: Twilio's Advanced Opt-Out answered the keyword itself,
    or a STOP came from someone already opted out."""
    twilio_answered = bool(inbound.opt_out_type) and account.advanced_opt_out
    return twilio_answered or (keyword == OPT_OUT and was_out)


def _apply_keyword(
    session: Session,
    account: Account,
    contact: Contact,
    keyword: str,
    inbound: InboundText,
    now: datetime,
) -> bool:
    """Make the consent change now; True when no answer is owed (see _answered)."""
    was_out = contact.opted_out_at is not None
    evidence = f"sms {inbound.sid}: {inbound.body}"
    if keyword == OPT_OUT:
        _cancel_pending_work(session, contact)
        record_opt_out(session, contact, source="sms", evidence=evidence, now=now)
    elif keyword == OPT_IN and was_out:
        record_opt_in(session, contact, source="sms", evidence=evidence, now=now)
    return _answered(account, keyword, inbound, was_out)


def _apply_reply(
    session: Session, contact: Contact, lead: Lead, inbound: InboundText, now: datetime
) -> None:
    lead.last_inbound_at = now
    # The conversation answers them now; a first reply held for the morning stands down at once.
    outbox.hurry(session, Kind.RESPOND_TO_LEAD, str(lead.id))
    if lead.status in ("new", "responded"):
        lead.status = "replied"
    if contact.consent_at is None and contact.opted_out_at is None:
        _consent_by_texting_first(session, contact, f"sms {inbound.sid}: {inbound.body}", now)


def _cancel_pending_work(session: Session, contact: Contact) -> None:
    """Close the outbox rows of everything the opt-out stops, each with its reason."""
    pending = session.scalars(select(Message.id).where(*pending_texts_to(contact))).all()
    for message_id in pending:
        outbox.finish(
            session, Kind.CONVERSATION_TEXT, str(message_id), state="cancelled", reason="opted_out"
        )
    lead_ids = session.scalars(
        select(Lead.id).where(Lead.account_id == contact.account_id, Lead.contact_id == contact.id)
    ).all()
    for lead_id in lead_ids:
        for kind in CONVERSATION_KINDS:
            outbox.finish(session, kind, str(lead_id), state="cancelled", reason="opted_out")


def _consent_by_texting_first(
    session: Session, contact: Contact, evidence: str, now: datetime
) -> None:
    """Someone who texts the business first has asked for an answer to that text."""
    contact.consent_at = now
    session.add(
        ConsentEvent(
            account_id=contact.account_id,
            contact_id=contact.id,
            kind="inquiry",
            source="sms",
            text_shown=evidence[:500],
            created_at=now,
        )
    )


def _contact_for(session: Session, account: Account, raw_from: str, now: datetime) -> Contact:
    try:
        phone = normalise(raw_from)
    except InvalidPhone:
        phone = raw_from[:20]  # a short code or a foreign sender: store as Twilio gave it
    contact = session.scalar(
        select(Contact).where(Contact.account_id == account.id, Contact.phone == phone)
    )
    if contact is None:
        # Two first texts at once from one new number: one insert fails at commit and the
        # webhook runs this again, which then finds the row.
        contact = Contact(account_id=account.id, phone=phone, created_at=now)
        session.add(contact)
        session.flush()
    return contact


def _latest_lead(session: Session, account: Account, contact: Contact) -> Lead | None:
    return session.scalar(
        select(Lead)
        .where(Lead.account_id == account.id, Lead.contact_id == contact.id)
        .order_by(Lead.received_at.desc(), Lead.id.desc())
        .limit(1)
    )


def _new_lead(
    session: Session, account: Account, contact: Contact, body: str, now: datetime
) -> Lead:
    """Someone texted the number without a form: they are a lead too, with no first reply due.
    Answering a campaign's text (an old customer invited back), the lead is the campaign's."""
    lead = Lead(
        account_id=account.id,
        contact_id=contact.id,
        inquiry=body[:2000],
        source=_answered_campaign(session, account, contact) or "sms",
        received_at=now,
        response_state="lead_texted_first",
    )
    session.add(lead)
    session.flush()
    return lead


def _answered_campaign(session: Session, account: Account, contact: Contact) -> str | None:
    """'campaign:<id>' of the latest campaign text this contact was sent, if any."""
    campaign_id = session.scalar(
        select(Enrollment.campaign_id)
        .where(
            Enrollment.account_id == account.id,
            Enrollment.contact_id == contact.id,
            Enrollment.state == "handed",
        )
        .order_by(Enrollment.handed_at.desc())
        .limit(1)
    )
    return f"campaign:{campaign_id}" if campaign_id is not None else None
