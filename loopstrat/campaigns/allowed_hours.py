"""When a campaign's recipients' quiet hours and their states' solicitation calendars next
allow a marketing text, asked once per place (zones and states), not once per contact:
100,000 contacts live in a few dozen places. Used to plan a launch and by each tick of the
pacer; the gate checks every text again when it is sent."""

from __future__ import annotations

from datetime import datetime

from loopstrat.compliance.quiet_hours import Calendar, next_sending_window
from loopstrat.phones import recipient_place


class FirstAllowed:
    def __init__(self, account_zone: str, now: datetime) -> None:
        self._zone, self._now = account_zone, now
        self._known: dict[tuple[tuple[str, ...], frozenset[str]], datetime | None] = {}

    def start(self, phone: str, zip5: str | None) -> datetime | None:
        """The first moment from now a text may reach them; None if no hour is allowed soon.
        A number with no zone of its own (non-geographic) keeps the business's hours."""
        zones, states = recipient_place(phone, zip5)
        key = (zones or (self._zone,), states)
        if key not in self._known:
            window = next_sending_window(self._now, key[0], Calendar(states, marketing=True))
            self._known[key] = window[0] if window else None
        return self._known[key]
