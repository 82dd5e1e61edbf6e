"""A send's outcome in words, for the person who asked for it (CLI and dashboard alike)."""

from __future__ import annotations

from loopstrat.clock import utcnow
from loopstrat.compliance.holds import describe_hold
from loopstrat.conversations.texts import hold_zones
from loopstrat.models import Message
from loopstrat.runtime import Runtime
from loopstrat.sms.outbound import Outcome

# Results after which nothing reached, or will reach, the lead.
NOT_SENT = ("blocked", "rejected", "missing")
REASONS = {
    "opted_out": "they texted STOP",
    "no_consent": "there is no consent on record to text them",
    "no_marketing_consent": "they never agreed to marketing texts",
    "account_inactive": "the account's plan is not active",
    "unknown_time_zone": "their time zone is unknown, so their quiet hours are too",
    "conversation_started": "the conversation had started, so it stood down",
    "human_took_over": "a person took over",
    "dropped_by_person": "dropped",
    "no_follow_up_consent": "the consent they gave did not cover follow-ups about the job",
    "frequency_cap": "the frequency cap",
    "no_allowed_hour": "no hour is allowed in their time zone",
    # Why a planned campaign text was owed no text when it fell due (loopstrat/campaigns).
    "asked_recently": "this customer was asked for a review recently",
    "clicked": "they had clicked the link",
    "replied": "they had replied",
    "request_not_sent": "the request itself was not sent",
    "no_review_link": "no review link is set",
    "demo": "a demo lead reaches no one",
}
RESULTS = {
    "already": "already sent (the same reply went before)",
    "in_flight": "being sent",
    "retry": "not sent yet: it is retried shortly",
}


def describe_outcome(rt: Runtime, outcome: Outcome | None) -> str:
    """'sent', 'held for quiet hours: goes at 8:00 in America/Denver (15:00 UTC)',
    'blocked: they texted STOP'."""
    if outcome is None:
        return "missing"
    if outcome.result == "deferred" and outcome.until:
        with rt.sessions() as session:
            msg = session.get(Message, outcome.message_id) if outcome.message_id else None
            zones = hold_zones(session, msg) if msg else ()
        return describe_hold(outcome.reason, outcome.until, zones, utcnow())
    result = RESULTS.get(outcome.result, outcome.result)
    if outcome.reason and outcome.result in NOT_SENT:
        return f"{result}: {REASONS.get(outcome.reason, outcome.reason)}"
    return result
