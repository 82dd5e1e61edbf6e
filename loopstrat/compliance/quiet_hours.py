"""Quiet hours in the recipient's local time (TCPA 47 CFR 64.1200(c)(1) and stricter states),
and the contractor's own do-not-disturb window for alerts. For a marketing text, each state's
solicitation calendar narrows the day further, or rules it out (compliance/solicitation.py).

Pure functions over plain values; the one table of state windows lives here. Never reads a
clock: every function is told the moment it decides about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loopstrat.compliance.solicitation import marketing_window

FEDERAL_WINDOW = (time(8, 0), time(21, 0))
# States whose laws end the texting day at 8 pm (FL FTSA, OK TSA, MD Stop the Spam Calls Act,
# WA RCW 80.36.390). Keep this the only copy.
STRICT_STATE_WINDOWS: dict[str, tuple[time, time]] = {
    "FL": (time(8, 0), time(20, 0)),
    "OK": (time(8, 0), time(20, 0)),
    "MD": (time(8, 0), time(20, 0)),
    "WA": (time(8, 0), time(20, 0)),
}
# How far ahead the next allowed minute is looked for: a Saturday night before a Sunday ban
# and a Monday holiday (Memorial Day in Alabama) is three days from the next allowed morning.
SEARCH_DAYS = 8
# Twilio keeps a queued text for its ValidityPeriod (1 to 36,000 s) and then drops it (30036),
# never to be retried. A text that would get less than this before the window closes is held
# for the next window rather than risk arriving late or not at all.
MIN_VALIDITY_PERIOD_S = 60


def allowed_window(states: frozenset[str]) -> tuple[time, time]:
    """The narrowest window among the federal rule and every state that may apply."""
    start, end = FEDERAL_WINDOW
    for state in states:
        s_start, s_end = STRICT_STATE_WINDOWS.get(state, FEDERAL_WINDOW)
        start, end = max(start, s_start), min(end, s_end)
    return start, end


@dataclass(frozen=True)
class Calendar:
    """The allowed hours of each local day for a recipient whose laws are `states`: the same
    window every day, or for marketing, each state's solicitation calendar on top."""

    states: frozenset[str]
    marketing: bool = False

    def window_on(self, day: date) -> tuple[time, time] | None:
        daily = allowed_window(self.states)
        return marketing_window(day, self.states, daily) if self.marketing else daily


def is_allowed_at(moment: datetime, zones: tuple[str, ...], calendar: Calendar) -> bool:
    for zone in zones:
        local = moment.astimezone(ZoneInfo(zone))
        window = calendar.window_on(local.date())
        if window is None or not (window[0] <= local.time() < window[1]):
            return False
    return True


def next_allowed_time(now: datetime, zones: tuple[str, ...], calendar: Calendar) -> datetime | None:
    """The first moment at or after `now` inside the day's window in every zone; None if none
    soon."""
    if is_allowed_at(now, zones, calendar):
        return now
    candidates = sorted(
        start
        for zone in zones
        for day in range(SEARCH_DAYS)
        if (start := _window_start(now, zone, day, calendar)) is not None
    )
    for candidate in candidates:
        if candidate >= now and is_allowed_at(candidate, zones, calendar):
            return candidate
    return None


def _window_start(now: datetime, zone: str, day_offset: int, calendar: Calendar) -> datetime | None:
    tz = ZoneInfo(zone)
    local_day = now.astimezone(tz).date() + timedelta(days=day_offset)
    window = calendar.window_on(local_day)
    if window is None:
        return None
    return datetime.combine(local_day, window[0], tzinfo=tz).astimezone(now.tzinfo)


@dataclass(frozen=True)
class DoNotDisturb:
    """The hours the contractor asked not to be alerted, in their own zone; may span midnight."""

    start: time
    end: time
    zone: str


def do_not_disturb_until(now: datetime, dnd: DoNotDisturb) -> datetime | None:
    """When the window ends, or None if `now` is outside it (an empty window never holds)."""
    local = now.astimezone(ZoneInfo(dnd.zone))
    clock = local.time()
    if dnd.start <= dnd.end:
        inside = dnd.start <= clock < dnd.end
    else:
        inside = clock >= dnd.start or clock < dnd.end
    if not inside:
        return None
    for days in (0, 1):
        day = local.date() + timedelta(days=days)
        # On the night clocks fall back the end's wall time comes twice (fold 0, then 1).
        for fold in (0, 1):
            ends = datetime.combine(day, dnd.end, tzinfo=local.tzinfo).replace(fold=fold)
            if ends.astimezone(UTC) > now:  # as instants: same-zone datetimes compare walls
                return ends.astimezone(now.tzinfo)
    raise AssertionError("a daily window always ends within a day")


def window_end(moment: datetime, zones: tuple[str, ...], calendar: Calendar) -> datetime:
    """When the allowed time around `moment` (allowed in every zone) ends: the earliest of the
    zones' ends of day."""
    ends = []
    for zone in zones:
        tz = ZoneInfo(zone)
        local_day = moment.astimezone(tz).date()
        window = calendar.window_on(local_day)
        end = window[1] if window else time(0)  # moment is allowed: the day has a window
        ends.append(datetime.combine(local_day, end, tzinfo=tz).astimezone(moment.tzinfo))
    return min(ends)


def next_sending_window(
    now: datetime, zones: tuple[str, ...], calendar: Calendar
) -> tuple[datetime, datetime] | None:
    """The first moment at or after `now` with MIN_VALIDITY_PERIOD_S of allowed time ahead of
    it in every zone, and when that allowed time ends; None if none soon."""
    earliest = now
    for _ in range(SEARCH_DAYS):
        start = next_allowed_time(earliest, zones, calendar)
        if start is None:
            return None
        ends = window_end(start, zones, calendar)
        if ends - start >= timedelta(seconds=MIN_VALIDITY_PERIOD_S):
            return start, ends
        earliest = ends
    return None
