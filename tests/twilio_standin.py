"""A local HTTP stand-in for Twilio's Messages API, for tests that cross a process boundary
(a worker killed mid-call), where `responses` cannot follow. Same documented payloads."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.twilio_api import message_resource


class TwilioStandIn:
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.posts = 0
        self.received = threading.Event()  # a POST arrived
        self.release = threading.Event()  # let a held POST answer
        self.hold_posts = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> TwilioStandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                params = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                sid = "SM" + uuid.uuid4().hex
                resource = message_resource(
                    sid, params["To"], params["From"], params["Body"], "queued"
                )
                standin.posts += 1
                standin.created.append(resource)  # Twilio has it from here on
                standin.received.set()
                if standin.hold_posts:
                    standin.release.wait(timeout=30)
                self._answer(201, resource)

            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlparse(self.path).query)
                to, from_ = query.get("To", [None])[0], query.get("From", [None])[0]
                found = [
                    m
                    for m in reversed(standin.created)
                    if (to is None or m["to"] == to) and (from_ is None or m["from"] == from_)
                ]
                self._answer(200, {"messages": found, "next_page_uri": None, "page": 0,
                                   "page_size": 20, "start": 0, "end": len(found)})  # fmt: skip

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller died mid-call, which is the point of some tests

        return Handler
