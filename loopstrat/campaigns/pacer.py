"""The pacer: a running campaign's one outbox row (`campaign_tick`). Each tick releases the next
plans at the account's pace (`sends_per_second`) and under its daily cap, only to people whose
quiet hours allow a text now, then comes due again when the next release may go. Released
plans are handed out by their own jobs (campaigns/handout.py), several at once on `bulk`.

Before releasing it reads the campaign's last sends: opt-outs over 2% or carrier filtering
(Twilio 30007, 30034) over 5% pause it and alert the contractor, because carriers suspend
numbers that go on.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.campaigns.allowed_hours import FirstAllowed
from loopstrat.campaigns.reactivation import pause
from loopstrat.clock import utcnow
from loopstrat.conversations.alerts import store_alert
from loopstrat.db import begin_writing
from loopstrat.models import Account, Campaign, Contact, Enrollment, Message
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime

log = logging.getLogger(__name__)

TICK_S = 1.0
SCAN = 200  # plans read a page at a time: those in quiet hours now move to their morning
PAGES = 10
JUDGE_LAST = 200
JUDGE_FROM = 50  # fewer sends than this say too little to pause on
OPT_OUT_LIMIT = 0.02
CARRIER_LIMIT = 0.05
CARRIER_FILTERED = (30007, 30034)  # filtered as spam; unregistered 10DLC traffic
DONE_CHECK_S = 5.0
NO_HOUR_RETRY = timedelta(days=1)  # no allowed hour soon where they are: looked at tomorrow
MAX_LAG = timedelta(seconds=2)  # behind by more than this, the pace restarts from now


@dataclass(frozen=True)
class Objection:
    reason: str


def pace(rt: Runtime, campaign_id: int) -> str:
    ref, now = str(campaign_id), utcnow()
    with rt.sessions() as session:
        begin_writing(session)
        campaign = session.get(Campaign, campaign_id)
        if campaign is None or campaign.state != "running":
            outbox.finish(session, Kind.CAMPAIGN_TICK, ref, reason="not_running")
            session.commit()
            return "not_running"
        account = session.get_one(Account, campaign.account_id)
        objection = objection_to(session, campaign)
        if objection is not None:
            pause(session, campaign, objection.reason)
            outbox.finish(session, Kind.CAMPAIGN_TICK, ref, reason="auto_paused")
            _alert(session, account, campaign, objection)
            session.commit()
            log.warning("campaign_id=%s auto-paused", campaign_id)
            return "paused"
        tick = outbox.find(session, Kind.CAMPAIGN_TICK, ref)
        planned = tick.due_at if tick is not None else now
        result, next_at = _release(session, account, campaign, now, planned)
        if next_at is None:
            outbox.finish(session, Kind.CAMPAIGN_TICK, ref)
        else:
            outbox.postpone(session, Kind.CAMPAIGN_TICK, ref, next_at)
        session.commit()
    return result


def _release(
    session: Session, account: Account, campaign: Campaign, now: datetime, planned: datetime
) -> tuple[str, datetime | None]:
    """Release this tick's plans; what happened, and when the next tick is due (None: done).
    The next tick is planned from this one's planned time, not from now, so the scheduler's
    and the queue's few milliseconds a tick do not add up into a slower pace; a tick far
    behind (after a pause, or a stopped worker) starts the pace again from now."""
    room = account.daily_send_cap - released_today(session, account, now)
    if room <= 0:
        return "daily_cap", _next_local_midnight(account, now)
    rate = max(account.sends_per_second, 0.001)
    count = min(room, max(1, math.floor(rate * TICK_S)))
    allowed = FirstAllowed(account.timezone, now)
    released = 0
    for _page in range(PAGES):
        plans = _due_plans(session, campaign, now)
        if not plans:
            break
        for plan, phone, zip5 in plans:
            start = allowed.start(phone, zip5) or now + NO_HOUR_RETRY
            if start > now:
                plan.due_at = start  # in quiet hours now: looked at again when they end
                continue
            plan.released_at = now
            outbox.schedule(
                session, account_id=account.id, kind=Kind.CAMPAIGN_PLAN, ref_id=str(plan.id)
            )
            released += 1
            if released == count:
                return "released", _next_tick(planned, now, count / rate)
        session.flush()  # the next page leaves out those moved to their morning
    else:  # a zone's evening left many unsent: move the rest on the next ticks, lock short
        return "moving", _next_tick(planned, now, count / rate)
    waiting = session.scalar(
        select(func.min(Enrollment.due_at)).where(
            Enrollment.campaign_id == campaign.id,
            Enrollment.state == "pending",
            Enrollment.released_at.is_(None),
        )
    )
    if waiting is not None:
        later = max(waiting, now + timedelta(seconds=count / rate))
        return ("released" if released else "waiting"), later
    if _any_pending(session, campaign):
        return "finishing", now + timedelta(seconds=DONE_CHECK_S)
    campaign.state = "done"
    return "done", None


def _next_tick(planned: datetime, now: datetime, spacing_s: float) -> datetime:
    step = timedelta(seconds=spacing_s)
    return planned + step if planned + step > now - MAX_LAG else now + step


def _due_plans(
    session: Session, campaign: Campaign, now: datetime
) -> list[tuple[Enrollment, str, str | None]]:
    rows = session.execute(
        select(Enrollment, Contact.phone, Contact.zip)
        .join(Contact, Contact.id == Enrollment.contact_id)
        .where(
            Enrollment.campaign_id == campaign.id,
            Enrollment.state == "pending",
            Enrollment.released_at.is_(None),
            Enrollment.due_at <= now,
        )
        .order_by(Enrollment.due_at, Enrollment.id)
        .limit(SCAN)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def released_today(session: Session, account: Account, now: datetime) -> int:
    """Plans released since midnight on the account's clock, across its campaigns."""
    zone = ZoneInfo(account.timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)
    return int(
        session.scalar(
            select(func.count()).where(
                Enrollment.account_id == account.id, Enrollment.released_at >= midnight
            )
        )
        or 0
    )


