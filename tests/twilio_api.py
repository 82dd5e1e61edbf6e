"""Twilio's REST API at the HTTP boundary, as `responses` callbacks with its documented payloads
(Message resource, 2010-04-01). Records what Twilio received so tests assert on it."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
import responses

from loopstrat.clock import utcnow

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "twilio-test-auth-token"
MESSAGES_URL = re.compile(
    rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages\.json.*"
)


def message_resource(sid: str, to: str, from_: str, body: str, status: str) -> dict[str, Any]:
    now = format_datetime(utcnow(), usegmt=False).replace("-0000", "+0000")
    base = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}"
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": f"{base}/Media.json"},
        "to": to,
        "uri": f"{base}.json",
    }


def error_resource(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass
class FakeTwilio:
    """What Twilio holds: every Messages.create it accepted, in order."""

    mock: responses.RequestsMock
    created: list[dict[str, Any]] = field(default_factory=list)
    next_errors: list[tuple[int, int]] = field(default_factory=list)
    next_timeouts: list[bool] = field(default_factory=list)
    create_calls: int = 0

    def install(self) -> None:
        self.mock.add_callback(responses.POST, MESSAGES_URL, callback=self._create)
        self.mock.add_callback(responses.GET, MESSAGES_URL, callback=self._list)

    def fail_next(self, status: int, code: int) -> None:
        self.next_errors.append((status, code))

    def time_out_next(self, *, after_accepting: bool) -> None:
        """The next create times out; Twilio may or may not have taken the message."""
        self.next_timeouts.append(after_accepting)

    @property
    def sent(self) -> list[dict[str, str]]:
        return [{"To": m["to"], "From": m["from"], "Body": m["body"]} for m in self.created]

    def params_of_calls(self) -> list[dict[str, str]]:
        return [
            {k: v[0] for k, v in parse_qs(call.request.body or "").items()}  # type: ignore[arg-type]
            for call in self.mock.calls
            if call.request.method == "POST" and MESSAGES_URL.match(call.request.url or "")
        ]

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.create_calls += 1
        if self.next_errors:
            status, code = self.next_errors.pop(0)
            return status, {}, json.dumps(error_resource(status, code, "error"))
        params = {k: v[0] for k, v in parse_qs(request.body).items()}
        sid = "SM" + uuid.uuid4().hex
        resource = message_resource(sid, params["To"], params["From"], params["Body"], "queued")
        if self.next_timeouts:
            if self.next_timeouts.pop(0):
                self.created.append(resource)
            raise requests.exceptions.ReadTimeout("read timed out")
        self.created.append(resource)
        return 201, {}, json.dumps(resource)

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlparse(request.url).query)
        to, from_ = query.get("To", [None])[0], query.get("From", [None])[0]
        found = [
            m
            for m in reversed(self.created)
            if (to is None or m["to"] == to) and (from_ is None or m["from"] == from_)
        ]
        page = {
            "messages": found,
            "end": max(len(found) - 1, 0),
            "first_page_uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?PageSize=20",
            "next_page_uri": None,
            "page": 0,
            "page_size": 20,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?PageSize=20&Page=0",
        }
        return 200, {}, json.dumps(page)
