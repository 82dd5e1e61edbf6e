"""Alerts to the contractor: a lead's reply forwarded, a hand-off, a hand-off still waiting.

Alerts go to the account's alert phone, who asked for them: not gated by the lead's consent or
quiet hours, only by the account's own do-not-disturb window (texts.decide_text). Composing
here is pure; storing goes through texts.store_text so each alert is sent exactly once.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from loopstrat.conversations.texts import store_text
from loopstrat.models import Account, Contact, Lead, Message

ALERT_BODY_CHARS = 300
REASON_WORDS = {
    "asked_for_person": "asked for a person",
    "angry": "sounds upset",
    "asked_about_price": "asked about price",
    "model_cannot_help": "the AI could not help",
    "turn_limit": "the AI has had its turns",
    "draft_failed": "the AI could not draft a reply",
    "ai_off": "AI replies are off",
    "assist": "a draft reply is waiting for you",
}


def lead_label(account: Account, contact: Contact, lead: Lead) -> str:
    """'Jane (plumbing, 84101)': who, and what job, in a few words."""
    who = (contact.name or "").split(" ")[0] or contact.phone
    what = [lead.service or account.trade, lead.zip or contact.zip or ""]
    details = ", ".join(part for part in what if part)
    return f"{who} ({details})" if details else who


def forward_body(account: Account, contact: Contact, lead: Lead, text: str) -> str:
    return f"New reply from {lead_label(account, contact, lead)}: {_clip(text)}"


def hand_off_body(
    account: Account, contact: Contact, lead: Lead, reason: str, last_text: str | None
) -> str:
    """The summary a person needs to pick the conversation up."""
    parts = [f"{lead_label(account, contact, lead)} needs you: {REASON_WORDS.get(reason, reason)}."]
    if lead.inquiry:
        parts.append(f"Job: {_clip(lead.inquiry, 120)}")
    if last_text:
        parts.append(f"Last text: {_clip(last_text, 160)}")
    parts.append(f"Reply in Loopstrat, lead {lead.id}. Phone {contact.phone}.")
    return " ".join(parts)


def still_waiting_body(account: Account, contact: Contact, lead: Lead, minutes: int) -> str:
    return (
        f"Still waiting: {lead_label(account, contact, lead)} has had no answer for "
        f"{minutes} min. Reply in Loopstrat, lead {lead.id}. Phone {contact.phone}."
    )


def store_alert(
    session: Session,
    *,
    key: str,
    account: Account,
    lead: Lead | None,
    body: str,
    sent_by_caller: bool = True,
) -> Message | None:
    """The alert's row and outbox row, or None when the account has nowhere to send alerts.
    sent_by_caller: as for store_text."""
    if not account.alert_phone:
        return None
    return store_text(
        session,
        key=key,
        account=account,
        to=account.alert_phone,
        kind="alert",
        body=body,
        drafted_by="template",
        # Not the lead's text: no contact, so the lead's opt-out does not cancel it.
        contact_id=None,
        lead_id=lead.id if lead else None,
        sent_by_caller=sent_by_caller,
    )


def _clip(text: str, limit: int = ALERT_BODY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
