"""RQ job functions. Each loads by id, calls the core, and returns; a missing row is logged."""

from __future__ import annotations

from loopstrat import runtime
from loopstrat.leads.respond import respond_to_lead as respond


def respond_to_lead(lead_id: int) -> str | None:
    outcome = respond(runtime.current(), lead_id)
    return outcome.result if outcome else None
