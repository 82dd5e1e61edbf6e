"""A local stand-in for Anthropic's Messages API that takes its time, for the burst bench.

Answers POST /v1/messages after DRAFT_S (Claude's usual pace for a short draft) with the
documented Message object, in a thread per request, as many at once as are asked.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from standin_server import StandInServer

DRAFT_S = 1.5
DRAFT = (
    "Hi, thanks for reaching out about your water heater. We can come by today or tomorrow. "
    "What time suits you?"
)


class AnthropicStandIn(StandInServer):
    def __init__(self, draft_s: float = DRAFT_S) -> None:
        self.draft_s = draft_s
        self.requests = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        super().__init__(_handler(self))

    def drafting(self, delta: int) -> None:
        with self.lock:
            self.in_flight += delta
            self.requests += max(delta, 0)
            self.most_in_flight = max(self.most_in_flight, self.in_flight)


def _handler(standin: AnthropicStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", "0"))
            asked = json.loads(self.rfile.read(length) or b"{}")
            standin.drafting(+1)
            try:
                time.sleep(standin.draft_s)  # the model thinking
            finally:
                standin.drafting(-1)
            self._answer(200, _message(str(asked.get("model", "claude-haiku-4-5"))))

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _message(model: str) -> dict[str, Any]:
    """The Messages API's answer (POST /v1/messages, 200)."""
    return {
        "id": "msg_bench", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": DRAFT}], "stop_reason": "end_turn",
        "stop_sequence": None, "usage": {"input_tokens": 380, "output_tokens": 40},
    }  # fmt: skip
