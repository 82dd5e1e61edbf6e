"""The gates as properties: across zones, states, clocks (DST included) and send histories.

The oracle is the law as written here (8:00-21:00 local, 20:00 where FL, OK, MD or WA law may
apply, every zone of the recipient), not the gate's own tables.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loopstrat.compliance import (
    CONFIRMATION,
    JOB_FOLLOW_UP,
    MARKETING,
    REPLY,
    Allow,
    Block,
    Defer,
    Recipient,
    may_text,
)
from loopstrat.compliance.solicitation import STATES as SOLICITATION
from loopstrat.phones import recipient_place

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Pacific/Guam",
    "America/Toronto",
    "America/St_Johns",
]
STATES = ["FL", "OK", "MD", "WA", "UT", "TX", "NY", "CA"]
EIGHT_PM_STATES = {"FL", "OK", "MD", "WA"}
# Twilio may hold a text up to its ValidityPeriod; the gate leaves it at least a minute.
LEAST_VALIDITY = timedelta(seconds=60)
CAP = 3

moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
recipients = st.builds(
    Recipient,
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True).map(tuple),
    states=st.frozensets(st.sampled_from(STATES), max_size=2),
    consent=st.booleans(),
    marketing_consent=st.booleans(),
    opted_out=st.booleans(),
    follow_up_consent=st.booleans(),
)
purposes = st.sampled_from([REPLY, JOB_FOLLOW_UP, MARKETING, CONFIRMATION])
# The consent each purpose needs, written out apart from the gate.
NEEDS = {
    REPLY: lambda r: r.consent,
    JOB_FOLLOW_UP: lambda r: r.consent and r.follow_up_consent,
    MARKETING: lambda r: r.marketing_consent,
}
DENVER = Recipient(("America/Denver",), frozenset({"UT"}), True, True, False)
MIAMI = Recipient(("America/New_York",), frozenset({"FL"}), True, True, False)


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def at(zone: str, *fields: int) -> datetime:
    """A wall-clock time in a zone, as UTC."""
    return datetime(*fields, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def lawful(moment: datetime, recipient: Recipient, purpose: str = REPLY) -> bool:
    last_hour = 20 if recipient.states & EIGHT_PM_STATES else 21
    if not all(8 <= local(moment, zone).hour < last_hour for zone in recipient.zones):
        return False
    if purpose != MARKETING:
        return True
    for zone in recipient.zones:  # an offer also keeps each state's solicitation calendar
        there = local(moment, zone)
        for state in recipient.states & set(SOLICITATION):
            window = SOLICITATION[state].window_on(there.date(), state)
            if window is None or not window[0] <= there.time() < window[1]:
                return False
    return True


def gate(recipient, purpose, now, *, active=True, sent=()):
    return may_text(
        recipient=recipient,
        purpose=purpose,
        now=now,
        account_active=active,
        recent_sends=list(sent),
        frequency_cap=CAP,
    )


@given(recipient=recipients, purpose=purposes, now=moments, active=st.booleans())
def test_nothing_goes_without_consent_after_opt_out_or_from_an_inactive_account(
    recipient, purpose, now, active
):
    decision = gate(recipient, purpose, now, active=active)
    may_go_some_time = not isinstance(decision, Block)
    if may_go_some_time:
        assert active
    if may_go_some_time and purpose != CONFIRMATION:
        assert not recipient.opted_out
        assert NEEDS[purpose](recipient)  # a review request: consent that covered follow-ups
    if purpose == CONFIRMATION and active:
        assert decision == Allow()  # the one answer to STOP or HELP goes at once, any hour


@settings(max_examples=400)
@given(recipient=recipients, purpose=st.sampled_from([REPLY, MARKETING]), now=moments)
@example(DENVER, REPLY, at("America/Denver", 2026, 1, 15, 20, 59))
@example(DENVER, REPLY, at("America/Denver", 2026, 1, 15, 20, 59, 30))
@example(DENVER, REPLY, at("America/Denver", 2026, 1, 15, 21, 0))
@example(DENVER, REPLY, at("America/Denver", 2026, 1, 15, 7, 59))
@example(DENVER, REPLY, at("America/Denver", 2026, 1, 15, 8, 0))
@example(MIAMI, REPLY, at("America/New_York", 2026, 1, 15, 19, 59))
@example(MIAMI, MARKETING, at("America/New_York", 2026, 1, 15, 20, 0))
@example(DENVER, REPLY, datetime(2026, 3, 8, 8, 30, tzinfo=UTC))  # 1:30 MST, spring forward
@example(DENVER, REPLY, datetime(2026, 3, 8, 13, 59, tzinfo=UTC))  # 7:59 MDT
@example(DENVER, REPLY, datetime(2026, 3, 9, 2, 59, tzinfo=UTC))  # 20:59 MDT
@example(DENVER, REPLY, datetime(2026, 11, 1, 7, 30, tzinfo=UTC))  # 1:30 MDT, fall back
@example(DENVER, REPLY, datetime(2026, 11, 1, 8, 30, tzinfo=UTC))  # 1:30 MST, the second one
@example(DENVER, REPLY, datetime(2026, 11, 2, 3, 59, tzinfo=UTC))  # 20:59 MST
@example(MIAMI, REPLY, datetime(2026, 11, 1, 12, 59, tzinfo=UTC))  # 7:59 EST
def test_a_text_is_allowed_only_if_it_cannot_arrive_in_quiet_hours(recipient, purpose, now):
    consenting = Recipient(recipient.zones, recipient.states, True, True, False)
    decision = gate(consenting, purpose, now)

    def ok(moment: datetime) -> bool:
        return lawful(moment, consenting, purpose)

    if isinstance(decision, Allow):
        ends = decision.window_ends
        assert ends is not None and ends - now >= LEAST_VALIDITY
        # Every moment it may wait at Twilio is lawful, and the window really ends there.
        minute = now
        while minute < ends:
            assert ok(minute)
            minute += timedelta(minutes=7)
        assert ok(ends - timedelta(microseconds=1))
        assert not ok(ends)
    elif isinstance(decision, Defer):
        assert decision.until > now
        # A Saturday night before a Sunday ban and a Monday holiday: three days for an offer.
        assert decision.until - now < timedelta(days=2 if purpose == REPLY else 4)
        assert ok(decision.until)
        assert ok(decision.until + LEAST_VALIDITY)
        # Not held longer than it must be: before it, each moment is quiet somewhere or too
        # close to the end of the window for Twilio to deliver in time.
        minute = decision.until - timedelta(minutes=1)
        while minute > now:
            assert not (ok(minute) and ok(minute + LEAST_VALIDITY))
            minute -= timedelta(minutes=13)
    else:
        # Zones with no common daytime (Guam and Hawaii overlap for only part of the day).
        assert decision == Block("no_allowed_hour")
        assert not any(ok(now + timedelta(minutes=m)) for m in range(0, 4 * 1440, 10))


@settings(max_examples=200)
@given(
    start=moments,
    gaps_min=st.lists(st.integers(0, 24 * 60), min_size=1, max_size=25),
    cap=st.integers(1, 4),
)
def test_capped_texts_never_exceed_the_cap_in_any_24_hours(start, gaps_min, cap):
    recipient = Recipient(("America/Denver",), frozenset(), True, True, False)
    sent: list[datetime] = []
    now = start
    for gap in gaps_min:
        now += timedelta(minutes=gap)
        decision = may_text(
            recipient=recipient,
            purpose=MARKETING,
            now=now,
            account_active=True,
            recent_sends=sent,
            frequency_cap=cap,
        )
        if isinstance(decision, Allow):
            sent.append(now)
        elif isinstance(decision, Defer) and decision.reason == "frequency_cap":
            # Held until the cap allows one more: sending then keeps within the cap.
            assert decision.until > now
            later = [*sent, decision.until]
            assert len([t for t in later if decision.until - t < timedelta(hours=24)]) <= cap
    for moment in sent:
        window = [t for t in sent if moment <= t < moment + timedelta(hours=24)]
        assert len(window) <= cap


def test_a_capped_purpose_without_its_history_is_refused():
    """The cap cannot be skipped by forgetting to pass what was sent."""
    with pytest.raises(ValueError, match="capped"):
        may_text(recipient=DENVER, purpose=MARKETING, now=datetime.now(UTC), account_active=True)


@given(now=moments, number=st.sampled_from(["+12085550142", "+19075550142", "+17015550142"]))
def test_a_number_spanning_several_zones_must_be_in_hours_in_all_of_them(now, number):
    # No ZIP: Idaho's 208 spans Mountain and Pacific, Alaska's 907 Alaska and Hawaii-Aleutian.
    zones, _states = recipient_place(number, None)
    assert len(zones) > 1
    recipient = Recipient(zones, frozenset(), True, True, False)
    if isinstance(gate(recipient, REPLY, now), Allow):
        assert lawful(now, recipient)


def test_the_zip_decides_the_zone_and_the_area_code_adds_its_state():
    zones, states = recipient_place("+13055550142", "84101")  # Miami number, Salt Lake ZIP
    assert zones == ("America/Denver",)
    assert states == frozenset({"UT", "FL"})
    # Florida law may apply to a Florida number: its day ends at 20:00 even in Salt Lake.
    recipient = Recipient(zones, states, True, True, False)
    assert isinstance(gate(recipient, REPLY, at("America/Denver", 2026, 6, 1, 20, 30)), Defer)
    assert isinstance(gate(recipient, REPLY, at("America/Denver", 2026, 6, 1, 19, 30)), Allow)
