"""Marketing texts keep each state's solicitation calendar (compliance/solicitation.py): Sunday
hours in Texas, no Sundays or holidays in Louisiana and Alabama, shorter days elsewhere; held to
the next allowed minute, never dropped. Replies and job follow-ups keep the quiet hours alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from loopstrat.compliance import JOB_FOLLOW_UP, MARKETING, REPLY, Allow, Defer, Recipient, may_text
from loopstrat.compliance.solicitation import STATES

CHICAGO = ZoneInfo("America/Chicago")


def recipient(states: set[str], zones: tuple[str, ...] = ("America/Chicago",)) -> Recipient:
    return Recipient(
        consent=True,
        marketing_consent=True,
        follow_up_consent=True,
        opted_out=False,
        zones=zones,
        states=frozenset(states),
    )


def decide(purpose: str, states: set[str], local: datetime) -> Allow | Defer:
    decision = may_text(
        recipient=recipient(states),
        purpose=purpose,
        now=local.astimezone(UTC),
        account_active=True,
        recent_sends=[],
        frequency_cap=3,
    )
    assert isinstance(decision, Allow | Defer), decision  # held, never dropped
    return decision


SUNDAY_10AM = datetime(2026, 12, 6, 10, 0, tzinfo=CHICAGO)
MEMORIAL_DAY_10AM = datetime(2026, 5, 25, 10, 0, tzinfo=CHICAGO)


def test_a_texas_offer_on_a_sunday_morning_waits_for_noon_but_a_reply_goes():
    held = decide(MARKETING, {"TX"}, SUNDAY_10AM)
    assert isinstance(held, Defer)
    assert held.until.astimezone(CHICAGO) == SUNDAY_10AM.replace(hour=12)
    assert isinstance(decide(REPLY, {"TX"}, SUNDAY_10AM), Allow)
    assert isinstance(decide(JOB_FOLLOW_UP, {"TX"}, SUNDAY_10AM), Allow)


def test_a_louisiana_offer_on_a_sunday_waits_for_monday_and_one_on_a_holiday_for_the_next_day():
    held = decide(MARKETING, {"LA"}, SUNDAY_10AM)
    assert isinstance(held, Defer) and held.until.astimezone(CHICAGO) == datetime(
        2026, 12, 7, 8, 0, tzinfo=CHICAGO
    )
    on_memorial_day = decide(MARKETING, {"AL"}, MEMORIAL_DAY_10AM)
    assert isinstance(on_memorial_day, Defer)
    assert on_memorial_day.until.astimezone(CHICAGO).date() == date(2026, 5, 26)


def test_a_utah_offer_on_thanksgiving_waits_for_friday_morning():
    denver = ZoneInfo("America/Denver")
    thanksgiving = datetime(2026, 11, 26, 10, 0, tzinfo=denver)
    held = may_text(recipient=recipient({"UT"}, ("America/Denver",)), purpose=MARKETING,
                    now=thanksgiving.astimezone(UTC), account_active=True, recent_sends=[],
                    frequency_cap=3)  # fmt: skip
    assert isinstance(held, Defer)
    assert held.until.astimezone(denver) == datetime(2026, 11, 27, 8, 0, tzinfo=denver)


def test_a_number_that_may_be_in_several_states_keeps_every_states_calendar():
    weekday_830 = datetime(2026, 12, 8, 8, 30, tzinfo=CHICAGO)  # a Tuesday
    held = decide(MARKETING, {"TX", "OK"}, weekday_830)  # Texas starts at 9
    assert isinstance(held, Defer) and held.until.astimezone(CHICAGO).time() == time(9, 0)


@settings(max_examples=300, deadline=None)
@given(
    minutes=st.integers(0, 60 * 24 * 400),
    states=st.sets(st.sampled_from(sorted(STATES) + ["NY", "CA", "IL"]), min_size=1, max_size=3),
)
def test_an_offer_only_ever_goes_when_every_states_calendar_allows_it(minutes, states):
    local = datetime(2026, 1, 1, tzinfo=CHICAGO) + timedelta(minutes=minutes)
    decision = decide(MARKETING, states, local)
    at = local if isinstance(decision, Allow) else decision.until.astimezone(CHICAGO)
    assert at >= local - timedelta(seconds=1)
    for state in states & set(STATES):
        window = STATES[state].window_on(at.date(), state)
        assert window is not None and window[0] <= at.time() < window[1], (state, at)
    assert time(8, 0) <= at.time() < time(21, 0)
