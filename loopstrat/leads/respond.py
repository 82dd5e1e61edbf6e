"""The first reply to a lead: gates, draft, exactly-once send, and the lead's record of it."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.compliance import REPLY, Block, Decision, may_text
from loopstrat.compliance.consent import recipient_of
from loopstrat.compliance.holds import describe_hold
from loopstrat.drafting.drafter import draft_first_reply
from loopstrat.drafting.profile import BusinessProfile, Inquiry
from loopstrat.journal import note_change
from loopstrat.leads.first_touch import stamp_first_touch
from loopstrat.models import Account, Contact, Lead
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime
from loopstrat.sms.outbound import Composed, OutboundText, Outcome, send_once
from loopstrat.sms.settle import settle_send
from loopstrat.sms.status import status_callback_url
from loopstrat.texts.kinds import TextKind

log = logging.getLogger(__name__)
CONVERSATION_STARTED = "conversation_started"


def first_reply_key(lead_id: int) -> str:
    return f"lead-{lead_id}-first-reply"


def respond_to_lead(rt: Runtime, lead_id: int) -> Outcome | None:
    with rt.sessions() as session:
        lead = session.get(Lead, lead_id)
        if lead is None:
            log.warning("respond_to_lead lead_id=%s missing", lead_id)
            outbox.finish(
                session, Kind.RESPOND_TO_LEAD, str(lead_id), state="cancelled", reason="missing"
            )
            session.commit()
            return None
        account = session.get_one(Account, lead.account_id)
        contact = session.get_one(Contact, lead.contact_id)
        profile = BusinessProfile.of(account)
        inquiry = _inquiry_of(lead, contact)
        zones = recipient_of(contact, account, lead.zip).zones
        text = OutboundText(
            key=first_reply_key(lead.id),
            account_id=account.id,
            contact_id=contact.id,
            lead_id=lead.id,
            kind=TextKind.FIRST_REPLY,
            to=contact.phone,
            from_=account.twilio_number,
        )

    def decide(session: Session, now: datetime) -> Decision:
        return first_reply_decision(session, lead_id, now)

    def compose() -> Composed:
        draft = draft_first_reply(rt.drafter, profile, inquiry)
        return Composed(draft.body, draft.drafted_by, draft.ai_tokens)

    callback = status_callback_url(rt.settings)
    outcome = send_once(rt.sessions, rt.sms, callback, text, decide, compose)
    record_outcome(rt, lead_id, outcome)
    held = ""
    if outcome.result == "deferred" and outcome.until:
        held = describe_hold(outcome.reason, outcome.until, zones, utcnow())
    log.info(
        "respond_to_lead account_id=%s lead_id=%s result=%s reason=%s%s",
        text.account_id,
        lead_id,
        outcome.result,
        outcome.reason,
        f' note="{held}"' if held else "",
    )
    return outcome


def first_reply_decision(session: Session, lead_id: int, now: datetime) -> Decision:
    """May the first reply go now? Asked before drafting and again right before the send."""
    lead = session.get_one(Lead, lead_id)
    account = session.get_one(Account, lead.account_id)
    contact = session.get_one(Contact, lead.contact_id)
    if lead.owner == "human" or lead.last_inbound_at is not None:
        # The lead texted, or a person answered, while this reply was held for the morning:
        # the conversation answers them now, and a canned first text would be a second text
        # for the same reason.
        return Block(CONVERSATION_STARTED)
    recipient = recipient_of(contact, account, lead.zip)
    return may_text(
        # A first reply answers this inquiry: its own consent, not one given with an earlier.
        recipient=replace(recipient, consent=lead.consent_at is not None),
        purpose=REPLY,
        now=now,
        account_active=account.is_active,
    )


def _inquiry_of(lead: Lead, contact: Contact) -> Inquiry:
    first = (contact.name or "").split(" ")[0][:20] or None
    service = (lead.service or "")[:40] or None
    return Inquiry(first_name=first, service=service, message=lead.inquiry, zip=lead.zip)


def record_outcome(rt: Runtime, lead_id: int, outcome: Outcome) -> None:
    """Settle the outbox row and write what the send did onto the lead."""
    with rt.sessions() as session:
        lead = session.get(Lead, lead_id)
        if lead is None:
            return  # deleted meanwhile (loopstrat contact delete): nothing left to record
        goes_on = settle_send(session, Kind.RESPOND_TO_LEAD, str(lead_id), outcome)
        _record_on_lead(session, lead, outcome, goes_on)
        note_change(session, lead.account_id, "lead", lead.id)
        if outcome.message_id is not None:
            note_change(session, lead.account_id, "message", outcome.message_id)
        session.commit()


def _record_on_lead(session: Session, lead: Lead, outcome: Outcome, goes_on: bool) -> None:
    if outcome.result in ("sent", "already"):
        lead.response_state = "responded"
        if outcome.message_id is not None:
            stamp_first_touch(session, outcome.message_id)
        if lead.status == "new":
            lead.status = "responded"
    elif outcome.result == "blocked" and outcome.reason == CONVERSATION_STARTED:
        pass  # the conversation answers them: its texts write the lead's first answer
    elif outcome.result == "blocked":
        lead.response_state = "suppressed"
    elif outcome.result == "deferred":
        lead.response_state = "held"
        lead.held_until, lead.hold_reason = outcome.until, outcome.reason
    elif outcome.result == "rejected" or not goes_on:
        lead.response_state = "failed"
