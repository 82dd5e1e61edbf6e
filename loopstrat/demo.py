"""Demo leads for `make run`'s first start, so a newcomer's dashboard shows a living product.

Clearly marked (names start "Demo:", source "demo", 555-01xx numbers that reach no one) and
written straight to the database: nothing is texted. Seeded once, with the demo account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from loopstrat.clock import utcnow
from loopstrat.leads.first_touch import stamp_first_touch
from loopstrat.models import Account, ConsentEvent, Contact, Lead, Message
from loopstrat.texts.checks import with_first_message_duties
from loopstrat.texts.kinds import TextKind


@dataclass(frozen=True)
class DemoLead:
    name: str
    phone: str
    inquiry: str
    days_ago: int
    at: time  # on the account's clock: by day, answered at once; at night, held until 8:00
    answered_after_s: int
    status: str
    thread: tuple[tuple[str, str, str], ...]  # (direction, author, body) after the first reply
    job_value_cents: int | None = None
    held_overnight: bool = False
    waits_for_person: bool = False


DEMO_LEADS = (
    DemoLead("Demo: Ana Ruiz", "+18015550101", "Water heater leaking in the garage", 2,
             time(10, 15), 14,
             "booked", (("in", "lead", "Yes please, Thursday morning?"),
                        ("out", "person", "Thursday 8am it is. Mike calls on his way.")),
             job_value_cents=185_000),
    DemoLead("Demo: Ben Ortiz", "+18015550102", "Kitchen sink clogged, how much to clear it?", 1,
             time(16, 5), 9, "replied", (("in", "lead", "What would that cost?"),),
             waits_for_person=True),
    DemoLead("Demo: Cara Lee", "+18015550103", "No hot water since last night", 2,
             time(22, 40), 0, "responded", (), held_overnight=True),
    DemoLead("Demo: Dan Fox", "+18015550104", "Quote for a new toilet", 5, time(13, 30), 21,
             "lost",
             (("in", "lead", "Found someone else, thanks"),)),
)  # fmt: skip


def seed_demo_leads(session: Session, account: Account) -> int:
    """Adds the demo leads to the caller's transaction; returns how many."""
    now = utcnow()
    for demo in DEMO_LEADS:
        _add(session, account, demo, now)
    return len(DEMO_LEADS)


def _add(session: Session, account: Account, demo: DemoLead, now: datetime) -> None:
    received, answered = _times(demo, now, ZoneInfo(account.timezone))
    contact = Contact(account_id=account.id, phone=demo.phone, name=demo.name, consent_at=received)
    session.add(contact)
    session.flush()
    session.add(
        ConsentEvent(account_id=account.id, contact_id=contact.id, kind="inquiry", source="demo",
                     text_shown=account.consent_text, created_at=received)
    )  # fmt: skip
    lead = Lead(
        account_id=account.id, contact_id=contact.id, inquiry=demo.inquiry, source="demo",
        received_at=received, consent_at=received, response_state="responded",
        status=demo.status, job_value_cents=demo.job_value_cents,
        held_until=answered if demo.held_overnight else None,
        hold_reason="quiet_hours" if demo.held_overnight else None,
        booked_at=answered + timedelta(hours=1) if demo.status == "booked" else None,
        handoff_at=now - timedelta(minutes=20) if demo.waits_for_person else None,
        handoff_reason="asked about price" if demo.waits_for_person else None,
        owner="human" if demo.status == "booked" else "ai",
    )  # fmt: skip
    session.add(lead)
    session.flush()
    first_name, asked = demo.name.split()[1], demo.inquiry.lower()
    first = with_first_message_duties(
        f"Hi {first_name}, this is {account.name}. We got your request: {asked}.", account.name
    )
    texts = (("out", "template", first), *demo.thread)
    for n, (direction, author, body) in enumerate(texts):
        at = answered + timedelta(minutes=7 * n)
        msg = _text(account, contact, lead, direction, author, body, at)
        session.add(msg)
        session.flush()
        if direction == "out":
            stamp_first_touch(session, msg.id)
        else:
            lead.last_inbound_at = at


def _times(demo: DemoLead, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """When the demo lead came and was answered, as the real gates would have had it: a lead
    of the night is answered at 8:00 the next morning."""
    day = now.astimezone(zone).date() - timedelta(days=demo.days_ago)
    received = datetime.combine(day, demo.at, zone)
    if demo.held_overnight:
        return received, datetime.combine(day + timedelta(days=1), time(8), zone)
    return received, received + timedelta(seconds=demo.answered_after_s)


def _text(account: Account, contact: Contact, lead: Lead, direction: str, author: str,
          body: str, at: datetime) -> Message:  # fmt: skip
    out = direction == "out"
    return Message(
        account_id=account.id, contact_id=contact.id, lead_id=lead.id, direction=direction,
        kind=(TextKind.FIRST_REPLY if author == "template" else TextKind.HUMAN_REPLY)
        if out
        else TextKind.LEAD_TEXT,
        to_phone=contact.phone if out else account.twilio_number,
        from_phone=account.twilio_number if out else contact.phone,
        body=body, status="delivered" if out else "received", drafted_by=author,
        segments=1 if out else None, created_at=at, sent_at=at if out else None,
    )  # fmt: skip
