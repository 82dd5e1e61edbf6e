"""After a send: what its outbox row becomes, and a carrier's opt-out honoured at once.

One state machine for every kind of text (first replies, conversation texts, alerts); the
caller adds what its own record needs and commits. Never sends and never decides a gate.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.compliance.consent import record_alerts_opt_out, record_opt_out
from loopstrat.models import Account, Contact, Message
from loopstrat.sms.gateway import ERROR_UNSUBSCRIBED
from loopstrat.sms.outbound import Outcome

CARRIER_EVIDENCE = "Twilio 21610"


def settle_send(session: Session, kind: str, ref: str, outcome: Outcome) -> bool:
    """Move the row as the outcome says; False once the text will never go (given up)."""
    goes_on = True
    if outcome.result == "deferred":
        if outcome.until is None:  # a hold must say until when: never close the row on it
            raise ValueError(f"deferred outcome without a time kind={kind} ref={ref}")
        outbox.postpone(session, kind, ref, outcome.until)
    elif outcome.result == "retry":
        reason, settling = outcome.reason or "", outcome.unsettled
        goes_on = outbox.retry_later(session, kind, ref, reason, settling=settling)
    elif outcome.result == "rejected":
        outbox.finish(session, kind, ref, state="failed", reason=outcome.reason or "")
    elif outcome.result != "in_flight":  # another attempt holds the row: it settles it
        outbox.finish(session, kind, ref, reason=outcome.reason or "")
    if outcome.error_code == ERROR_UNSUBSCRIBED and outcome.message_id is not None:
        honour_carrier_opt_out(session, outcome.message_id)
    return goes_on


def honour_carrier_opt_out(session: Session, message_id: int) -> None:
    """Twilio 21610: the recipient is opted out at the carrier; so are they with us (a lead),
    or from alerts (the account's alert phone)."""
    msg = session.get(Message, message_id)
    if msg is None:
        return
    if msg.contact_id is None:
        account = session.get(Account, msg.account_id)
        if account and account.alert_phone == msg.to_phone and not account.alerts_opted_out_at:
            record_alerts_opt_out(
                session, account, source="carrier", evidence=CARRIER_EVIDENCE, now=utcnow()
            )
        return
    contact = session.get(Contact, msg.contact_id)
    if contact is not None and contact.opted_out_at is None:
        record_opt_out(session, contact, source="carrier", evidence=CARRIER_EVIDENCE, now=utcnow())
