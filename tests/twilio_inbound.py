"""Twilio's incoming-message webhook as Twilio sends it: its documented form parameters, signed
with X-Twilio-Signature over PUBLIC_BASE_URL + path (twilio's own RequestValidator)."""

from __future__ import annotations

import itertools
from typing import Any

from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_BASE_URL
from tests.twilio_api import ACCOUNT_SID, AUTH_TOKEN

INBOUND_URL = PUBLIC_BASE_URL + "/twilio/inbound"
STATUS_URL = PUBLIC_BASE_URL + "/twilio/status"
JANE = "+18015550142"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_sids = itertools.count(1)


def inbound_params(
    to: str, body: str, *, from_: str = JANE, sid: str | None = None, **extra: str
) -> dict[str, str]:
    sid = sid or f"SM{next(_sids):032x}"
    params = {
        "ToCountry": "US",
        "ToState": "UT",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SALT LAKE CITY",
        "FromZip": "84101",
        "SmsSid": sid,
        "FromState": "UT",
        "SmsStatus": "received",
        "FromCity": "SALT LAKE CITY",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "84101",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


def post_inbound(client: Any, params: dict[str, str], *, signature: str | None = None) -> Any:
    headers = {"X-Twilio-Signature": signature or sign(INBOUND_URL, params)}
    return client.post("/twilio/inbound", data=params, headers=headers)


def text_in(client: Any, account: Any, body: str, **kwargs: Any) -> dict[str, str]:
    """The lead texts the account's number; the webhook must answer with empty TwiML."""
    params = inbound_params(account.twilio_number, body, **kwargs)
    answer = post_inbound(client, params)
    assert answer.status_code == 200, answer.data
    assert answer.data == EMPTY_TWIML
    assert answer.mimetype == "text/xml"
    return params


def status_callback(client: Any, sid: str, status: str, error_code: str = "") -> Any:
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
    if error_code:
        params["ErrorCode"] = error_code
    return client.post(
        "/twilio/status", data=params, headers={"X-Twilio-Signature": sign(STATUS_URL, params)}
    )
