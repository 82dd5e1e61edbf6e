"""Speed to lead for the ROI page: the period's answered leads, their median and p90 seconds to
the first answer around the clock and in each split (answered at once or held for quiet hours,
by source, by who touched first), and how many were answered within a minute or texted back.

Every figure reads the lead's own first_response_s, first_touch_by, held_until and
last_inbound_at (leads/first_touch.py writes the first two when the first answer is sent), all
held by one partial covering index in speed order. Percentiles are nearest rank (the value at
rank ceil(p x n)). PostgreSQL computes every split in one pass (grouping sets, percentile_disc);
SQLite has neither, so it counts the splits in one pass and walks the index to each rank
(ORDER BY ... OFFSET), which needs no sort.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, func, literal, select, tuple_
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from loopstrat.models import Lead

ANSWERED_FAST_S = 60
AROUND_THE_CLOCK = "every lead, around the clock"
AT_ONCE, HELD = "answered at once", "held for quiet hours"
BY_AI, BY_PERSON = "first touch: AI or template", "first touch: a person"
T = TypeVar("T")


@dataclass(frozen=True)
class Speed:
    label: str
    leads: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class Answered:
    leads: int
    within_60s: int
    texted_back: int
    around_the_clock: Speed
    splits: list[Speed]  # at once, held, each source, AI or template, a person


def answered(session: Session, account_id: int, start: datetime, end: datetime) -> Answered:
    where = and_(received_in(session, account_id, start, end), Lead.first_response_s.is_not(None))
    if session.get_bind().dialect.name == "postgresql":
        return _in_one_pass(session, where)
    return _by_walking_the_index(session, where)


def received_in(
    session: Session, account_id: int, start: datetime, end: datetime
) -> ColumnElement[bool]:
    """The period's leads, for queries served by a narrower index than (account_id,
    received_at): the speed index (add first_response_s IS NOT NULL, its partial condition) or
    the hand-off index. The bounds are kept from choosing an index."""
    received = _not_an_index_key(session, Lead.received_at)
    return and_(Lead.account_id == account_id, received >= start, received < end)


def _not_an_index_key(session: Session, column: QueryableAttribute[T]) -> ColumnElement[T]:
    """On SQLite, +column: its documented way to keep a term from choosing an index. Blind to
    how much of the account a period holds (no STAT4), its planner would take (account_id,
    received_at) or (account_id, source), then read each lead's row and sort."""
    plain = column.expression
    if session.get_bind().dialect.name != "sqlite":
        return plain
    return UnaryExpression(plain, operator=custom_op("+"), type_=plain.type)


def _how_many(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def seconds(value: Any) -> float | None:
    """A figure in seconds as shown: to a tenth."""
    return round(float(value), 1) if value is not None else None


HELD_SPLIT = case((Lead.held_until.is_not(None), literal(HELD)), else_=literal(AT_ONCE))
TOUCH_SPLIT = case((Lead.first_touch_by == "person", literal(BY_PERSON)), else_=literal(BY_AI))


def _in_one_pass(session: Session, where: ColumnElement[bool]) -> Answered:
    """Each grouping set leaves the others' columns NULL, so the first non-NULL one names the
    row's split, and the empty set is every lead."""
    source = literal("source: ") + Lead.source
    s = Lead.first_response_s
    rows = session.execute(
        select(
            func.coalesce(source, HELD_SPLIT, TOUCH_SPLIT, literal(AROUND_THE_CLOCK)),
            func.count(),
            _how_many(s <= ANSWERED_FAST_S),
            _how_many(Lead.last_inbound_at.is_not(None)),
            func.percentile_disc(0.5).within_group(s),
            func.percentile_disc(0.9).within_group(s),
        )
        .where(where)
        .group_by(
            func.grouping_sets(tuple_(source), tuple_(HELD_SPLIT), tuple_(TOUCH_SPLIT), tuple_())
        )
    ).all()
    speeds = {row[0]: Speed(row[0], int(row[1]), seconds(row[4]), seconds(row[5])) for row in rows}
    every = next((row for row in rows if row[0] == AROUND_THE_CLOCK), None)
    sources = sorted(label for label in speeds if label.startswith("source: "))
    labels = [AT_ONCE, HELD, *sources, BY_AI, BY_PERSON]
    return Answered(
        leads=int(every[1]) if every else 0,
        within_60s=int(every[2]) if every else 0,
        texted_back=int(every[3]) if every else 0,
        around_the_clock=speeds.get(AROUND_THE_CLOCK, Speed(AROUND_THE_CLOCK, 0, None, None)),
        splits=[speeds.get(label, Speed(label, 0, None, None)) for label in labels],
    )


def _by_walking_the_index(session: Session, where: ColumnElement[bool]) -> Answered:
    """The splits counted by source in one pass; then each percentile read at its rank."""
    held, by_person = Lead.held_until.is_not(None), Lead.first_touch_by == "person"
    source = _not_an_index_key(session, Lead.source)
    rows = session.execute(
        select(
            source,
            func.count(),
            _how_many(Lead.first_response_s <= ANSWERED_FAST_S),
            _how_many(Lead.last_inbound_at.is_not(None)),
            _how_many(held),
            _how_many(by_person),
        )
        .where(where)
        .group_by(source)
        .order_by(source)
    ).all()
    leads, fast, texted_back, held_n, person_n = (
        sum(int(row[k]) for row in rows) for k in range(1, 6)
    )
    splits = [
        (AT_ONCE, ~held, leads - held_n),
        (HELD, held, held_n),
        *((f"source: {row[0]}", Lead.source == row[0], int(row[1])) for row in rows),
        (BY_AI, ~by_person, leads - person_n),
        (BY_PERSON, by_person, person_n),
    ]
    return Answered(
        leads=leads,
        within_60s=fast,
        texted_back=texted_back,
        around_the_clock=_ranked(session, AROUND_THE_CLOCK, where, leads),
        splits=[_ranked(session, label, and_(where, also), n) for label, also, n in splits],
    )


def _ranked(session: Session, label: str, where: ColumnElement[bool], n: int) -> Speed:
    return Speed(label, n, _at_rank(session, where, n, 0.5), _at_rank(session, where, n, 0.9))


def _at_rank(session: Session, where: ColumnElement[bool], n: int, p: float) -> float | None:
    """The value at rank ceil(p x n), walked to from the nearer end of the index."""
    if n == 0:
        return None
    rank = max(1, math.ceil(p * n))
    s = Lead.first_response_s
    if rank > n // 2:
        query = select(s).where(where).order_by(s.desc()).offset(n - rank)
    else:
        query = select(s).where(where).order_by(s).offset(rank - 1)
    return seconds(session.scalar(query.limit(1)))
