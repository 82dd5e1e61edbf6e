"""What a campaign did, for `loopstrat campaign show` and the dashboard: planned, sent,
delivered, failed, suppressed and skipped by reason, clicked, replied, opted out, and the jobs
booked after a text with their revenue. Reads only, scoped by account."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from loopstrat.models import Campaign, Contact, Enrollment, Lead, LinkClick, Message

DELIVERED = ("delivered", "read")
FAILED = ("failed", "undelivered")
ON_ITS_WAY = ("accepted", "queued", "sending", "sent", "claimed", "unknown")


@dataclass
class CampaignFigures:
    campaign_id: int
    name: str
    kind: str
    state: str
    planned: int = 0  # due later
    texted: int = 0  # reached Twilio (delivered, failed or on its way)
    delivered: int = 0
    failed: int = 0
    waiting: int = 0  # written, held for quiet hours or the frequency cap
    suppressed: Counter[str] = field(default_factory=Counter)  # the gate refused
    skipped: Counter[str] = field(default_factory=Counter)  # no text was owed
    clicked: int = 0
    replied: int = 0
    opted_out: int = 0
    booked: int = 0
    revenue_cents: int = 0
    lift: Lift | None = None  # reactivation: the texted against the held back


@dataclass(frozen=True)
class Lift:
    """Booked revenue per contact since launch, texted against held back, in dollars, with a
    95% interval for the difference (normal approximation, Welch's standard error)."""

    texted: int
    held_back: int
    texted_per_contact: float
    held_back_per_contact: float
    difference: float
    low: float | None
    high: float | None
    verdict: str


def campaigns_of(session: Session, account_id: int) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign).where(Campaign.account_id == account_id).order_by(Campaign.id)
        )
    )


def figures(session: Session, account_id: int, campaign: Campaign) -> CampaignFigures:
    out = CampaignFigures(campaign.id, campaign.name, campaign.kind, campaign.state)
    mine = (Enrollment.account_id == account_id, Enrollment.campaign_id == campaign.id)
    for state, reason, count in session.execute(
        select(Enrollment.state, Enrollment.reason, func.count())
        .where(*mine)
        .group_by(Enrollment.state, Enrollment.reason)
    ):
        if state == "pending":
            out.planned += count
        elif state in ("skipped", "cancelled"):
            out.skipped[reason or state] += count
    for status, reason, count in session.execute(
        select(Message.status, Message.reason, func.count())
        .join(Enrollment, Enrollment.message_id == Message.id)
        .where(*mine, Message.account_id == account_id)
        .group_by(Message.status, Message.reason)
    ):
        _count_text(out, status, reason, count)
    out.clicked = (
        session.scalar(
            select(func.count(distinct(LinkClick.enrollment_id)))
            .join(Enrollment, Enrollment.id == LinkClick.enrollment_id)
            .where(*mine, LinkClick.account_id == account_id)
        )
        or 0
    )
    _after_texts(session, account_id, campaign, out)
    if campaign.kind == "reactivation" and campaign.launched_at is not None:
        out.lift = lift(session, account_id, campaign)
    return out


MIN_GROUP = 30  # fewer contacts than this on either side say nothing either way


def lift(session: Session, account_id: int, campaign: Campaign) -> Lift:
    per_contact = (
        select(Lead.contact_id, func.sum(Lead.job_value_cents).label("cents"))
        .where(Lead.account_id == account_id, Lead.booked_at > campaign.launched_at)
        .group_by(Lead.contact_id)
        .subquery()
    )
    cents = func.coalesce(per_contact.c.cents, 0)
    held = Enrollment.state == "held_back"
    groups = {
        bool(row[0]): (int(row[1]), float(row[2] or 0) / 100, float(row[3] or 0) / 10_000)
        for row in session.execute(
            select(held, func.count(), func.sum(cents), func.sum(cents * cents))
            .select_from(Enrollment)
            .outerjoin(per_contact, per_contact.c.contact_id == Enrollment.contact_id)
            .where(Enrollment.account_id == account_id, Enrollment.campaign_id == campaign.id)
            .group_by(held)
        )
    }
    return _lift(groups.get(False, (0, 0.0, 0.0)), groups.get(True, (0, 0.0, 0.0)))


def _lift(texted: tuple[int, float, float], held: tuple[int, float, float]) -> Lift:
    """From (contacts, sum, sum of squares) of each group's revenue per contact."""
    (n_t, s_t, q_t), (n_h, s_h, q_h) = texted, held
    mean_t, mean_h = (s_t / n_t if n_t else 0.0), (s_h / n_h if n_h else 0.0)
    diff = mean_t - mean_h
    if n_t < MIN_GROUP or n_h < MIN_GROUP:
        verdict = f"too few contacts to tell (each group needs {MIN_GROUP})"
        return Lift(n_t, n_h, mean_t, mean_h, diff, None, None, verdict)
    var_t = max(0.0, (q_t - n_t * mean_t**2) / (n_t - 1))
    var_h = max(0.0, (q_h - n_h * mean_h**2) / (n_h - 1))
    margin = 1.96 * math.sqrt(var_t / n_t + var_h / n_h)
    low, high = diff - margin, diff + margin
    if low > 0:
        verdict = "the texts brought more booked revenue than holding back"
    elif high < 0:
        verdict = "the held-back group booked more"
    else:
        verdict = "no clear difference yet"
    return Lift(n_t, n_h, mean_t, mean_h, diff, low, high, verdict)


def _count_text(out: CampaignFigures, status: str, reason: str | None, count: int) -> None:
    if status in DELIVERED:
        out.delivered += count
    elif status in FAILED:
        out.failed += count
    if status in DELIVERED + FAILED + ON_ITS_WAY:
        out.texted += count
    elif status in ("suppressed", "cancelled"):
        out.suppressed[reason or status] += count
    elif status == "deferred":
        out.waiting += count


def _after_texts(
    session: Session, account_id: int, campaign: Campaign, out: CampaignFigures
) -> None:
    """What the texted contacts did after their first text from this campaign."""
    first = (
        select(Enrollment.contact_id, func.min(Message.sent_at).label("texted_at"))
        .join(Message, Message.id == Enrollment.message_id)
        .where(
            Enrollment.account_id == account_id,
            Enrollment.campaign_id == campaign.id,
            Message.sent_at.is_not(None),
        )
        .group_by(Enrollment.contact_id)
        .subquery()
    )
    out.replied = (
        session.scalar(
            select(func.count(distinct(Message.contact_id))).where(
                Message.account_id == account_id,
                Message.direction == "in",
                Message.route == "reply",  # not STOP, START or HELP
                Message.contact_id == first.c.contact_id,
                Message.created_at > first.c.texted_at,
            )
        )
        or 0
    )
    out.opted_out = (
        session.scalar(
            select(func.count()).where(
                Contact.account_id == account_id,
                Contact.id == first.c.contact_id,
                Contact.opted_out_at > first.c.texted_at,
            )
        )
        or 0
    )
    booked = session.execute(
        select(func.count(), func.coalesce(func.sum(Lead.job_value_cents), 0)).where(
            Lead.account_id == account_id,
            Lead.contact_id == first.c.contact_id,
            Lead.booked_at > first.c.texted_at,
        )
    ).one()
    out.booked, out.revenue_cents = int(booked[0] or 0), int(booked[1] or 0)
