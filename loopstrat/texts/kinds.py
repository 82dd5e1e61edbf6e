"""Every kind of text, spelled once, with what each needs: its purpose (which consent the gate
asks for, and whether the frequency cap counts it), who it goes to, and whether it may be the
first text a person gets from the business (which must name it and say how to opt out).

A kind this module does not know is an error, never a reply: nothing is sent on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from loopstrat.compliance.gates import CAPPED_PURPOSES, Purpose


class TextKind(StrEnum):
    # To the lead, about their own inquiry.
    FIRST_REPLY = "first_reply"
    FOLLOW_UP = "follow_up"  # the AI's turn, or the template's
    HOLDING = "holding"  # "someone will text you shortly": a hand-off
    HUMAN_REPLY = "human_reply"  # a person's own words, from the dashboard or the alert phone
    # To whoever texted the keyword: a lead, or the contractor's alert phone.
    HELP = "help"
    OPT_OUT_CONFIRM = "opt_out_confirm"
    OPT_IN_CONFIRM = "opt_in_confirm"
    # To the contractor's alert phone.
    ALERT = "alert"
    ALERT_ANSWER = "alert_answer"  # what became of a text the contractor sent from it
    # Campaigns.
    REVIEW_REQUEST = "review_request"
    REVIEW_REMINDER = "review_reminder"
    REACTIVATION = "reactivation"
    # Received, never sent: a lead's text, and the contractor's from the alert phone.
    LEAD_TEXT = "inbound"
    CONTRACTOR_TEXT = "contractor_reply"


class Recipient(StrEnum):
    LEAD = "lead"
    ALERT_PHONE = "alert_phone"
    KEYWORD_SENDER = "keyword_sender"  # the lead or the alert phone, whichever texted it


@dataclass(frozen=True)
class KindRule:
    purpose: Purpose
    to: Recipient
    # May be the first text a person gets (they texted first): it must name the business and
    # say how to opt out (CTIA).
    first_text_duties: bool = False

    @property
    def capped(self) -> bool:
        return self.purpose in CAPPED_PURPOSES


RULES: dict[TextKind, KindRule] = {
    TextKind.FIRST_REPLY: KindRule(Purpose.REPLY, Recipient.LEAD, first_text_duties=True),
    TextKind.FOLLOW_UP: KindRule(Purpose.REPLY, Recipient.LEAD, first_text_duties=True),
    TextKind.HOLDING: KindRule(Purpose.REPLY, Recipient.LEAD, first_text_duties=True),
    TextKind.HUMAN_REPLY: KindRule(Purpose.REPLY, Recipient.LEAD, first_text_duties=True),
    TextKind.HELP: KindRule(Purpose.CONFIRMATION, Recipient.KEYWORD_SENDER),
    TextKind.OPT_OUT_CONFIRM: KindRule(Purpose.CONFIRMATION, Recipient.KEYWORD_SENDER),
    TextKind.OPT_IN_CONFIRM: KindRule(Purpose.CONFIRMATION, Recipient.KEYWORD_SENDER),
    TextKind.ALERT: KindRule(Purpose.ALERT, Recipient.ALERT_PHONE),
    TextKind.ALERT_ANSWER: KindRule(Purpose.ALERT, Recipient.ALERT_PHONE),
    TextKind.REVIEW_REQUEST: KindRule(Purpose.JOB_FOLLOW_UP, Recipient.LEAD),
    TextKind.REVIEW_REMINDER: KindRule(Purpose.JOB_FOLLOW_UP, Recipient.LEAD),
    TextKind.REACTIVATION: KindRule(Purpose.MARKETING, Recipient.LEAD),
}
RECEIVED = frozenset({TextKind.LEAD_TEXT, TextKind.CONTRACTOR_TEXT})
# The kinds the frequency cap counts: one cap for all of a contact's non-reply traffic.
CAPPED_KINDS = frozenset(kind for kind, rule in RULES.items() if rule.capped)
# Texts between the business and the contractor about a conversation, not in it.
CONTRACTOR_KINDS = frozenset({TextKind.ALERT, TextKind.ALERT_ANSWER, TextKind.CONTRACTOR_TEXT})


class UnknownKind(ValueError):
    """A text of a kind nobody wrote a rule for: it is not sent."""


def rule_of(kind: str) -> KindRule:
    try:
        return RULES[TextKind(kind)]
    except (ValueError, KeyError):
        raise UnknownKind(f"no rule for a text of kind {kind!r}") from None
