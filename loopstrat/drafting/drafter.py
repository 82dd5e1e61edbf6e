"""Drafts a reply: Claude when configured and well-behaved, else the template. Never fails."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from loopstrat.config import Settings
from loopstrat.drafting.claude import ClaudeDrafter, DraftFailed
from loopstrat.drafting.profile import (
    BusinessProfile,
    Inquiry,
    first_reply_system_prompt,
    inquiry_prompt,
)
from loopstrat.drafting.template import render_sms
from loopstrat.texts.checks import (
    draft_problems,
    public_first_name,
    public_service,
    with_first_message_duties,
)

log = logging.getLogger(__name__)

Drafter = ClaudeDrafter


@dataclass(frozen=True)
class Draft:
    body: str
    drafted_by: str  # claude | template
    fallback_reason: str | None = None
    # Claude's usage, also when its draft was refused and the template went instead.
    ai_tokens: tuple[int, int] | None = None


def make_drafter(settings: Settings) -> Drafter | None:
    """None is the template twin: no API key, no model call."""
    return ClaudeDrafter(settings) if settings.drafter_backend == "claude" else None


def draft_first_reply(drafter: Drafter | None, profile: BusinessProfile, inquiry: Inquiry) -> Draft:
    if drafter is None:
        return _template_first_reply(profile, inquiry, "no_model_configured")
    try:
        completion = drafter.complete(
            first_reply_system_prompt(profile),
            [{"role": "user", "content": inquiry_prompt(inquiry)}],
        )
    except DraftFailed as exc:
        return _template_first_reply(profile, inquiry, str(exc))
    tokens = (completion.input_tokens, completion.output_tokens)
    body = with_first_message_duties(completion.text, profile.name)
    problems = draft_problems(body, profile)
    if problems:
        reason = "rejected:" + ",".join(problems)
        return _template_first_reply(profile, inquiry, reason, tokens)
    return Draft(body, "claude", ai_tokens=tokens)


def _template_first_reply(
    profile: BusinessProfile,
    inquiry: Inquiry,
    reason: str,
    ai_tokens: tuple[int, int] | None = None,
) -> Draft:
    log.info("draft fallback=template reason=%s", reason)
    name, service = public_first_name(inquiry.first_name), public_service(inquiry.service)
    body = _first_reply_template(profile, name, service)
    if draft_problems(body, profile):  # the visitor's words made it unfit: leave them out
        body = _first_reply_template(profile, None, None)
    return Draft(body, "template", reason, ai_tokens)


def _first_reply_template(profile: BusinessProfile, name: str | None, service: str | None) -> str:
    body = render_sms("first_reply.txt", business=profile.name, first_name=name, service=service)
    return with_first_message_duties(body, profile.name)