def objection_to(session: Session, campaign: Campaign) -> Objection | None:
    """Whether the campaign's last sends show carriers filtering it or people opting out."""
    since = campaign.judged_from or campaign.launched_at
    last = (
        select(Message.error_code, Message.sent_at, Message.contact_id)
        .join(Enrollment, Enrollment.message_id == Message.id)
        .where(
            Enrollment.campaign_id == campaign.id,
            Message.account_id == campaign.account_id,
            Message.sent_at.is_not(None),
            Message.sent_at >= since,
        )
        .order_by(Message.sent_at.desc())
        .limit(JUDGE_LAST)
        .subquery()
    )
    counted = session.execute(
        select(
            func.count(),
            func.count().filter(last.c.error_code.in_(CARRIER_FILTERED)),
            func.count(Contact.id).filter(Contact.opted_out_at >= last.c.sent_at),
        ).select_from(last.outerjoin(Contact, Contact.id == last.c.contact_id))
    ).one()
    sends, filtered, opted_out = (int(n or 0) for n in counted)
    if sends < JUDGE_FROM:
        return None
    if opted_out / sends > OPT_OUT_LIMIT:
        share = f"{opted_out / sends:.1%}"
        return Objection(f"opt-outs {share} of the last {sends} texts (limit 2%)")
    if filtered / sends > CARRIER_LIMIT:
        share = f"{filtered / sends:.1%}"
        return Objection(f"carriers filtered {share} of the last {sends} texts (limit 5%)")
    return None


def _any_pending(session: Session, campaign: Campaign) -> bool:
    return bool(
        session.scalar(
            select(Enrollment.id)
            .where(Enrollment.campaign_id == campaign.id, Enrollment.state == "pending")
            .limit(1)
        )
    )


def _next_local_midnight(account: Account, now: datetime) -> datetime:
    zone = ZoneInfo(account.timezone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(), tzinfo=zone) + timedelta(seconds=1)


def _alert(session: Session, account: Account, campaign: Campaign, objection: Objection) -> None:
    body = (
        f'Loopstrat paused your campaign "{campaign.name}": {objection.reason}. Carriers '
        "suspend numbers that go on. Resume it from the dashboard when you are ready."
    )
    key = f"campaign-paused:{campaign.id}:{utcnow():%Y%m%d%H%M%S}"
    store_alert(session, key=key, account=account, lead=None, body=body, sent_by_caller=False)
