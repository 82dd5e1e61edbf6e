"""The outbox: work that must happen, with when it is due. The database row is the truth.

Rows are written in the same transaction as the change that causes them; the dispatcher moves
due rows to RQ and re-sends any whose job vanished (dead worker, Redis restart, Redis down).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from loopstrat.clock import utcnow
from loopstrat.models import Outbox

# A job that has not finished this long after it was enqueued is presumed lost (RQ only
# notices a dead worker's job after its heartbeat expires and maintenance runs).
REENQUEUE_AFTER = timedelta(seconds=120)
RETRY_BACKOFF_S = (5, 15, 60, 180, 600)
MAX_ATTEMPTS = len(RETRY_BACKOFF_S) + 1
SETTLE_EXTRA_ATTEMPTS = 12  # two more hours of asking Twilio what became of an unknown send


def schedule(
    session: Session,
    *,
    account_id: int,
    kind: str,
    ref_id: str,
    due_at: datetime | None = None,
    enqueue_after_commit: bool = False,
) -> Outbox:
    """Add (or re-open) the one row for kind+ref; the caller commits.

    With enqueue_after_commit the caller promises to enqueue right after its commit, so the row
    is stamped now and the dispatcher does not enqueue it a second time in between; if that
    enqueue fails, the caller clears the stamp (workers.queues.enqueue_after_commit).
    """
    row = session.scalar(select(Outbox).where(Outbox.kind == kind, Outbox.ref_id == ref_id))
    due = due_at or utcnow()
    if row is None:
        row = Outbox(account_id=account_id, kind=kind, ref_id=ref_id, due_at=due)
        session.add(row)
    elif row.state != "pending" or row.due_at > due:
        row.state, row.due_at, row.enqueued_at, row.reason = "pending", due, None, None
    if enqueue_after_commit:
        row.enqueued_at = utcnow()
    return row


def find(session: Session, kind: str, ref_id: str) -> Outbox | None:
    return session.scalar(select(Outbox).where(Outbox.kind == kind, Outbox.ref_id == ref_id))


def finish(session: Session, kind: str, ref_id: str, state: str = "done", reason: str = "") -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.kind == kind, Outbox.ref_id == ref_id, Outbox.state == "pending")
        .values(state=state, reason=reason or None)
    )


def postpone(session: Session, kind: str, ref_id: str, until: datetime) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.kind == kind, Outbox.ref_id == ref_id)
        .values(state="pending", due_at=until, enqueued_at=None)
    )


def retry_later(
    session: Session, kind: str, ref_id: str, error: str, *, settling: bool = False
) -> bool:
    """Back off and try again; False (and the row given up) once attempts run out.

    `settling`: the last attempt's outcome is unknown (Twilio may have the text). Giving up
    then would leave a text we may have sent unrecorded, so such a row keeps checking longer.
    """
    row = find(session, kind, ref_id)
    if row is None:
        return False
    row.attempts += 1
    row.last_error = error[:300]
    if row.attempts >= MAX_ATTEMPTS + (SETTLE_EXTRA_ATTEMPTS if settling else 0):
        row.state, row.reason = "failed", "attempts_exhausted"
        return False
    backoff_s = RETRY_BACKOFF_S[min(row.attempts, len(RETRY_BACKOFF_S)) - 1]
    row.due_at = utcnow() + timedelta(seconds=backoff_s)
    row.enqueued_at = None
    return True


def due_rows(session: Session, now: datetime, limit: int = 500) -> list[Outbox]:
    """Pending rows that are due and not already handed to a live job."""
    stale = now - REENQUEUE_AFTER
    return list(
        session.scalars(
            select(Outbox)
            .where(
                Outbox.state == "pending",
                Outbox.due_at <= now,
                or_(Outbox.enqueued_at.is_(None), Outbox.enqueued_at < stale),
            )
            .order_by(Outbox.due_at)
            .limit(limit)
        )
    )
