"""Is a draft fit to send? Length, placeholders, links, prices and promises.

Pure functions; a draft that fails any check is replaced by the template, never sent.
"""

from __future__ import annotations

import re

from loopstrat.drafting.profile import BusinessProfile
from loopstrat.sms.segments import segment_count

MAX_SEGMENTS = 2
OPT_OUT_LINE = "Reply STOP to opt out."

_PLACEHOLDER = re.compile(r"\[[^\]]*\]|\{\{?[^}]*\}\}?|<[^>]+>|\bXX+\b|\bTBD\b", re.IGNORECASE)
_URL = re.compile(
    r"(?:https?://|www\.)[^\s]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|us|biz|info|ly)"
    r"\b(?:/[^\s]*)?",
    re.IGNORECASE,
)
_PRICE = re.compile(
    r"[$€£]\s?\d|\b\d+(?:\.\d+)?\s?(?:dollars|bucks|usd)\b|\bfree (?:estimate|quote)s?\b"
    r"|\b(?:price|cost|quote) (?:is|of|will be)\b",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\bguarantee[ds]?\b|\bwithin (?:the )?(?:\d+|an?|one|two) (?:minutes?|hours?)\b"
    r"|\b(?:be there|arrive|on site) (?:in|by|at) \d|\bsame[- ]day\b|\bpromise\b",
    re.IGNORECASE,
)


def draft_problems(body: str, profile: BusinessProfile) -> list[str]:
    """Every reason this body may not go out; empty means it may."""
    problems: list[str] = []
    if not body.strip():
        return ["empty"]
    if segment_count(body) > MAX_SEGMENTS:
        problems.append("too_long")
    if _PLACEHOLDER.search(body):
        problems.append("placeholder")
    for match in _URL.finditer(body):
        if not _is_own_link(match.group(0), profile):
            problems.append("foreign_link")
            break
    if _PRICE.search(body):
        problems.append("price")
    if _PROMISE.search(body):
        problems.append("promise")
    return problems


def _is_own_link(link: str, profile: BusinessProfile) -> bool:
    host = profile.website_host
    if not host:
        return False
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", link.lower())
    return bare == host or bare.startswith((host + "/", host + "?"))


def with_first_message_duties(body: str, business_name: str) -> str:
    """The first text must name the business and say how to opt out (CTIA)."""
    body = body.strip()
    if business_name.lower() not in body.lower():
        body = f"{business_name}: {body}"
    if "reply stop" not in body.lower():
        # A person's "Mike here" must not run into the duty line as one sentence.
        stop = "" if body.endswith((".", "!", "?")) else "."
        body = f"{body}{stop} {OPT_OUT_LINE}"
    return body
