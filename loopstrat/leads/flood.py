"""Leads held in a flood: stored at the door, their first reply released when the flood passes.

Owns the release rule (quiet for FLOOD_QUIET, no older than RELEASE_MAX_AGE, else a person's
review). Never texts: a release schedules the ordinary first reply, with every gate.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.clock import utcnow
from loopstrat.models import Lead, Outbox
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime

FLOOD_HOLD = "flood"  # leads.hold_reason of a lead held at the door
UNREVIEWED = "flood_unreviewed"  # held too long to text now without a person's say-so
# The flood has passed when the account has gone this long without a held post.
FLOOD_QUIET = timedelta(minutes=5)
# A first reply an hour late is still welcome; past that a flood lead is more likely junk
# than a person waiting, so a person decides (`loopstrat held-leads`).
RELEASE_MAX_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class Release:
    result: str  # no_holds | flooding | released
    released: int = 0
    unreviewed: int = 0


def release_held_leads(rt: Runtime, account_id: int) -> Release:
    """The account's release job: wait while the flood goes on, then release fresh holds."""
    ref = str(account_id)
    with rt.sessions() as session:
        # Take the release row's lock before reading leads: an intake transaction holding a
        # lead either committed first (and is seen below) or waits, then re-opens the row.
        session.execute(
            update(Outbox)
            .where(Outbox.kind == Kind.RELEASE_HELD_LEADS, Outbox.ref_id == ref)
            .values(attempts=Outbox.attempts)
        )
        now = utcnow()
        unreviewed = _mark_unreviewed(session, account_id, now - RELEASE_MAX_AGE)
        newest = session.scalar(
            select(func.max(Lead.received_at)).where(_held(account_id, (FLOOD_HOLD,)))
        )
        if newest is not None and newest + FLOOD_QUIET > now:
            outbox.postpone(session, Kind.RELEASE_HELD_LEADS, ref, newest + FLOOD_QUIET)
            session.commit()
            return Release("flooding", 0, unreviewed)
        released = release(session, account_id) if newest is not None else []
        outbox.finish(session, Kind.RELEASE_HELD_LEADS, ref)
        session.commit()
    return Release("released" if released else "no_holds", len(released), unreviewed)


def release(
    session: Session, account_id: int, lead_ids: Collection[int] | None = None
) -> list[int]:
    """Let held leads' first replies go (all fresh flood holds, or the named ones, reviewed
    or not); the caller commits. The reply keeps every gate: consent, opt-out, quiet hours."""
    reasons = (FLOOD_HOLD,) if lead_ids is None else (FLOOD_HOLD, UNREVIEWED)
    query = select(Lead).where(_held(account_id, reasons))
    if lead_ids is not None:
        query = query.where(Lead.id.in_(lead_ids))
    released = []
    for lead in session.scalars(query.order_by(Lead.id)):
        # hold_reason stays: the lead's record says its reply was held, and why.
        lead.response_state, lead.held_until = "pending", None
        outbox.schedule(
            session, account_id=account_id, kind=Kind.RESPOND_TO_LEAD, ref_id=str(lead.id)
        )
        released.append(lead.id)
    return released


def held_leads(session: Session, account_id: int) -> list[Lead]:
    reasons = (FLOOD_HOLD, UNREVIEWED)
    return list(session.scalars(select(Lead).where(_held(account_id, reasons)).order_by(Lead.id)))


def _mark_unreviewed(session: Session, account_id: int, older_than: datetime) -> int:
    marked = session.execute(
        update(Lead)
        .where(_held(account_id, (FLOOD_HOLD,)), Lead.received_at < older_than)
        .values(hold_reason=UNREVIEWED)
    )
    return int(marked.rowcount or 0)  # type: ignore[attr-defined]


def _held(account_id: int, reasons: Collection[str]) -> ColumnElement[bool]:
    return and_(
        Lead.account_id == account_id,
        Lead.response_state == "held",
        Lead.hold_reason.in_(reasons),
    )
