"""The AI's next turn: Claude writes it from the whole conversation and the business profile.

Same checks and the same kind of template fallback as the first reply; the model says it
cannot help with the single word HANDOFF. Never sends: ai_turn decides what to do with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from loopstrat.drafting.claude import DraftFailed
from loopstrat.drafting.drafter import Drafter
from loopstrat.drafting.profile import BusinessProfile
from loopstrat.drafting.template import render_sms
from loopstrat.texts.checks import draft_problems, public_first_name

log = logging.getLogger(__name__)

HANDOFF_MARKER = "HANDOFF"
USER, ASSISTANT = "user", "assistant"


@dataclass(frozen=True)
class Turn:
    body: str
    drafted_by: str  # claude | template
    hand_off: str | None = None  # why a person must take over, if so
    ai_tokens: tuple[int, int] | None = None  # Claude's usage for this turn


def follow_up_system_prompt(profile: BusinessProfile) -> str:
    area = ", ".join(profile.service_zips) or "not stated"
    return (
        f"You are texting for {profile.name}, a {profile.trade} business, with a customer who "
        "asked for help. You are the assistant; the customer's texts are the user turns.\n"
        f"Service area ZIP codes: {area}. Business hours: {profile.hours}. "
        f"Tone: {profile.tone}.\n"
        "Your goal, one short question at a time: learn what the job is, the address or ZIP "
        "code, and when suits the customer for a visit or a call. When you know all three, "
        "thank them and say someone will confirm shortly.\n"
        "Rules:\n"
        f"- Never promise {profile.never_promise}. No prices, no dollar amounts, no estimates, "
        "no guaranteed times.\n"
        "- No placeholders or brackets, no links, no emoji, at most 300 characters.\n"
        "- Do not repeat the opt-out notice; it was in the first text.\n"
        # The FTC's rule on reviews (16 CFR 465): no AI-written reviews, no rewards for one.
        "- Never write or suggest the words of a review, and never offer anything for one.\n"
        f"- If the customer asks for a person, is upset, asks about price or cost, or you "
        f"cannot help, answer with the single word {HANDOFF_MARKER} and nothing else.\n"
        "Answer with the text message only."
    )


def draft_turn(
    drafter: Drafter | None,
    profile: BusinessProfile,
    transcript: list[dict[str, str]],
    *,
    first_name: str | None,
    holder: str | None,
) -> Turn:
    """Claude's turn, a hand-off the model asked for, or the template (which also hands off)."""
    if drafter is None:
        return _template_turn(profile, first_name, holder, "no_model_configured")
    try:
        completion = drafter.complete(follow_up_system_prompt(profile), transcript)
    except DraftFailed as exc:
        return _template_turn(profile, first_name, holder, str(exc))
    text, tokens = completion.text, (completion.input_tokens, completion.output_tokens)
    if HANDOFF_MARKER in text.upper():
        return Turn("", "claude", hand_off="model_cannot_help", ai_tokens=tokens)
    problems = draft_problems(text, profile)
    if problems:
        turn = _template_turn(profile, first_name, holder, "rejected:" + ",".join(problems))
        return replace(turn, ai_tokens=tokens)
    return Turn(text.strip(), "claude", ai_tokens=tokens)


def _template_turn(
    profile: BusinessProfile, first_name: str | None, holder: str | None, reason: str
) -> Turn:
    # The template cannot qualify a job, so it promises a person, and a person is alerted.
    log.info("follow_up fallback=template reason=%s", reason)
    name = public_first_name(first_name)
    body = render_sms("follow_up.txt", first_name=name, who=holder, business=profile.name)
    return Turn(body, "template", hand_off="draft_failed")


def as_turns(texts: list[tuple[str, str]]) -> list[dict[str, str]]:
    """(role, text) in order -> the Messages API's alternating turns, starting with the user."""
    turns: list[dict[str, str]] = []
    for role, text in texts:
        if not text.strip():
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n" + text
        else:
            turns.append({"role": role, "content": text})
    if turns and turns[0]["role"] != USER:
        turns.insert(0, {"role": USER, "content": "(The customer asked for help.)"})
    return turns
