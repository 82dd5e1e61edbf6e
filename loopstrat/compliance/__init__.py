"""TCPA and carrier rules: who may be texted, when, and what an opt-out means."""

from loopstrat.compliance.gates import (
    ALERT,
    CONFIRMATION,
    JOB_FOLLOW_UP,
    MARKETING,
    REPLY,
    Allow,
    Block,
    Decision,
    Defer,
    Recipient,
    may_text,
)

__all__ = [
    "ALERT",
    "CONFIRMATION",
    "JOB_FOLLOW_UP",
    "MARKETING",
    "REPLY",
    "Allow",
    "Block",
    "Decision",
    "Defer",
    "Recipient",
    "may_text",
]
