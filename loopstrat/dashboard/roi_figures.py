"""The ROI page's figures for one account and period, each computed in SQL over indexed columns
(leads by account and received_at, messages by account and created_at, a lead's messages by
lead_id): no rows are loaded. A lead's messages are found by lead_id alone, the outer query
having scoped the lead to the account: with account_id beside it SQLite's planner picks the
account index and reads every text of the account for each lead.

Percentiles are nearest-rank (the value at rank ceil(p x n)), read with ORDER BY ... OFFSET,
which both SQLite and PostgreSQL run the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import KeyedColumnElement

from loopstrat.config import Settings
from loopstrat.conversations.inbound import LEAD_TEXT_KIND
from loopstrat.conversations.texts import CONTRACTOR_KINDS
from loopstrat.models import Lead, Message

ANSWERED_FAST_S = 60


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    days: int


@dataclass(frozen=True)
class Speed:
    label: str
    leads: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class Cost:
    plan_usd: float
    sms_segments: int
    sms_usd: float
    ai_input_tokens: int
    ai_output_tokens: int
    ai_usd: float

    @property
    def total_usd(self) -> float:
        return round(self.plan_usd + self.sms_usd + self.ai_usd, 2)


@dataclass(frozen=True)
class Figures:
    leads: int
    answered: int
    around_the_clock: Speed
    splits: list[Speed]  # answered at once vs held for quiet hours, by source, by first touch
    answered_within_60s: float | None  # share of the period's leads
    reply_rate: float | None  # share of answered leads that texted back
    handoffs: int
    handoff_answer: Speed  # how fast a person answered a hand-off
    booked: int
    revenue_usd: float
    cost: Cost

    @property
    def roi_multiple(self) -> float | None:
        total = self.cost.total_usd
        return round(self.revenue_usd / total, 1) if total else None


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    """later - earlier in seconds, in SQL (each dialect spells it its own way)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def figures(session: Session, account_id: int, period: Period, settings: Settings) -> Figures:
    in_period = and_(
        Lead.account_id == account_id,
        Lead.received_at >= period.start,
        Lead.received_at < period.end,
    )
    speed = seconds_between(session, Lead.first_response_at, Lead.received_at)
    answered = and_(in_period, Lead.first_response_at.is_not(None))
    counts = _counts(session, in_period, speed)
    speeds = _speeds(session, speed, answered)
    return Figures(
        leads=counts.leads,
        answered=counts.answered,
        around_the_clock=speeds[0],
        splits=speeds[1:],
        answered_within_60s=_share(counts.fast, counts.leads),
        reply_rate=_share(counts.texted_back, counts.answered),
        handoffs=counts.handoffs,
        handoff_answer=_handoff_answer(session, in_period),
        booked=_count(session, _booked(account_id, period)),
        revenue_usd=_revenue(session, account_id, period),
        cost=_cost(session, account_id, period, settings),
    )


@dataclass(frozen=True)
class _Counts:
    leads: int
    answered: int
    fast: int
    texted_back: int
    handoffs: int


def _counts(
    session: Session, in_period: ColumnElement[bool], speed: ColumnElement[float]
) -> _Counts:
    """The period's counts in one pass over its leads."""
    answered = Lead.first_response_at.is_not(None)

    def how_many(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count(),
            how_many(answered),
            how_many(and_(answered, speed <= ANSWERED_FAST_S)),
            how_many(and_(answered, _texted_back())),
            how_many(Lead.handoff_at.is_not(None)),
        ).where(in_period)
    ).one()
    return _Counts(*(int(n) for n in row))


def _count(session: Session, where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(Lead).where(where)) or 0


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _percentile(
    session: Session, value: ColumnElement[float], where: ColumnElement[bool], n: int, p: float
) -> float | None:
    if n == 0:
        return None
    rank = max(1, math.ceil(p * n))
    query = select(value).select_from(Lead).where(where).order_by(value).offset(rank - 1).limit(1)
    found = session.scalar(query)
    return round(float(found), 1) if found is not None else None


def _speed(
    session: Session, label: str, value: ColumnElement[float], where: ColumnElement[bool]
) -> Speed:
    n = _count(session, where)
    median = _percentile(session, value, where, n, 0.5)
    return Speed(label, n, median, _percentile(session, value, where, n, 0.9))


AROUND_THE_CLOCK = "every lead, around the clock"
AT_ONCE, HELD = "answered at once", "held for quiet hours"
BY_AI, BY_PERSON = "first touch: AI or template", "first touch: a person"


