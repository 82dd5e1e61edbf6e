"""A Redis-protocol server for `make run` on machines with no redis-server (fakeredis).

For local runs only: it keeps everything in memory and stops with `make run`.
"""

from __future__ import annotations

import sys
from typing import Any

from fakeredis import TcpFakeServer
from fakeredis._commands import command
from fakeredis._socket._fakesocket import FakeSocket

FAKE_SERVER_INFO = b"# Server\r\nredis_version:7.2.0\r\nredis_mode:standalone\r\n"


@command(name="INFO", fixed=(), repeat=(bytes,))
def info(self: Any, *sections: bytes) -> bytes:
    # RQ asks INFO for the server version before enqueueing; fakeredis has no INFO and its
    # TCP server drops the connection on an unknown command.
    return FAKE_SERVER_INFO


def main() -> None:
    setattr(FakeSocket, "info", info)  # noqa: B010 - adding a command fakeredis lacks
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    server.serve_forever()


if __name__ == "__main__":
    main()
