"""A held text in words a person reads: why it waits and when it goes, in the zone that binds.

Pure formatting of a gate's Defer; never decides anything. Names no person, so it may be logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from loopstrat.compliance.quiet_hours import FEDERAL_WINDOW

WHY = {
    "quiet_hours": "held for quiet hours",
    "window_closed": "held for quiet hours",  # their texting day ended while it was being sent
    "alert_dnd": "held for your do-not-disturb window",
    "frequency_cap": "held by the daily text limit",
    "twilio_rate_limited": "held: Twilio asked us to slow down",
}
SAME_DAY = timedelta(hours=20)
DAY_STARTS = FEDERAL_WINDOW[0]  # every state's texting day starts then too


def describe_hold(
    reason: str | None, until: datetime, zones: Sequence[str], now: datetime | None = None
) -> str:
    """'held for quiet hours: goes at 8:00 in America/Denver (15:00 UTC)'."""
    why = WHY.get(reason or "", f"held ({reason})" if reason else "held")
    zone = _binding_zone(until, zones)
    if zone is None:
        return f"{why}: goes at {_clock(until, now)} UTC"
    local = until.astimezone(ZoneInfo(zone))
    utc = until.astimezone(ZoneInfo("UTC"))
    return f"{why}: goes at {_clock(local, now)} in {zone} ({utc:%H:%M} UTC)"


def _binding_zone(until: datetime, zones: Sequence[str]) -> str | None:
    """The zone whose morning the text waits for: where `until` is the texting day's start."""
    for zone in zones:
        if until.astimezone(ZoneInfo(zone)).time() == DAY_STARTS:
            return zone
    return zones[0] if zones else None


def _clock(moment: datetime, now: datetime | None) -> str:
    """'8:00', or 'Sat Dec 5 8:00' when it is not within the coming day."""
    hhmm = f"{moment.hour}:{moment.minute:02d}"
    if now is None or moment - now < SAME_DAY:
        return hhmm
    return f"{moment:%a %b} {moment.day} {hhmm}"