def _speeds(
    session: Session, speed: ColumnElement[float], answered: ColumnElement[bool]
) -> list[Speed]:
    """Every split's count, median and p90 in one query: each answered lead once per split it
        falls in, ranked within its split (one scan; on SQLite a window function, on PostgreSQL
    its ordered-set aggregate, the faster there)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    query = _speeds_query(speed, answered, postgresql=postgresql)
    rows = {
        grp: Speed(grp, int(n), _seconds(median), _seconds(p90))
        for grp, n, median, p90 in session.execute(query)
    }
    sources = sorted(label for label in rows if label.startswith("source: "))
    labels = [AROUND_THE_CLOCK, AT_ONCE, HELD, *sources, BY_AI, BY_PERSON]
    return [rows.get(label, Speed(label, 0, None, None)) for label in labels]


def _speeds_query(
    speed: ColumnElement[float], answered: ColumnElement[bool], *, postgresql: bool
) -> Select[Any]:
    held = case((Lead.held_until.is_not(None), literal(HELD)), else_=literal(AT_ONCE))
    touch = case((_first_touch() == "person", literal(BY_PERSON)), else_=literal(BY_AI))
    source = literal("source: ", String) + Lead.source
    base = (
        select(
            speed.label("speed"), held.label("held"), source.label("source"), touch.label("touch")
        )
        .where(answered)
        .cte("base")
    )
    splits = union_all(
        select(literal(AROUND_THE_CLOCK).label("grp"), base.c.speed),
        *(select(column, base.c.speed) for column in (base.c.held, base.c.source, base.c.touch)),
    ).subquery("splits")
    if postgresql:
        # percentile_disc is nearest-rank: the first value whose place reaches the fraction.
        median_pg = func.percentile_disc(0.5).within_group(splits.c.speed)
        p90_pg = func.percentile_disc(0.9).within_group(splits.c.speed)
        return select(splits.c.grp, func.count(), median_pg, p90_pg).group_by(splits.c.grp)
    ranked = select(
        splits.c.grp,
        splits.c.speed,
        func.row_number().over(partition_by=splits.c.grp, order_by=splits.c.speed).label("rn"),
        func.count().over(partition_by=splits.c.grp).label("n"),
    ).subquery("ranked")
    # Nearest rank: the first value whose rank reaches p x n (in integers: no float error).
    median = func.min(case((ranked.c.rn * 2 >= ranked.c.n, ranked.c.speed)))
    p90 = func.min(case((ranked.c.rn * 10 >= ranked.c.n * 9, ranked.c.speed)))
    return select(ranked.c.grp, func.max(ranked.c.n), median, p90).group_by(ranked.c.grp)


def _seconds(value: Any) -> float | None:
    return round(float(value), 1) if value is not None else None


def _first_touch() -> KeyedColumnElement[str]:
    """Who wrote the first text the lead received: claude | template | person."""
    first = (
        select(func.coalesce(Message.drafted_by, literal("template")))
        .where(
            Message.lead_id == Lead.id,
            Message.direction == "out",
            Message.sent_at.is_not(None),
            Message.kind.not_in(CONTRACTOR_KINDS),
        )
        .order_by(Message.sent_at, Message.id)
        .limit(1)
        .correlate(Lead)
        .scalar_subquery()
    )
    return first  # type: ignore[return-value]


def _texted_back() -> ColumnElement[bool]:
    return (
        select(Message.id)
        .where(
            Message.lead_id == Lead.id,
            Message.direction == "in",
            Message.kind == LEAD_TEXT_KIND,
        )
        .correlate(Lead)
        .exists()
    )


def _handoff_answer(session: Session, in_period: ColumnElement[bool]) -> Speed:
    """From the hand-off to a person's first text after it."""
    first_person = (
        select(func.min(Message.created_at))
        .where(
            Message.lead_id == Lead.id,
            Message.drafted_by == "person",
            Message.created_at >= Lead.handoff_at,
        )
        .correlate(Lead)
        .scalar_subquery()
    )
    wait = seconds_between(session, first_person, Lead.handoff_at)
    answered = and_(in_period, Lead.handoff_at.is_not(None), first_person.is_not(None))
    return _speed(session, "a person answering a hand-off", wait, answered)


def _booked(account_id: int, period: Period) -> ColumnElement[bool]:
    return and_(
        Lead.account_id == account_id,
        Lead.status.in_(("booked", "completed")),
        Lead.booked_at >= period.start,
        Lead.booked_at < period.end,
    )


def _revenue(session: Session, account_id: int, period: Period) -> float:
    cents = session.scalar(
        select(func.coalesce(func.sum(Lead.job_value_cents), 0)).where(_booked(account_id, period))
    )
    return round(int(cents or 0) / 100, 2)  # PostgreSQL sums a bigint to a Decimal


def _cost(session: Session, account_id: int, period: Period, settings: Settings) -> Cost:
    """Texts (alerts to the contractor too: Twilio bills them alike) and drafts made in the
    period; the plan prorated to its days."""
    row = session.execute(
        select(
            func.coalesce(
                func.sum(case((Message.sent_at.is_not(None), Message.segments), else_=0)), 0
            ),
            func.coalesce(func.sum(Message.ai_input_tokens), 0),
            func.coalesce(func.sum(Message.ai_output_tokens), 0),
        ).where(
            Message.account_id == account_id,
            Message.created_at >= period.start,
            Message.created_at < period.end,
            or_(Message.direction == "out", Message.ai_input_tokens.is_not(None)),
        )
    ).one()
    segments, tokens_in, tokens_out = int(row[0]), int(row[1]), int(row[2])
    ai_usd = (
        tokens_in * settings.ai_input_usd_per_mtok + tokens_out * settings.ai_output_usd_per_mtok
    ) / 1e6
    return Cost(
        plan_usd=round(settings.plan_price_usd * period.days / 30, 2),
        sms_segments=segments,
        sms_usd=round(segments * settings.sms_segment_price_usd, 2),
        ai_input_tokens=tokens_in,
        ai_output_tokens=tokens_out,
        ai_usd=round(ai_usd, 2),
    )
