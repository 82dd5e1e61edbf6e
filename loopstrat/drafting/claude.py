"""Claude through the anthropic SDK, inside a hard time budget.

The SDK's own retries are off (it would sleep on Retry-After up to a minute); this loop retries
transient failures only while the budget lasts, so the template goes out in time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anthropic

from loopstrat.config import Settings

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
MIN_ATTEMPT_S = 0.5
BACKOFF_S = (0.25, 0.75, 1.5)


class DraftFailed(Exception):
    """The model gave no usable text in time; the reason is short and safe to log."""


@dataclass(frozen=True)
class Completion:
    """The model's text and what it cost, as the Messages API reported its usage."""

    text: str
    input_tokens: int
    output_tokens: int


class ClaudeDrafter:
    name = "claude"

    def __init__(self, settings: Settings) -> None:
        self.model = settings.anthropic_model
        self.budget_s = settings.draft_budget_s
        self.client = anthropic.Anthropic(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url,
            max_retries=0,
            timeout=settings.draft_budget_s,
        )

    def complete(
        self, system: str, messages: list[dict[str, str]], max_tokens: int = 300
    ) -> Completion:
        deadline = time.monotonic() + self.budget_s
        reason = "budget_exhausted"
        for attempt in range(len(BACKOFF_S) + 1):
            remaining = deadline - time.monotonic()
            if remaining < MIN_ATTEMPT_S:
                break
            try:
                return self._call(system, messages, max_tokens, remaining)
            except (anthropic.APITimeoutError, anthropic.APIConnectionError):
                reason = "timeout"
            except anthropic.APIStatusError as exc:
                if exc.status_code not in RETRYABLE_STATUS:
                    raise DraftFailed(f"http_{exc.status_code}") from None
                reason = f"http_{exc.status_code}"
            if attempt < len(BACKOFF_S):
                time.sleep(min(BACKOFF_S[attempt], max(0.0, deadline - time.monotonic())))
        raise DraftFailed(reason)

    def _call(
        self, system: str, messages: list[dict[str, str]], max_tokens: int, timeout_s: float
    ) -> Completion:
        response = self.client.messages.create(
            model=self.model,
            max_tokens=max_tokens,
            system=system,
            messages=messages,  # type: ignore[arg-type]
            timeout=timeout_s,
        )
        text = "".join(block.text for block in response.content if block.type == "text")
        if response.stop_reason == "max_tokens":
            raise DraftFailed("truncated")
        usage = response.usage
        return Completion(text.strip(), usage.input_tokens, usage.output_tokens)
