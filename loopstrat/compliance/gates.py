"""May we text this person now? Consent, opt-out, account status, frequency cap, quiet hours.

Pure: takes plain values and a clock reading, returns Allow, Defer(until) or Block(reason).
Never sends, never reads the database. Every outbound text passes through may_text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loopstrat.compliance.quiet_hours import allowed_window, next_allowed_time

FREQUENCY_WINDOW = timedelta(hours=24)

# What a text is for decides which consent it needs and which limits apply.
REPLY = "reply"  # answering the lead's own inquiry: needs inquiry consent
MARKETING = "marketing"  # review request, reactivation: needs marketing consent, capped
CONFIRMATION = "confirmation"  # the one opt-out / opt-in / HELP answer: any hour, no consent
PURPOSES = (REPLY, MARKETING, CONFIRMATION)


@dataclass(frozen=True)
class Allow:
    pass


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Block:
    reason: str


Decision = Allow | Defer | Block


@dataclass(frozen=True)
class Recipient:
    zones: tuple[str, ...]
    states: frozenset[str]
    consent: bool
    marketing_consent: bool
    opted_out: bool


def may_text(
    *,
    recipient: Recipient,
    purpose: str,
    now: datetime,
    account_active: bool,
    recent_sends: Sequence[datetime] = (),
    frequency_cap: int = 3,
) -> Decision:
    """Decide one text. `recent_sends` are this contact's capped (marketing) texts so far."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if not account_active:
        return Block("account_inactive")
    if purpose == CONFIRMATION:
        # CTIA and the FCC allow one confirmation after an opt-out, sent at once.
        return Allow()
    if recipient.opted_out:
        return Block("opted_out")
    if purpose == REPLY and not recipient.consent:
        return Block("no_consent")
    if purpose == MARKETING and not recipient.marketing_consent:
        return Block("no_marketing_consent")
    if not recipient.zones:
        return Block("unknown_time_zone")
    earliest, reason = now, "quiet_hours"
    if purpose == MARKETING:
        capped_until = _frequency_cap_until(now, recent_sends, frequency_cap)
        if capped_until is not None:
            earliest, reason = capped_until, "frequency_cap"
    allowed_at = next_allowed_time(earliest, recipient.zones, allowed_window(recipient.states))
    if allowed_at is None:
        return Block("no_allowed_hour")
    if allowed_at > now:
        return Defer(allowed_at, reason)
    return Allow()


def _frequency_cap_until(
    now: datetime, recent_sends: Sequence[datetime], cap: int
) -> datetime | None:
    """When the 24-hour window has room again, or None if it has room now."""
    window = sorted(t for t in recent_sends if now - t < FREQUENCY_WINDOW)
    if len(window) < cap:
        return None
    return window[len(window) - cap] + FREQUENCY_WINDOW
