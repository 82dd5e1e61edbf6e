"""Conversation texts whose words are known before sending: stored, then sent exactly once.

The body is stored with its idempotency key and an outbox row in the caller's transaction, so a
deferred, retried or orphaned text is sent later by the dispatcher with the same words, and an
opt-out cancels it (it waits as 'deferred', which consent.cancel_pending_texts cancels).
Every send goes through send_once and the one gate, may_text (alerts to the contractor too);
never calls a gateway directly.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.compliance import Block, Decision, may_text
from loopstrat.compliance.consent import alert_phone_recipient, recipient_of
from loopstrat.compliance.frequency import capped_sends
from loopstrat.compliance.holds import describe_hold
from loopstrat.journal import note_change
from loopstrat.leads.first_touch import hold_first_touch, stamp_first_touch
from loopstrat.models import Account, Contact, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.phones import is_textable
from loopstrat.runtime import Runtime
from loopstrat.sms.outbound import SETTLED, Composed, OutboundText, Outcome, send_once
from loopstrat.sms.settle import settle_send
from loopstrat.sms.status import status_callback_url
from loopstrat.texts.checks import with_first_message_duties
from loopstrat.texts.kinds import CAPPED_KINDS, Recipient, TextKind, UnknownKind, rule_of

log = logging.getLogger(__name__)


def store_text(
    session: Session,
    *,
    key: str,
    account: Account,
    to: str,
    kind: str,
    body: str,
    drafted_by: str,
    contact_id: int | None,
    lead_id: int | None,
    sent_by_caller: bool = True,
    ai_tokens: tuple[int, int] | None = None,
    outbox_kind: Kind = Kind.CONVERSATION_TEXT,
) -> Message:
    """The one row for `key` (new or as stored before) and its outbox row; the caller commits.

    sent_by_caller: the caller runs send_stored right after its commit, so the dispatcher
    leaves the row alone unless that attempt is lost. False: the dispatcher sends it.
    outbox_kind: CAMPAIGN_TEXT for a planned text, so its retries and its holds for quiet
    hours go on the bulk queue, never in front of a lead's reply.
    """
    msg = session.scalar(select(Message).where(Message.idempotency_key == key))
    if msg is None:
        if rule_of(kind).first_text_duties and is_first_text_to(session, account.id, to):
            body = with_first_message_duties(body, account.name)
        msg = Message(
            idempotency_key=key,
            account_id=account.id,
            contact_id=contact_id,
            lead_id=lead_id,
            direction="out",
            kind=kind,
            to_phone=to,
            from_phone=account.twilio_number,
            body=body,
            drafted_by=drafted_by,
            status="deferred",
            reason="queued",
            scheduled_for=utcnow(),
            ai_input_tokens=ai_tokens[0] if ai_tokens else None,
            ai_output_tokens=ai_tokens[1] if ai_tokens else None,
        )
        session.add(msg)
        session.flush()
        outbox.schedule(
            session,
            account_id=account.id,
            kind=outbox_kind,
            ref_id=str(msg.id),
            run_now=sent_by_caller,
        )
    return msg


def cancel_drafts(session: Session, account_id: int, lead_id: int, *, reason: str) -> None:
    """Close the lead's assist drafts still waiting for a person."""
    session.execute(
        update(Message)
        .where(
            Message.account_id == account_id,
            Message.lead_id == lead_id,
            Message.status == "draft",
        )
        .values(status="cancelled", reason=reason)
    )


def is_first_text_to(session: Session, account_id: int, phone: str) -> bool:
    """No text from the business has reached this person yet (they texted first)."""
    earlier = session.scalar(
        select(Message.id)
        .where(
            Message.account_id == account_id,
            Message.to_phone == phone,
            Message.direction == "out",
            Message.status.in_(SETTLED),
        )
        .limit(1)
    )
    return earlier is None


