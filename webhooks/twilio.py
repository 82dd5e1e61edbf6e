"""Twilio's webhooks: message status callbacks (and, later, inbound texts).

Verify the signature before anything else; answer 200 to replays so Twilio stops retrying.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from loopstrat import runtime
from loopstrat.clock import utcnow
from loopstrat.sms.status import apply_status
from webhooks.twilio_signature import signature_ok

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")


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
