"""Push an account's whole history to its base, in the foreground, through the same journal and
sync as live changes: re-running it upserts the same rows again and never duplicates one.

Runs in the CLI process, so waiting out a paused base here (sleeping) delays no text.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loopstrat.clock import utcnow
from loopstrat.crm.sync import SyncResult, sync_account
from loopstrat.journal import note_all, waiting
from loopstrat.runtime import Runtime

BUSY_WAIT_S = 1.0


def start_backfill(rt: Runtime, account_id: int) -> int:
    """Journal every contact, lead and message; how many records wait now."""
    with rt.sessions() as session:
        note_all(session, account_id)
        session.commit()
        return waiting(session, account_id)


def run_backfill(
    rt: Runtime,
    account_id: int,
    progress: Callable[[int], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncResult:
    """Sync until the journal is empty or the sync fails; progress gets records per step."""
    while True:
        result = sync_account(rt, account_id, sleep=sleep)
        if result.synced:
            progress(result.synced)
        if result.state in ("done", "off", "failed"):
            return result
        if result.state == "busy":  # the crm worker is on it: let it finish its turn
            sleep(BUSY_WAIT_S)
        elif result.state == "waiting" and result.until is not None:
            sleep(max(0.0, (result.until - utcnow()).total_seconds()))
