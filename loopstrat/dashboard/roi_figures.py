"""The ROI page's figures for one account and period, each computed in SQL over indexed columns:
no rows are loaded. Speed to lead is roi_speed's. Costs are summed from a covering index of
billed texts, booked jobs from one of booked leads; a hand-off's answer is found among the
lead's texts by lead_id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session

from loopstrat.config import Settings
from loopstrat.dashboard.roi_speed import Speed, answered, received_in, seconds
from loopstrat.models import Lead, Message, billed


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    days: int


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
    leads = _count(session, in_period)
    first = answered(session, account_id, period.start, period.end)
    handed_off = and_(
        received_in(session, account_id, period.start, period.end), Lead.handoff_at.is_not(None)
    )
    booked, revenue_usd = _booked(session, account_id, period)
    return Figures(
        leads=leads,
        answered=first.leads,
        around_the_clock=first.around_the_clock,
        splits=first.splits,
        answered_within_60s=_share(first.within_60s, leads),
        reply_rate=_share(first.texted_back, first.leads),
        handoffs=_count(session, handed_off),
        handoff_answer=_handoff_answer(session, handed_off),
        booked=booked,
        revenue_usd=revenue_usd,
        cost=_cost(session, account_id, period, settings),
    )


def _count(session: Session, where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(Lead).where(where)) or 0


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _handoff_answer(session: Session, handed_off: ColumnElement[bool]) -> Speed:
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
    waits = select(wait.label("s")).where(handed_off, first_person.is_not(None)).subquery()
    # Ranked in one pass: each wait is a search of the lead's texts, which three queries (the
    # count, then each rank by OFFSET) would make three times.
    ranked = select(
        waits.c.s,
        func.row_number().over(order_by=waits.c.s).label("rank"),
        func.count().over().label("n"),
    ).subquery()
    n, median, p90 = session.execute(
        select(
            func.coalesce(func.max(ranked.c.n), 0),
            func.min(case((ranked.c.rank * 2 >= ranked.c.n, ranked.c.s))),
            func.min(case((ranked.c.rank * 10 >= ranked.c.n * 9, ranked.c.s))),
        )
    ).one()
    return Speed("a person answering a hand-off", int(n), seconds(median), seconds(p90))


def _booked(session: Session, account_id: int, period: Period) -> tuple[int, float]:
    """Jobs booked in the period (by when they were booked) and their value in dollars."""
    jobs, cents = session.execute(
        select(func.count(), func.coalesce(func.sum(Lead.job_value_cents), 0)).where(
            Lead.account_id == account_id,
            Lead.status.in_(("booked", "completed")),
            Lead.booked_at.is_not(None),  # the booked index's own condition
            Lead.booked_at >= period.start,
            Lead.booked_at < period.end,
        )
    ).one()
    return int(jobs), round(int(cents or 0) / 100, 2)  # PostgreSQL sums a bigint to a Decimal


def _cost(session: Session, account_id: int, period: Period, settings: Settings) -> Cost:
    """Texts (alerts to the contractor too: Twilio bills them alike) and drafts made in the
    period; the plan prorated to its days."""
    row = session.execute(
        select(
            func.coalesce(func.sum(Message.segments), 0),
            func.coalesce(func.sum(Message.ai_input_tokens), 0),
            func.coalesce(func.sum(Message.ai_output_tokens), 0),
        ).where(
            Message.account_id == account_id,
            Message.created_at >= period.start,
            Message.created_at < period.end,
            billed(),  # the billed index's own condition, so that it serves the sums
        )
    ).one()
    segments, tokens_in, tokens_out = (int(n or 0) for n in row)
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
