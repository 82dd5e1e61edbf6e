"""The outbox: work that must happen, with when it is due. The database row is the truth.

Rows are written in the same transaction as the change that causes them; the dispatcher moves
due rows to RQ and re-sends any whose job vanished (dead worker, Redis restart, Redis down).
The doors never enqueue: they commit, and the commit wakes the dispatcher (loopstrat/wake.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from loopstrat.clock import utcnow
from loopstrat.models import Outbox
from loopstrat.wake import note_due


class Kind(StrEnum):
    """Every kind of outbox row, spelled once (workers/queues.py maps each to its job). The
    ref_id of a row names what it works on: a lead, a message or an account."""

    RESPOND_TO_LEAD = "respond_to_lead"  # ref: lead; the first reply
    CONVERSATION_INBOUND = "conversation_inbound"  # ref: message; what a lead's text starts
    CONTRACTOR_TEXT = "contractor_text"  # ref: message; the contractor's text for a lead
    CONVERSATION_TEXT = "conversation_text"  # ref: message; one stored text, sent once
    AI_TURN = "conversation_ai_turn"  # ref: lead; the AI's debounced answer
    HANDOFF_CHECK = "conversation_handoff"  # ref: lead; a hand-off nobody answered
    CRM_SYNC = "crm_sync"  # ref: account; its journal to Airtable
    RELEASE_HELD_LEADS = "release_held_leads"  # ref: account; leads a flood held
    CAMPAIGN_PLAN = "campaign_plan"  # ref: enrollment; a planned text come due: write it or not
    CAMPAIGN_TEXT = "campaign_text"  # ref: message; a campaign's written text, sent once
    CAMPAIGN_TICK = "campaign_tick"  # ref: campaign; the pacer releasing its next sends


# A claim is handed out again only once the dispatcher has judged its job lost, by asking
# Redis (workers/queues.py jobs_lost): gone, running without its process's beat, or ended
# without settling its row. Never for its age alone: a job waiting its turn is not lost, and
# running it twice drafts twice.
# What a claim judged lost is stamped with: before any real claim, so `claim` takes it.
LOST_MARK = datetime(2000, 1, 1, tzinfo=UTC)
RETRY_BACKOFF_S = (5, 15, 60, 180, 600)
MAX_ATTEMPTS = len(RETRY_BACKOFF_S) + 1
SETTLE_EXTRA_ATTEMPTS = 12  # two more hours of asking Twilio what became of an unknown send
MAX_LOST_ATTEMPTS = MAX_ATTEMPTS + SETTLE_EXTRA_ATTEMPTS


def schedule(
    session: Session,
    *,
    account_id: int,
    kind: str,
    ref_id: str,
    due_at: datetime | None = None,
    run_now: bool = False,
) -> Outbox:
    """Add (or re-open) the one row for kind+ref; the caller commits. The dispatcher enqueues
    it when due; the commit wakes it (loopstrat/wake.py).

    run_now: the caller does the work itself right after its commit, so the row is stamped as
    handed out and the dispatcher leaves it alone unless that attempt is lost.
    """
    row = session.scalar(select(Outbox).where(Outbox.kind == kind, Outbox.ref_id == ref_id))
    due = due_at or utcnow()
    if row is None:
        row = Outbox(account_id=account_id, kind=kind, ref_id=ref_id, due_at=due)
        session.add(row)
    elif row.state != "pending" or row.due_at > due:
        row.state, row.due_at, row.enqueued_at, row.reason = "pending", due, None, None
    if run_now:
        row.enqueued_at = utcnow()
    else:
        note_due(session)
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
    note_due(session)


def hurry(session: Session, kind: str, ref_id: str) -> None:
    """Make a waiting row due now, so its job decides at once (and may cancel itself) rather
    than at the hour it waits for. A row already handed out is left to its job."""
    now = utcnow()
    session.execute(
        update(Outbox)
        .where(
            Outbox.kind == kind,
            Outbox.ref_id == ref_id,
            Outbox.state == "pending",
            Outbox.enqueued_at.is_(None),
            Outbox.due_at > now,
        )
        .values(due_at=now)
    )
    note_due(session)


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
    note_due(session)
    return True


class Claim(NamedTuple):
    id: int
    kind: str
    ref_id: str
    account_id: int


class Candidate(NamedTuple):
    """A due row, and its place among its account's due rows of the same group (1: next)."""

    id: int
    group: str
    account_id: int
    nth: int


