"""Sync health per account (last success, last error, records waiting) and the one alert per
failure streak. A streak is alerted once, after an hour; a success ends the streak.

Never raises into the sync: a failed alert is logged and tried again on the next failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from loopstrat.journal import waiting
from loopstrat.models import CrmSyncState

log = logging.getLogger(__name__)

ALERT_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class SyncHealth:
    """What the dashboard shows."""

    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failing_since: datetime | None
    waiting: int


def _state(session: Session, account_id: int) -> CrmSyncState:
    state = session.get(CrmSyncState, account_id)
    if state is None:
        state = CrmSyncState(account_id=account_id)
        session.add(state)
    return state


def sync_health(session: Session, account_id: int) -> SyncHealth:
    state = session.get(CrmSyncState, account_id)
    return SyncHealth(
        last_success_at=state.last_success_at if state else None,
        last_error=state.last_error if state else None,
        last_error_at=state.last_error_at if state else None,
        failing_since=state.failing_since if state else None,
        waiting=waiting(session, account_id),
    )


def record_success(session: Session, account_id: int, now: datetime) -> None:
    state = _state(session, account_id)
    state.last_success_at = now
    state.failing_since = None
    state.failure_alerted_at = None


def record_failure(session: Session, account_id: int, error: str, now: datetime) -> datetime | None:
    """Note the error; the streak's start while it is long and its alert not yet stored (the
    alert's own commit marks it, so a lost job or a backfill only delays the alert)."""
    state = _state(session, account_id)
    state.last_error, state.last_error_at = error[:1000], now
    state.failing_since = state.failing_since or now
    if state.failure_alerted_at is None and now - state.failing_since >= ALERT_AFTER:
        return state.failing_since
    return None
