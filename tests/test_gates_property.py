"""The gates as properties: across zones, states, clocks (DST included) and send histories."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from loopstrat.compliance import (
    CONFIRMATION,
    MARKETING,
    REPLY,
    Allow,
    Block,
    Defer,
    Recipient,
    may_text,
)
from loopstrat.compliance.quiet_hours import STRICT_STATE_WINDOWS, allowed_window
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
)
purposes = st.sampled_from([REPLY, MARKETING, CONFIRMATION])


def allowed_everywhere(moment: datetime, recipient: Recipient) -> bool:
    start, end = allowed_window(recipient.states)
    return all(start <= moment.astimezone(ZoneInfo(zone)).time() < end for zone in recipient.zones)


@given(recipient=recipients, purpose=purposes, now=moments, active=st.booleans())
def test_no_text_without_consent_after_opt_out_or_from_an_inactive_account(
    recipient, purpose, now, active
):
    decision = may_text(recipient=recipient, purpose=purpose, now=now, account_active=active)
    if not active:
        assert decision == Block("account_inactive")
    elif purpose == CONFIRMATION:
        assert decision == Allow()
    elif recipient.opted_out:
        assert decision == Block("opted_out")
    elif purpose == REPLY and not recipient.consent:
        assert decision == Block("no_consent")
    elif purpose == MARKETING and not recipient.marketing_consent:
        assert decision == Block("no_marketing_consent")
    else:
        assert not isinstance(decision, Block)


@settings(max_examples=400)
@given(recipient=recipients, purpose=st.sampled_from([REPLY, MARKETING]), now=moments)
def test_allowed_only_inside_quiet_hours_everywhere_and_deferred_to_the_first_allowed_minute(
    recipient, purpose, now
):
    consenting = Recipient(recipient.zones, recipient.states, True, True, False)
    decision = may_text(recipient=consenting, purpose=purpose, now=now, account_active=True)
    if isinstance(decision, Allow):
        assert allowed_everywhere(now, consenting)
    elif isinstance(decision, Defer):
        assert decision.until > now
        assert decision.until - now < timedelta(days=2)
        assert allowed_everywhere(decision.until, consenting)
        assert not allowed_everywhere(now, consenting)
        # Not a minute later than it needs to be: every minute before it is quiet somewhere.
        step = decision.until - timedelta(minutes=1)
        while step > now:
            assert not allowed_everywhere(step, consenting)
            step -= timedelta(minutes=29)
    else:
        # Zones with no common daytime (Guam and Hawaii overlap for only part of the day).
        assert decision == Block("no_allowed_hour")


@given(states=st.frozensets(st.sampled_from(STATES), max_size=3))
def test_strict_states_end_the_day_at_eight_pm(states):
    start, end = allowed_window(states)
    assert start == time(8, 0)
    assert end == (time(20, 0) if states & set(STRICT_STATE_WINDOWS) else time(21, 0))


@settings(max_examples=200)
@given(
    start=moments,
    gaps_min=st.lists(st.integers(0, 24 * 60), min_size=1, max_size=25),
    cap=st.integers(1, 4),
)
def test_marketing_texts_never_exceed_the_cap_in_any_24_hours(start, gaps_min, cap):
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
    for moment in sent:
        window = [t for t in sent if moment <= t < moment + timedelta(hours=24)]
        assert len(window) <= cap


@given(now=moments, number=st.sampled_from(["+12085550142", "+19075550142", "+17015550142"]))
def test_a_number_spanning_several_zones_must_be_in_hours_in_all_of_them(now, number):
    # No ZIP: Idaho's 208 spans Mountain and Pacific, Alaska's 907 Alaska and Hawaii-Aleutian.
    zones, _states = recipient_place(number, None)
    assert len(zones) > 1
    recipient = Recipient(zones, frozenset(), True, True, False)
    decision = may_text(recipient=recipient, purpose=REPLY, now=now, account_active=True)
    if isinstance(decision, Allow):
        assert allowed_everywhere(now, recipient)


def test_the_zip_decides_the_zone_and_the_area_code_adds_its_state():
    zones, states = recipient_place("+13055550142", "84101")  # Miami number, Salt Lake ZIP
    assert zones == ("America/Denver",)
    assert states == frozenset({"UT", "FL"})
