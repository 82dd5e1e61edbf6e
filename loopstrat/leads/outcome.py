"""What became of a lead, as the contractor marks it: qualified, booked (with the job's value),
lost, or job completed. Booked and completed times feed the ROI page and review requests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.campaigns.reviews import NoReviewLink, plan_review_request
from loopstrat.clock import utcnow
from loopstrat.conversations.outcomes import REASONS
from loopstrat.journal import note_change
from loopstrat.models import Account, Lead
from loopstrat.runtime import Runtime

MARKS = ("qualified", "booked", "lost", "completed")
MAX_JOB_DOLLARS = Decimal(10_000_000)


class MarkRefused(ValueError):
    """Why the lead cannot be marked so, in words for the person."""


def job_value_cents(dollars: str) -> int:
    """'1,250.50' or '$1250.5' -> 125050; anything else is refused with a reason."""
    cleaned = dollars.strip().lstrip("$").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise MarkRefused(
            "the job value must be an amount in dollars, like 1250 or 1250.50"
        ) from None
    if not value.is_finite() or value <= 0 or value > MAX_JOB_DOLLARS:
        raise MarkRefused("the job value must be more than $0 and at most $10,000,000")
    if value != value.quantize(Decimal("0.01")):
        raise MarkRefused("the job value has at most two decimals (cents)")
    return int(value * 100)


def mark_lead(
    rt: Runtime, *, account_id: int, lead_id: int, status: str, job_value: str = ""
) -> str:
    """Mark the lead; what was planned because of it, in words ("" for nothing). A job
    completed plans its review request (loopstrat/campaigns/reviews.py)."""
    if status not in MARKS:
        raise MarkRefused(f"a lead can be marked {', '.join(MARKS)}")
    cents = job_value_cents(job_value) if status == "booked" or job_value.strip() else None
    with rt.sessions() as session:
        lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.account_id == account_id))
        if lead is None:
            raise MarkRefused(f"account {account_id} has no lead {lead_id}")
        now = utcnow()
        lead.status = status
        if cents is not None:
            lead.job_value_cents = cents
        if status == "booked":
            lead.booked_at = lead.booked_at or now
        planned = ""
        if status == "completed":
            lead.completed_at = lead.completed_at or now
            lead.booked_at = lead.booked_at or now  # a finished job was booked at the latest now
            planned = _plan_review(session, lead, now)
        note_change(session, account_id, "lead", lead.id)
        session.commit()
    return planned


def _plan_review(session: Session, lead: Lead, now: datetime) -> str:
    account = session.get_one(Account, lead.account_id)
    try:
        request = plan_review_request(session, account, lead, now)
    except NoReviewLink as exc:
        return f"No review request: {exc}."
    if request.state in ("skipped", "cancelled"):
        return f"No review request: {REASONS.get(request.reason or '', request.reason)}."
    zone = ZoneInfo(account.timezone)
    if request.state == "handed" and request.handed_at is not None:
        return f"Its review request went on {request.handed_at.astimezone(zone):%b %-d %-H:%M %Z}."
    return f"Review request planned for {request.due_at.astimezone(zone):%b %-d %-H:%M %Z}."
