"""X-Twilio-Signature checks against the public URL Twilio called, not the one Flask saw."""

from __future__ import annotations

from flask import request
from twilio.request_validator import RequestValidator

from loopstrat.config import Settings


def public_url(settings: Settings) -> str:
    """PUBLIC_BASE_URL + path + query: behind a proxy, Flask's own URL has the wrong host."""
    url = settings.public_base_url.rstrip("/") + request.path
    query = request.query_string.decode()
    return f"{url}?{query}" if query else url


def signature_ok(settings: Settings) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.twilio_auth_token:
        return False
    validator = RequestValidator(settings.twilio_auth_token)
    params = request.form.to_dict(flat=True)
    return bool(validator.validate(public_url(settings), params, signature))
