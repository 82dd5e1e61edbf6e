"""Structured key=value logs on stderr. Never a phone number, a message body or a secret."""

from __future__ import annotations

import logging
import os


def setup_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or os.environ.get("LOG_LEVEL", "INFO")).upper(),
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