def _claimable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Pending, due, and never handed out or its job judged lost (mark_lost)."""
    return (
        Outbox.state == "pending",
        Outbox.due_at <= now,
        or_(Outbox.enqueued_at.is_(None), Outbox.enqueued_at <= LOST_MARK),
    )


def _group_of(groups: Mapping[str, Collection[str]]) -> ColumnElement[str]:
    return case({kind: name for name, kinds in groups.items() for kind in kinds}, value=Outbox.kind)


def due_candidates(
    db: Session | Connection,
    now: datetime,
    groups: Mapping[str, Collection[str]],
    per_account: int,
    limit: int = 2000,
) -> list[Candidate]:
    """Due rows of the groups' kinds, each account's oldest `per_account` of each group, every
    account's first before anyone's second: the dispatcher chooses whose turn it is from them."""
    kinds = [kind for members in groups.values() for kind in members]
    group = _group_of(groups)
    ranked = (
        select(
            Outbox.id,
            group.label("grp"),
            Outbox.account_id,
            Outbox.due_at,
            func.row_number()
            .over(partition_by=(Outbox.account_id, group), order_by=(Outbox.due_at, Outbox.id))
            .label("nth"),
        )
        .where(*_claimable(now), Outbox.kind.in_(kinds))
        .subquery()
    )
    rows = db.execute(
        select(ranked.c.id, ranked.c.grp, ranked.c.account_id, ranked.c.nth)
        .where(ranked.c.nth <= per_account)
        .order_by(ranked.c.nth, ranked.c.due_at)
        .limit(limit)
    )
    return [Candidate(row.id, row.grp, row.account_id, row.nth) for row in rows]


def in_flight(
    db: Session | Connection, groups: Mapping[str, Collection[str]]
) -> dict[tuple[str, int], int]:
    """Standing claims by (group, account): handed out and neither settled nor judged lost."""
    group = _group_of(groups)
    rows = db.execute(
        select(group.label("grp"), Outbox.account_id, func.count())
        .where(Outbox.state == "pending", Outbox.enqueued_at > LOST_MARK)
        .group_by(group, Outbox.account_id)
    )
    return {(row.grp, row.account_id): int(row[2]) for row in rows if row.grp is not None}


def claim(db: Session | Connection, now: datetime, row_ids: Collection[int]) -> list[Claim]:
    """Stamp the chosen rows as handed out, in one statement; the claims this call won.

    The conditions stand in the WHERE, so of two dispatchers racing for a row (PostgreSQL
    re-checks them after waiting on its lock) exactly one gets it. A claim judged lost
    (mark_lost) is claimed again and counts as an attempt; one lost too often is given up in
    the same statement.
    """
    if not row_ids:
        return []
    # SET expressions read the row as it was, on PostgreSQL and SQLite alike.
    lost = Outbox.enqueued_at.is_not(None)
    lost_too_often = and_(lost, Outbox.attempts >= MAX_LOST_ATTEMPTS)
    claimed = db.execute(
        update(Outbox)
        .where(Outbox.id.in_(list(row_ids)), *_claimable(now))
        .values(
            enqueued_at=now,
            # A claim judged lost counts, so a job that always dies stops.
            attempts=Outbox.attempts + case((lost, 1), else_=0),
            state=case((lost_too_often, "failed"), else_=Outbox.state),
            reason=case((lost_too_often, "lost_too_often"), else_=Outbox.reason),
        )
        .returning(Outbox.id, Outbox.kind, Outbox.ref_id, Outbox.account_id, Outbox.state)
    )
    return [
        Claim(row.id, row.kind, row.ref_id, row.account_id)
        for row in claimed
        if row.state == "pending"
    ]


def next_due_at(
    db: Session | Connection, kinds: Collection[str], after: datetime
) -> datetime | None:
    """When the next unclaimed row falls due after `after`: the dispatcher sleeps until then,
    or a wake-up. Rows due already are waiting for a free process, whose end wakes it."""
    found = db.execute(
        select(func.min(Outbox.due_at)).where(
            Outbox.state == "pending",
            Outbox.enqueued_at.is_(None),
            Outbox.kind.in_(kinds),
            Outbox.due_at > after,
        )
    ).scalar()
    return found if isinstance(found, datetime) else None


def claims_to_check(
    session: Session, now: datetime, older_than: timedelta, after: int, limit: int
) -> list[tuple[int, datetime]]:
    """(id, claimed at) of standing claims old enough that their job must be in Redis by now,
    by row id from `after`: the dispatcher asks Redis which of them it lost, a page a time."""
    rows = session.execute(
        select(Outbox.id, Outbox.enqueued_at)
        .where(
            Outbox.state == "pending",
            Outbox.enqueued_at < now - older_than,
            Outbox.enqueued_at > LOST_MARK,
            Outbox.id > after,
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    return [(row.id, row.enqueued_at) for row in rows if row.enqueued_at is not None]


def mark_lost(session: Session, claims: Collection[tuple[int, datetime]]) -> int:
    """Make claims whose job is lost claimable at once: the next claim takes them, counting
    the lost attempt. A claim taken again meanwhile is left alone."""
    if not claims:
        return 0
    result = session.execute(
        update(Outbox)
        .where(
            Outbox.state == "pending",
            or_(*(and_(Outbox.id == i, Outbox.enqueued_at == at) for i, at in claims)),
        )
        .values(enqueued_at=LOST_MARK)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, row_ids: Collection[int], stamped_at: datetime) -> None:
    """Undo claims that could not be handed to RQ (Redis down): the next poll tries again."""
    session.execute(
        update(Outbox)
        .where(Outbox.id.in_(row_ids), Outbox.enqueued_at == stamped_at)
        .values(enqueued_at=None)
    )
