"""Structured key=value logs on stderr. Never a phone number, a message body or a secret."""

from __future__ import annotations

import logging
import os

COMMAND_LEVEL = "WARNING"  # a command prints its result; its logs only when something is wrong
PROCESS_LEVEL = "INFO"  # web, worker and scheduler: their logs are what an operator reads


def setup_logging(level: str | None = None) -> None:
    """Root logging on stderr at `level`, else LOG_LEVEL, else the long-running processes' INFO.
    Called again (a command that turns out to run a process) it sets the level anew."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")
    root.setLevel((level or os.environ.get("LOG_LEVEL") or PROCESS_LEVEL).upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