def send_stored(
    rt: Runtime, message_id: int, outbox_kind: Kind = Kind.CONVERSATION_TEXT
) -> Outcome | None:
    """Gate and send one stored text, then settle its outbox row (of `outbox_kind`, as
    store_text wrote it). Safe to run again."""
    with rt.sessions() as session:
        msg = session.get(Message, message_id)
        if msg is None or msg.direction != "out" or msg.idempotency_key is None:
            log.warning("send_stored message_id=%s missing", message_id)
            outbox.finish(
                session, outbox_kind, str(message_id), state="cancelled", reason="missing"
            )
            session.commit()
            return None
        text = OutboundText(
            key=msg.idempotency_key,
            account_id=msg.account_id,
            contact_id=msg.contact_id,
            lead_id=msg.lead_id,
            kind=msg.kind,
            to=msg.to_phone,
            from_=msg.from_phone,
        )
        composed = Composed(msg.body, msg.drafted_by or "template")
        zones = hold_zones(session, msg)

    def decide(session: Session, now: datetime) -> Decision:
        return decide_text(session, text, now)

    callback = status_callback_url(rt.settings)
    outcome = send_once(rt.sessions, rt.sms, callback, text, decide, lambda: composed)
    _settle_outbox(rt, text.account_id, message_id, outcome, outbox_kind)
    held = ""
    if outcome.result == "deferred" and outcome.until:
        held = describe_hold(outcome.reason, outcome.until, zones, utcnow())
    log.info(
        "conversation_text account_id=%s lead_id=%s message_id=%s kind=%s result=%s reason=%s%s",
        text.account_id,
        text.lead_id,
        message_id,
        text.kind,
        outcome.result,
        outcome.reason,
        f' note="{held}"' if held else "",
    )
    return outcome


def hold_zones(session: Session, msg: Message) -> tuple[str, ...]:
    """The zones a held text waits in: the account's for the contractor's, else the lead's."""
    account = session.get(Account, msg.account_id)
    if account is None:
        return ()
    if _to_alert_phone(msg.kind, msg.contact_id):
        return (account.timezone,)
    contact = session.get(Contact, msg.contact_id)
    lead = session.get(Lead, msg.lead_id) if msg.lead_id else None
    if contact is None:
        return ()
    return recipient_of(contact, account, lead.zip if lead else None).zones


def decide_text(session: Session, text: OutboundText, now: datetime) -> Decision:
    """The gate for each text, by its kind's rule (loopstrat/texts/kinds.py): to the alert
    phone as an alert or a keyword's answer; to the lead as its purpose asks (consent, quiet
    hours, the cap, opt-out). A kind without a rule is not sent."""
    try:
        rule = rule_of(text.kind)
    except UnknownKind:
        log.error("text message kind=%s has no rule: not sent", text.kind)
        return Block("unknown_kind")
    account = session.get_one(Account, text.account_id)
    if _to_alert_phone(text.kind, text.contact_id):
        answering = text.kind == TextKind.ALERT_ANSWER
        recipient = alert_phone_recipient(account, text.to, answering=answering)
    else:
        contact = session.get(Contact, text.contact_id) if text.contact_id else None
        if contact is None:
            return Block("no_contact")
        if not is_textable(contact.phone):
            return Block("not_nanp")  # a short code or a foreign sender: nothing we may text
        lead = session.get(Lead, text.lead_id) if text.lead_id else None
        recipient = recipient_of(contact, account, lead.zip if lead else None)
    if recipient.opted_out and text.kind != TextKind.OPT_OUT_CONFIRM:
        # After STOP only the opt-out confirmation may follow: not HELP, and not a "you're
        # resubscribed" from a START that a later STOP has overtaken.
        return Block("opted_out")
    return may_text(
        recipient=recipient,
        purpose=rule.purpose,
        now=now,
        account_active=account.is_active,
        recent_sends=(
            capped_sends(session, account.id, text.contact_id, CAPPED_KINDS, now, besides=text.key)
            if rule.capped and text.contact_id is not None
            else None
        ),
        frequency_cap=account.frequency_cap_24h,
    )


def _to_alert_phone(kind: str, contact_id: int | None) -> bool:
    """An alert goes to the alert phone; a keyword's answer to whoever sent the keyword, which
    is the alert phone when no contact sent it."""
    try:
        to = rule_of(kind).to
    except UnknownKind:
        return False
    return to == Recipient.ALERT_PHONE or (to == Recipient.KEYWORD_SENDER and contact_id is None)


def _settle_outbox(
    rt: Runtime, account_id: int, message_id: int, outcome: Outcome, outbox_kind: Kind
) -> None:
    with rt.sessions() as session:
        settle_send(session, outbox_kind, str(message_id), outcome)
        if outcome.message_id is not None:
            note_change(session, account_id, "message", outcome.message_id)
            answered_lead = stamp_first_touch(session, outcome.message_id)
            if answered_lead is not None:  # its speed to lead is on its Airtable record
                note_change(session, account_id, "lead", answered_lead)
            if outcome.result == "deferred" and outcome.until is not None:
                hold_first_touch(session, outcome.message_id, outcome.until, outcome.reason or "")
        session.commit()
