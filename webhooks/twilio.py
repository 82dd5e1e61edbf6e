"""Twilio's webhooks: message status callbacks and inbound texts.

Verify the signature before anything else; answer 200 to replays so Twilio stops retrying.
Inbound texts are stored (once per MessageSid) and committed; the dispatcher runs their job.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy.exc import IntegrityError

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.conversations.inbound import InboundText, Stored, record_inbound
from loopstrat.db import violated_constraint
from loopstrat.sms.status import apply_status
from webhooks.twilio_signature import signature_ok

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@bp.post("/status")
def status_callback() -> Response | tuple[str, int]:
    rt = runtime.current()
    if not signature_ok(rt.settings):
        return "invalid signature", 403
    sid = request.form.get("MessageSid", "")
    status = request.form.get("MessageStatus", "").lower()
    raw_code = request.form.get("ErrorCode", "")
    error_code = int(raw_code) if raw_code.isdigit() else None
    if not sid or not status:
        return "MessageSid and MessageStatus are required", 400
    with rt.sessions() as session:
        msg = apply_status(session, sid=sid, status=status, error_code=error_code, now=utcnow())
        session.commit()
        if msg is None:
            log.info("status callback for unknown sid or status status=%s", status)
    return Response("", status=204)


@bp.post("/inbound")
def inbound() -> Response | tuple[str, int]:
    """Twilio's incoming-message webhook: the answer is empty TwiML; the rest happens in jobs."""
    rt = runtime.current()
    if not signature_ok(rt.settings):
        return "invalid signature", 403
    form = request.form
    sid = form.get("MessageSid", "") or form.get("SmsSid", "")
    if not sid or not form.get("To") or not form.get("From"):
        return "MessageSid, To and From are required", 400
    text = InboundText(
        sid=sid,
        to=form["To"],
        from_=form["From"],
        body=form.get("Body", ""),
        opt_out_type=form.get("OptOutType") or None,
    )
    stored = _store_inbound(text)
    if stored is None:
        return "not stored", 500
    if stored.account_id is None:
        log.warning("inbound text to a number no account owns sid=%s", sid)
    elif stored.message_id is None:
        log.info("inbound replay account_id=%s sid=%s", stored.account_id, sid)
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


def _store_inbound(text: InboundText) -> Stored | None:
    """None when a second race was lost too: logged by constraint, never by the error's text,
    which quotes the row (PostgreSQL: "Key (account_id, phone)=(1, +1801...)")."""
    rt = runtime.current()
    for attempt in range(2):
        with rt.sessions() as session:
            try:
                stored = record_inbound(session, text, utcnow())
                session.commit()
                return stored
            except IntegrityError as exc:
                # The same MessageSid (a Twilio retry) or a new contact's first text won a
                # race with us: the second pass finds their row.
                session.rollback()
                if attempt:
                    constraint = violated_constraint(exc)
                    log.error("inbound not stored sid=%s constraint=%s", text.sid, constraint)
    return None
