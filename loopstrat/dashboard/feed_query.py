"""The lead feed's rows: one indexed query per page, newest first, filtered in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from loopstrat.compliance.holds import WHY
from loopstrat.conversations.handoff import hand_off_open
from loopstrat.models import Contact, Lead

PAGE_SIZE = 50
STATUSES = ("new", "responded", "replied", "qualified", "booked", "lost", "completed")


@dataclass(frozen=True)
class FeedFilter:
    status: str = ""
    source: str = ""
    q: str = ""


@dataclass(frozen=True)
class FeedRow:
    id: int
    name: str
    phone: str
    source: str
    status: str
    who: str  # "AI" | "person" | "waits for a person"
    speed: str  # "answered in 12 s", "held for quiet hours until 8:00", "not answered yet"
    received: str  # on the account's clock


def feed_rows(
    session: Session, account_id: int, zone: str, ai_mode: str, wanted: FeedFilter
) -> list[FeedRow]:
    query = (
        select(Lead, Contact.name, Contact.phone)
        .join(Contact, Contact.id == Lead.contact_id)
        .where(Lead.account_id == account_id, *_filters(wanted, account_id))
        .order_by(_newest(wanted), Lead.id.desc())
        .limit(PAGE_SIZE)
    )
    tz = ZoneInfo(zone)
    return [
        FeedRow(
            id=lead.id,
            name=name or "(no name)",
            phone=phone,
            source=lead.source,
            status=lead.status,
            who=who_has(lead, ai_mode),
            speed=speed_words(lead, tz),
            received=f"{lead.received_at.astimezone(tz):%b %-d %-H:%M %Z}",
        )
        for lead, name, phone in session.execute(query)
    ]


def _filters(wanted: FeedFilter, account_id: int) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if wanted.status:
        found.append(Lead.status == wanted.status)
    if wanted.source:
        found.append(Lead.source == wanted.source)
    q = wanted.q.strip()
    if q:
        found.append(Lead.contact_id.in_(_matching_contacts(account_id, q)))
    return found


def _newest(wanted: FeedFilter) -> ColumnElement[Any]:
    """Newest first. With a search, by an expression no index provides: SQLite would
    otherwise walk the received_at index through every lead, testing each against the few
    matching contacts, rather than fetch those contacts' leads and sort them."""
    if wanted.q.strip():
        return func.coalesce(Lead.received_at, Lead.received_at).desc()
    return Lead.received_at.desc()


def _matching_contacts(account_id: int, q: str) -> Select[tuple[int]]:
    """Searched in the contacts table alone, then their leads by index: a LIKE over the
    join would read every lead of the account for a rare name."""
    digits = "".join(ch for ch in q if ch.isdigit())
    by_name = func.lower(Contact.name).contains(q.lower(), autoescape=True)
    # A phone is searched by its digits: "(801) 555" finds +18015550123.
    match = or_(by_name, Contact.phone.contains(digits)) if digits else by_name
    return select(Contact.id).where(Contact.account_id == account_id, match)  # type: ignore[return-value]


def sources(session: Session, account_id: int) -> list[str]:
    query = select(Lead.source).where(Lead.account_id == account_id).distinct()
    return sorted(session.scalars(query))


def waiting_for_a_person(session: Session, account_id: int) -> int:
    """Hand-offs no person has answered since (conversations.handoff.hand_off_open, in SQL)."""
    open_hand_off = and_(
        Lead.handoff_at.is_not(None),
        or_(Lead.last_human_reply_at.is_(None), Lead.last_human_reply_at < Lead.handoff_at),
    )
    query = select(func.count()).where(Lead.account_id == account_id, open_hand_off)
    return session.scalar(query) or 0


def who_has(lead: Lead, ai_mode: str) -> str:
    if hand_off_open(lead):
        return "waits for a person"
    return "person" if lead.owner == "human" or ai_mode == "off" else "AI"


def speed_words(lead: Lead, tz: ZoneInfo) -> str:
    if lead.first_response_at is not None:
        words = f"answered in {_duration(lead.first_response_at - lead.received_at)}"
        return f"{words} (held for quiet hours)" if lead.held_until else words
    if lead.response_state == "held" and lead.held_until is not None:
        why = WHY.get(lead.hold_reason or "", "held")
        return f"{why} until {lead.held_until.astimezone(tz):%-H:%M}"
    if lead.response_state == "held":
        return "held for review (a flood of posts)"
    if lead.response_state in ("suppressed", "failed"):
        return f"not texted ({lead.response_state})"
    return "not answered yet"


def _duration(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
