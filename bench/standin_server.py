"""The local HTTP server under each stand-in of an outside API the benches talk to."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog, read when the server binds: a burst's connections arrive at once.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        # A client killed mid-request (the crash scenario SIGKILLs the worker host) is expected.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class StandInServer:
    """Serves `handler` on a free port of 127.0.0.1, each request in a thread of its own."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = _Server((HOST, 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
