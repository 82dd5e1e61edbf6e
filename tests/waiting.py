"""Waiting on work that another process or thread does (the worker pool, a redis-server being
restarted, the dispatcher's loop): a clock moved in this process cannot hurry them, so poll
until it shows. The guard only stops a hung test; it is never the figure under test."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

POLL_S = 0.05


def until(found: Callable[[], Any], guard_s: float, what: str = "it") -> Any:
    """found()'s first truthy value; AssertionError after guard_s without one."""
    deadline = time.monotonic() + guard_s
    while time.monotonic() < deadline:
        if value := found():
            return value
        time.sleep(POLL_S)
    raise AssertionError(f"gave up waiting for {what}")
