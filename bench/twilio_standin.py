"""A local stand-in for Twilio's Messages API that answers at once, for the benchmarks.

Answers POST Messages.json with the documented Message resource (API 2010-04-01, 201) and GET
with a list page, and records when each POST arrived and for which To. Sends nothing anywhere.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from standin_server import StandInServer

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"  # noqa: S105 - the stand-in's, not a real credential
BASIC_AUTH = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


class TwilioStandIn(StandInServer):
    """Answers POST Messages.json at once with the documented Message resource (201) and
    records each POST's arrival time by To: the end of the speed-to-lead clock."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.created: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        super().__init__(_standin_handler(self))

    def record(self, arrived: float, resource: dict[str, Any]) -> None:
        with self.changed:
            self.arrivals.setdefault(resource["to"], []).append(arrived)
            self.created.append(resource)
            self.changed.notify_all()

    def wait_for(self, phones: list[str], timeout_s: float) -> int:
        """Wait until a text to each phone arrived or time ran out; how many are missing."""
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while True:
                missing = sum(1 for p in phones if p not in self.arrivals)
                left = deadline - time.monotonic()
                if not missing or left <= 0:
                    return missing
                self.changed.wait(min(left, 0.5))


def _standin_handler(standin: TwilioStandIn) -> type[BaseHTTPRequestHandler]:
    messages = re.compile(rf"^/2010-04-01/Accounts/{ACCOUNT_SID}/Messages\.json(\?.*)?$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com; the SDK reuses it
        # Without TCP_NODELAY the body, written after the headers, waits for the client's
        # delayed ACK (Nagle): a 40 ms stall per call that real Twilio does not add.
        disable_nagle_algorithm = True

        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            arrived = time.time()  # first: the request has reached "Twilio"
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if not self._authorised():
                return
            if not messages.match(self.path):
                self._answer(404, _twilio_error(404, 20404, "The requested resource was not found"))
                return
            resource = _message_resource(form["To"], form["From"], form["Body"])
            standin.record(arrived, resource)
            self._answer(201, resource)

        def do_GET(self) -> None:  # noqa: N802
            # Only the reconcile path (an unsettled claim) lists messages; answer it truthfully.
            if not self._authorised():
                return
            to = parse_qs(urlparse(self.path).query).get("To", [None])[0]
            with standin.changed:
                found = [m for m in reversed(standin.created) if to in (None, m["to"])][:20]
            end = max(len(found) - 1, 0)
            page = {
                "messages": found,
                "next_page_uri": None,
                "page": 0,
                "page_size": 20,
                "start": 0,
                "end": end,
            }
            self._answer(200, page)

        def _authorised(self) -> bool:
            """HTTP Basic with the account SID and auth token, or a 401 as Twilio answers."""
            if self.headers.get("Authorization") == BASIC_AUTH:
                return True
            self._answer(401, _twilio_error(401, 20003, "Authenticate"))
            return False

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _message_resource(to: str, from_: str, body: str) -> dict[str, Any]:
    """Twilio's Message resource (API 2010-04-01) as Messages.create answers it."""
    sid = "SM" + uuid.uuid4().hex
    now = format_datetime(datetime.now(UTC)).replace("-0000", "+0000")
    uri = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}"
    return {
        "account_sid": ACCOUNT_SID, "api_version": "2010-04-01", "body": body,
        "date_created": now, "date_sent": None, "date_updated": now,
        "direction": "outbound-api", "error_code": None, "error_message": None,
        "from": from_, "messaging_service_sid": None, "num_media": "0", "num_segments": "1",
        "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"}, "to": to, "uri": f"{uri}.json",
    }  # fmt: skip


def _twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more, "status": status}
