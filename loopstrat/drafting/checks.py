"""Is a composed text fit to send? Length, placeholders, links, phone numbers, prices and
promises; and what of the public's own words may go into one at all.

Pure functions. A Claude draft that fails any check is replaced by the template, and a filled
template that fails is sent without the public's fields: a stranger's words never decide
what the business's number sends.
"""

from __future__ import annotations

import re

from loopstrat.drafting.profile import BusinessProfile
from loopstrat.sms.segments import segment_count

MAX_SEGMENTS = 2
OPT_OUT_LINE = "Reply STOP to opt out."

_PLACEHOLDER = re.compile(r"\[[^\]]*\]|\{\{?[^}]*\}\}?|<[^>]+>|\bXX+\b|\bTBD\b", re.IGNORECASE)
# Any link: with a scheme or www., or a bare host of any top-level domain (evil.example/pay).
# Abbreviations such as "a.m." or "e.g." have one-letter parts and are not taken for hosts.
_URL = re.compile(
    r"(?:https?://|www\.)[^\s]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z][a-z0-9-]{1,62}\b(?:/[^\s]*)?",
    re.IGNORECASE,
)
# A phone number: seven or more digits, however they are grouped.
_PHONE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")
# What of a visitor's own words may go into a text: a first name is a name, a service a few
# plain words. Anything else is left out ("Hi there").
_FIRST_NAME = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_])){0,19}")
_SERVICE = re.compile(r"[^\W\d_]+(?:[ &-]{1,3}[^\W\d_]+){0,3}")
SERVICE_MAX_CHARS = 30
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
    for match in _PHONE.finditer(body):
        if not _is_own_phone(match.group(0), profile):
            problems.append("foreign_phone")
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


def _is_own_phone(number: str, profile: BusinessProfile) -> bool:
    digits = re.sub(r"\D", "", number)
    own = re.sub(r"\D", "", profile.phone or "")
    return bool(own) and (digits == own or f"1{digits}" == own)


def public_first_name(name: str | None) -> str | None:
    """The first word of a name a visitor typed, if it is a name; None otherwise."""
    first = (name or "").strip().split(" ")[0]
    return first if _FIRST_NAME.fullmatch(first) else None


def public_service(service: str | None) -> str | None:
    """A service a visitor typed, if it is a few plain words; None otherwise."""
    words = " ".join((service or "").split())
    if len(words) > SERVICE_MAX_CHARS or not _SERVICE.fullmatch(words):
        return None
    return words


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
