"""The contractor's text from the alert phone, acted on: sent to its lead as `loopstrat reply`
sends (takeover.reply_as_person: gated, exactly once, the AI silenced), then one short answer
to the alert phone saying what became of it. Decides no route and no consent: the webhook's
transaction did (alert_phone.py); a re-run only re-sends what was stored.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.conversations.alert_phone import reference_of
from loopstrat.conversations.alerts import alerts_keyword_body, answer_body, unrouted_body
from loopstrat.conversations.inbound import NO_ANSWER_OWED, ROUTE_REPLY, route_of
from loopstrat.conversations.keywords import HELP, OPT_IN, OPT_OUT
from loopstrat.conversations.takeover import TakeoverError, reply_as_person
from loopstrat.conversations.texts import send_stored, store_text
from loopstrat.models import Account, Contact, Lead, Message
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime
from loopstrat.sms.outbound import Outcome
from loopstrat.texts.kinds import TextKind

log = logging.getLogger(__name__)

KEYWORD_ANSWER_KINDS = {
    OPT_OUT: TextKind.OPT_OUT_CONFIRM,
    OPT_IN: TextKind.OPT_IN_CONFIRM,
    HELP: TextKind.HELP,
}


def answer_contractor(rt: Runtime, message_id: int) -> str | None:
    ref = str(message_id)
    with rt.sessions() as session:
        msg = session.get(Message, message_id)
        if msg is None or msg.kind != TextKind.CONTRACTOR_TEXT:
            log.warning("answer_contractor message_id=%s missing", message_id)
            outbox.finish(session, Kind.CONTRACTOR_TEXT, ref, state="cancelled", reason="missing")
            session.commit()
            return None
        row = outbox.find(session, Kind.CONTRACTOR_TEXT, ref)
        decided = row is not None and row.state == "done"
        what, account_id, lead_id, sid = (
            route_of(msg),
            msg.account_id,
            msg.lead_id,
            msg.twilio_sid,
        )
        words = reference_of(msg.body).words
    outcome: Outcome | str | None = None
    # A route of "reply" always names its lead (alert_phone.route), and Twilio its sid.
    if what == ROUTE_REPLY and not decided and lead_id is not None and sid is not None:
        outcome = _send_to_lead(rt, account_id, lead_id, words, sid)
    answer_id = (
        _stored_answer(rt, message_id) if decided else _store_answer(rt, message_id, outcome)
    )
    if answer_id is not None:
        send_stored(rt, answer_id)
    log.info(
        "answer_contractor account_id=%s lead_id=%s message_id=%s what=%s",
        account_id,
        lead_id,
        message_id,
        what,
    )
    return what


def _send_to_lead(
    rt: Runtime, account_id: int, lead_id: int, words: str, sid: str
) -> Outcome | str | None:
    """Keyed by the MessageSid: a re-run of this job never texts the lead twice."""
    try:
        return reply_as_person(
            rt, account_id=account_id, lead_id=lead_id, body=words, request_key=f"sms-{sid}"
        )
    except TakeoverError as exc:
        return str(exc)


def _store_answer(rt: Runtime, message_id: int, outcome: Outcome | str | None) -> int | None:
    """The answer's row (if one is owed) and the job's outbox row finished, in one commit."""
    with rt.sessions() as session:
        msg = session.get_one(Message, message_id)
        account = session.get_one(Account, msg.account_id)
        answer = _answer(session, account, msg, outcome)
        answer_id = None
        if answer is not None and account.alert_phone:
            kind, body = answer
            answer_id = store_text(
                session,
                key=f"in-{msg.id}-answer",
                account=account,
                to=account.alert_phone,
                kind=kind,
                body=body,
                drafted_by="template",
                contact_id=None,  # to the alert phone: gated as an alert (compliance.ALERT)
                lead_id=msg.lead_id,
            ).id
        outbox.finish(session, Kind.CONTRACTOR_TEXT, str(message_id))
        session.commit()
    return answer_id


def _answer(
    session: Session, account: Account, msg: Message, outcome: Outcome | str | None
) -> tuple[str, str] | None:
    """(kind, body) of what the contractor is told, or None when nothing is ours to say."""
    keyword = route_of(msg)
    if keyword in KEYWORD_ANSWER_KINDS:
        if msg.reason == NO_ANSWER_OWED:
            return None  # Twilio's Advanced Opt-Out answered, or nothing changed
        return KEYWORD_ANSWER_KINDS[keyword], alerts_keyword_body(account, keyword)
    if keyword != ROUTE_REPLY:
        return TextKind.ALERT_ANSWER, unrouted_body(keyword, reference_of(msg.body).given)
    if isinstance(outcome, str):
        return TextKind.ALERT_ANSWER, f"Not sent: {outcome}."
    lead = session.get(Lead, msg.lead_id)
    contact = session.get(Contact, lead.contact_id) if lead else None
    if lead is None or contact is None:
        return TextKind.ALERT_ANSWER, "Not sent: that lead is gone."
    return TextKind.ALERT_ANSWER, answer_body(account, contact, lead, outcome)


def _stored_answer(rt: Runtime, message_id: int) -> int | None:
    with rt.sessions() as session:
        return session.scalar(
            select(Message.id).where(Message.idempotency_key == f"in-{message_id}-answer")
        )
