"""May we text this person now? Consent, opt-out, account status, frequency cap, quiet hours.

Pure: takes plain values and a clock reading, returns Allow, Defer(until) or Block(reason).
Never sends, never reads the database. Every outbound text passes through may_text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from loopstrat.compliance.quiet_hours import (
    Calendar,
    DoNotDisturb,
    do_not_disturb_until,
    next_sending_window,
)

FREQUENCY_WINDOW = timedelta(hours=24)


class Purpose(StrEnum):
    """What a text is for: it decides which consent the text needs and which limits apply."""

    REPLY = "reply"  # answering the lead's own inquiry: needs inquiry consent
    # A follow-up about the customer's own job (a review request): needs the inquiry's
    # consent, given to a text that covered follow-ups; capped.
    JOB_FOLLOW_UP = "job_follow_up"
    MARKETING = "marketing"  # an offer (reactivation): needs marketing consent, capped
    CONFIRMATION = "confirmation"  # the one opt-out / opt-in / HELP answer: any hour
    # The contractor's own alerts, to the alert phone the account owner set: setting it is
    # their consent, STOP from it blocks, their do-not-disturb window defers. Not the TCPA's
    # quiet hours: the contractor asked to hear about their leads at any hour.
    ALERT = "alert"


REPLY = Purpose.REPLY
JOB_FOLLOW_UP = Purpose.JOB_FOLLOW_UP
MARKETING = Purpose.MARKETING
CONFIRMATION = Purpose.CONFIRMATION
ALERT = Purpose.ALERT
PURPOSES = tuple(Purpose)
# Non-reply traffic counts against the per-contact cap in any 24 hours (FL, OK and MD allow 3).
CAPPED_PURPOSES = frozenset({JOB_FOLLOW_UP, MARKETING})


@dataclass(frozen=True)
class Allow:
    # When the recipient's allowed hours end: the text must reach them before then (Twilio's
    # ValidityPeriod). None for a text that keeps no quiet hours.
    window_ends: datetime | None = None


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
    # ALERT only: the hours the contractor asked not to be alerted; None when none apply.
    do_not_disturb: DoNotDisturb | None = None
    # The inquiry's consent covered follow-ups about the job (JOB_FOLLOW_UP).
    follow_up_consent: bool = False


def may_text(
    *,
    recipient: Recipient,
    purpose: str,
    now: datetime,
    account_active: bool,
    recent_sends: Sequence[datetime] | None = None,
    frequency_cap: int | None = None,
) -> Decision:
    """Decide one text. A capped purpose needs `recent_sends` (when this contact's capped texts
    went, at least the last 24 hours of them) and the account's `frequency_cap`."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    if not account_active:
        return Block("account_inactive")
    if purpose == CONFIRMATION:
        # CTIA and the FCC allow one confirmation after an opt-out, sent at once.
        return Allow()
    if recipient.opted_out:
        return Block("opted_out")
    if purpose == ALERT:
        return _alert_decision(recipient, now)
    if purpose == REPLY and not recipient.consent:
        return Block("no_consent")
    if purpose == JOB_FOLLOW_UP and not (recipient.consent and recipient.follow_up_consent):
        return Block("no_follow_up_consent")
    if purpose == MARKETING and not recipient.marketing_consent:
        return Block("no_marketing_consent")
    if not recipient.zones:
        return Block("unknown_time_zone")
    earliest, reason = now, "quiet_hours"
    if purpose in CAPPED_PURPOSES:
        if recent_sends is None or frequency_cap is None:
            raise ValueError(f"purpose {purpose!r} is capped: pass recent_sends and frequency_cap")
        if frequency_cap < 1:
            return Block("frequency_cap")
        capped_until = _frequency_cap_until(now, recent_sends, frequency_cap)
        if capped_until is not None:
            earliest, reason = capped_until, "frequency_cap"
    # A marketing text also keeps each state's solicitation calendar (Sunday hours, holidays).
    calendar = Calendar(recipient.states, marketing=purpose == MARKETING)
    window = next_sending_window(earliest, recipient.zones, calendar)
    if window is None:
        return Block("no_allowed_hour")
    allowed_at, window_ends = window
    if allowed_at > now:
        return Defer(allowed_at, reason)
    return Allow(window_ends)


def _alert_decision(recipient: Recipient, now: datetime) -> Decision:
    if not recipient.consent:
        return Block("no_consent")
    dnd = recipient.do_not_disturb
    until = do_not_disturb_until(now, dnd) if dnd else None
    return Defer(until, "alert_dnd") if until else Allow()


def _frequency_cap_until(
    now: datetime, recent_sends: Sequence[datetime], cap: int
) -> datetime | None:
    """When the 24-hour window has room again, or None if it has room now."""
    window = sorted(t for t in recent_sends if now - t < FREQUENCY_WINDOW)
    if len(window) < cap:
        return None
    return window[len(window) - cap] + FREQUENCY_WINDOW
