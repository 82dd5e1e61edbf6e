"""Alerts to the contractor: a lead's reply forwarded, a hand-off, a hand-off still waiting; and
the short answers to what the contractor texts from the alert phone.

Every alert about a lead ends with its reference, so the contractor can answer from their phone.
Composing here is pure; storing goes through texts.store_text so each alert is sent exactly
once, gated as compliance.ALERT (the contractor's consent, STOP, do-not-disturb).
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from loopstrat.clock import utcnow
from loopstrat.conversations.keywords import OPT_IN, OPT_OUT
from loopstrat.conversations.texts import store_text
from loopstrat.models import Account, Contact, CrmSyncState, Lead, Message
from loopstrat.runtime import Runtime
from loopstrat.sms.outbound import Outcome
from loopstrat.texts.kinds import TextKind

log = logging.getLogger(__name__)

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
# Why a contractor's text did not reach the lead, in their words ({who}: the lead's name).
NOT_SENT_WORDS = {
    "opted_out": "{who} opted out",
    "no_consent": "{who} has not agreed to texts",
    "not_nanp": "{who}'s number cannot get our texts",
    "account_inactive": "the account has no active plan",
}
UNROUTED_WORDS = {
    "no_alert": "no alert to answer yet",
    "no_lead": "no lead #{given}",
    "no_words": "nothing to send",
}
SENTENCE_ENDS = (".", "!", "?", "\u2026")


def first_name(contact: Contact) -> str:
    return (contact.name or "").split(" ")[0] or contact.phone


def lead_label(account: Account, contact: Contact, lead: Lead) -> str:
    """'Jane (plumbing, 84101)': who, and what job, in a few words."""
    what = [lead.service or account.trade, lead.zip or contact.zip or ""]
    details = ", ".join(part for part in what if part)
    return f"{first_name(contact)} ({details})" if details else first_name(contact)


def reference(contact: Contact, lead: Lead) -> str:
    """How to answer from the alert phone (conversations.alert_phone reads it back)."""
    return f"Reply to answer {first_name(contact)}, or text #{lead.id} then your message."


def forward_body(account: Account, contact: Contact, lead: Lead, text: str) -> str:
    return f"New reply from {lead_label(account, contact, lead)}: {_clip(text)}"


def hand_off_body(
    account: Account, contact: Contact, lead: Lead, reason: str, last_text: str | None
) -> str:
    """The summary a person needs to pick the conversation up, one sentence per field."""
    parts = [f"{lead_label(account, contact, lead)} needs you: {REASON_WORDS.get(reason, reason)}."]
    if lead.inquiry:
        parts.append(f"Job: {_sentence(_clip(lead.inquiry, 120))}")
    if last_text:
        # Straight quotes: curly ones are not GSM-7 and would triple the alert's segments.
        parts.append(f'Last text: "{_clip(last_text, 160)}".')
    parts.append(f"Phone {contact.phone}.")
    return " ".join(parts)


def still_waiting_body(account: Account, contact: Contact, lead: Lead, minutes: int) -> str:
    return (
        f"Still waiting: {lead_label(account, contact, lead)} has had no answer for "
        f"{minutes} min. Phone {contact.phone}."
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
    if lead is not None:
        contact = session.get_one(Contact, lead.contact_id)
        body = f"{body}\n{reference(contact, lead)}"
    return store_text(
        session,
        key=key,
        account=account,
        to=account.alert_phone,
        kind=TextKind.ALERT,
        body=body,
        drafted_by="template",
        # Not the lead's text: no contact, so the lead's opt-out does not cancel it.
        contact_id=None,
        lead_id=lead.id if lead else None,
        sent_by_caller=sent_by_caller,
    )


def answer_body(account: Account, contact: Contact, lead: Lead, outcome: Outcome | None) -> str:
    """What became of the contractor's text to the lead: sent, held until when, or why not."""
    who = f"{first_name(contact)} (#{lead.id})"
    result = outcome.result if outcome else "missing"
    if result in ("sent", "already"):
        return f"Sent to {who}."
    if result == "deferred" and outcome and outcome.until:
        local = outcome.until.astimezone(ZoneInfo(account.timezone))
        when = f"{local.hour}:{local.minute:02d} {local:%a}"
        return f"Held for {who}'s quiet hours: goes at {when} (your time)."
    if result in ("in_flight", "retry"):
        return f"Sending to {who}; it will go once."
    reason = (outcome.reason if outcome else None) or "unknown"
    words = NOT_SENT_WORDS.get(reason, "the carrier refused it" if result == "rejected" else reason)
    return f"Not sent: {words.format(who=who)}."


def unrouted_body(problem: str, given: str | None) -> str:
    """A text from the alert phone that names no lead we can answer (alert_phone.NO_LEAD, ...):
    how to name one."""
    how = "Reply to an alert, or text #12 then your message for lead 12."
    return f"Not sent: {UNROUTED_WORDS[problem].format(given=given)}. {how}"


def alerts_keyword_body(account: Account, keyword: str) -> str:
    """The one answer to STOP, START or HELP from the alert phone (keywords.OPT_OUT, ...)."""
    if keyword == OPT_OUT:
        return (
            f"{account.name}: alerts are off, and this text went to no lead. "
            "Reply START to turn alerts back on."
        )
    if keyword == OPT_IN:
        return f"{account.name}: alerts are on. Reply to an alert to answer its lead."
    return (
        f"{account.name} alerts: reply to an alert to text its lead, or text #12 then your "
        "message for lead 12. Reply STOP to end alerts."
    )


def _sentence(text: str) -> str:
    return text if text.endswith(SENTENCE_ENDS) else text + "."


def _clip(text: str, limit: int = ALERT_BODY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def crm_alert_key(account_id: int, failing_since: datetime) -> str:
    """One key per failing streak: a re-run job never texts the contractor twice about it."""
    return f"crm-failing-{account_id}-{int(failing_since.timestamp())}"


def alert_crm_failing(rt: Runtime, account_id: int, failing_since: datetime, error: str) -> None:
    """Store the alert as a conversation text: the dispatcher sends it (on the texts queue, not
    from the crm job) through the account's do-not-disturb window, with the retries and
    reconciling every text gets."""
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        state = session.get(CrmSyncState, account_id)
        if account is None or state is None or state.failure_alerted_at is not None:
            return
        state.failure_alerted_at = utcnow()
        # The contractor's own phone: name the problem, never the token.
        body = (
            "Loopstrat: your Airtable sync has failed for over an hour "
            f"({error[:80]}). Texts to leads are not affected; records wait until it is fixed."
        )
        key = crm_alert_key(account_id, failing_since)
        alert = store_alert(
            session, key=key, account=account, lead=None, body=body, sent_by_caller=False
        )
        session.commit()
        if alert is None:
            log.info("crm alert skipped account_id=%s reason=no_alert_phone", account_id)
            return
    log.warning("crm sync failing alert stored account_id=%s", account_id)
