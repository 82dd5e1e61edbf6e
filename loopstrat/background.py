"""Background threads that leave the process's stop signals to its main thread.

The kernel hands a signal sent to a process to any thread that does not block it. Python runs
its handlers in the main thread only, so a SIGTERM taken by a helper thread leaves the main
thread asleep in a blocking call (an RQ worker's BLPOP waits up to seven minutes) and the
process ignores its stop until something else wakes it: a deploy then kills it outright.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def start_thread(target: Callable[[], object], name: str) -> threading.Thread:
    """A daemon thread that blocks SIGINT and SIGTERM (a new thread inherits the mask)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    with signals_to_main_thread():
        thread.start()
    return thread


class signals_to_main_thread:  # noqa: N801 - used as a statement, like a function
    """Threads started inside this block the stop signals; the caller's mask is restored."""

    def __enter__(self) -> None:
        self._old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    def __exit__(self, *_exc: object) -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, self._old)
