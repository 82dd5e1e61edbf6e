"""Anthropic's Messages API as a local HTTP server (the SDK talks through httpx2, which
`responses` cannot intercept), answering with the documented payloads of POST /v1/messages."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from loopstrat import runtime

MODEL = "claude-haiku-4-5"
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def message_payload(text: str, stop_reason: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 212, "output_tokens": 48},
    }


def error_payload(status: int) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": kind.replace("_", " ")}}


@dataclass
class ClaudeStandIn:
    """Answers each request with the next scripted answer; the last one repeats."""

    server: HTTPServer
    script: list[tuple[int, dict[str, Any], bool]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    while_drafting: Callable[[], None] | None = None  # runs while the model "thinks"
    # A stalled answer is held until the test ends: the client gives up at its own budget.
    released: threading.Event = field(default_factory=threading.Event)

    def reply(self, text: str, *, stop_reason: str = "end_turn") -> None:
        self.script.append((200, message_payload(text, stop_reason), False))

    def stall(self, text: str) -> None:
        """Answer only after the client has given up: the model too slow for the budget."""
        self.script.append((200, message_payload(text), True))

    def fail(self, status: int) -> None:
        self.script.append((status, error_payload(status), False))

    def _answer(self, request: Request) -> Response:
        self.requests.append(json.loads(request.get_data()))
        status, payload, stalls = self.script[0] if len(self.script) == 1 else self.script.pop(0)
        if self.while_drafting is not None:
            self.while_drafting()
        if stalls:
            self.released.wait()
        return Response(json.dumps(payload), status=status, content_type="application/json")


@pytest.fixture
def claude(rt: runtime.Runtime) -> Iterator[ClaudeStandIn]:
    """Claude configured and pointed at a local stand-in, with a short drafting budget."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    standin = ClaudeStandIn(server)
    server.expect_request("/v1/messages", method="POST").respond_with_handler(standin._answer)
    base = f"http://127.0.0.1:{server.port}"
    from dataclasses import replace

    runtime.configure(
        replace(
            rt.settings,
            anthropic_api_key="sk-ant-test",
            anthropic_base_url=base,
            anthropic_model=MODEL,
            draft_budget_s=1.5,
        )
    )
    try:
        yield standin
    finally:
        standin.released.set()
        server.clear()
        server.stop()
