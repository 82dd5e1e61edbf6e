"""The one set of checks for every text the product composes (first replies, AI turns, review
requests, offers): links only to the business's own site, no phone number but its own, no
placeholders, carriers' segments; the business named and the opt-out said as an instruction
where a text must; no prices or promises in what Claude writes. And what of the public's own
words may go into a text at all.

Pure functions. A Claude draft that fails is replaced by the template, a filled template that
fails is sent without the public's fields, and a contractor's offer that fails is refused with
the reasons in words: a stranger's words never decide what the business's number sends.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from urllib.parse import urlsplit

from loopstrat.drafting.profile import BusinessProfile
from loopstrat.sms.segments import segment_count

MAX_SEGMENTS = 2
OPT_OUT_LINE = "Reply STOP to opt out."
# The opt-out said as an instruction ("Reply STOP to opt out", "text STOP to end"): the word
# "stop" alone ("Do not stop by") tells nobody how.
_OPT_OUT = re.compile(r"\b(?:reply|text|send|respond with)\s+[\"'“]?stop\b", re.IGNORECASE)

_PLACEHOLDER = re.compile(r"\[[^\]]*\]|\{\{?[^}]*\}\}?|<[^>]+>|\bXX+\b|\bTBD\b", re.IGNORECASE)
# Any link: with a scheme or www., or a bare host of any top-level domain (evil.example/pay).
# Abbreviations such as "a.m." or "e.g." have one-letter parts and are not taken for hosts.
_URL = re.compile(
    r"(?:https?://|www\.)[^\s]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z][a-z0-9-]{1,62}\b(?:/[^\s]*)?",
    re.IGNORECASE,
)
# A phone number: seven or more digits, however they are grouped.
_PHONE = re.compile(r"(?<![\w/])\+?\d(?:[\s().-]*\d){6,}")
# What of a visitor's own words may go into a text: a first name is a name, a service a few
# plain words, in Latin letters only (a circled ⑧ or a Lisu ꓸ is a digit or a dot to a reader,
# not to a pattern). Anything else is left out ("Hi there").
_FIRST_NAME = re.compile(r"L(?:L|['’-](?=L)){0,19}")
_SERVICE = re.compile(r"L+(?:[ &-]{1,3}L+){0,3}")
SERVICE_MAX_CHARS = 30
# Characters a reader takes for a dot in a link, which NFKC does not fold into one.
_DOT_LOOKALIKES = "\u00b7\u0701\u2024\u2219\u22c5\u30fb\ua4f8\ua78f\u3002\uff61"
_LOOKALIKE_DOTS = str.maketrans(dict.fromkeys(_DOT_LOOKALIKES, "."))
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


class Problem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    PLACEHOLDER = "placeholder"
    FOREIGN_LINK = "foreign_link"
    FOREIGN_PHONE = "foreign_phone"
    PRICE = "price"
    PROMISE = "promise"
    NO_BUSINESS = "no_business"
    NO_OPT_OUT = "no_opt_out"


# The reasons in the contractor's words, for the pages and commands that refuse a text.
IN_WORDS = {
    Problem.EMPTY: "it is empty",
    Problem.TOO_LONG: f"it must fit {MAX_SEGMENTS} text segments once filled in (306 plain "
    "characters, fewer with curly quotes or emoji)",
    Problem.PLACEHOLDER: "it has a placeholder left in it",
    Problem.FOREIGN_LINK: "links other than your own website are not allowed (no link "
    "shorteners either)",
    Problem.FOREIGN_PHONE: "phone numbers other than your business number are not allowed",
    Problem.PRICE: "it names a price",
    Problem.PROMISE: "it makes a promise",
    Problem.NO_BUSINESS: "it must name the business",
    Problem.NO_OPT_OUT: "it must say how to opt out (Reply STOP to opt out)",
}


def text_problems(
    body: str,
    profile: BusinessProfile,
    *,
    duties: bool = False,
    sales_words: bool = True,
    also_links_to: tuple[str, ...] = (),
) -> list[Problem]:
    """Every reason this filled-in text may not go out; empty means it may.

    duties: it must name the business and tell how to opt out (a first text, a campaign's).
    sales_words: prices and promises are refused (Claude's words; a contractor's own offer
    may name its price). also_links_to: hosts a link may go to besides the business's own
    (the product's tracked review link)."""
    if not body.strip():
        return [Problem.EMPTY]
    problems: list[Problem] = []
    if segment_count(body) > MAX_SEGMENTS:
        problems.append(Problem.TOO_LONG)
    body = as_read(body)
    if _PLACEHOLDER.search(body):
        problems.append(Problem.PLACEHOLDER)
    hosts = tuple(h for h in (profile.website_host, *also_links_to) if h)
    if any(not _is_link_to(match.group(0), hosts) for match in _URL.finditer(body)):
        problems.append(Problem.FOREIGN_LINK)
    words = _URL.sub(" ", body)  # digits inside a link (a token) are no phone number
    if any(not _is_own_phone(match.group(0), profile) for match in _PHONE.finditer(words)):
        problems.append(Problem.FOREIGN_PHONE)
    if sales_words and _PRICE.search(body):
        problems.append(Problem.PRICE)
    if sales_words and _PROMISE.search(body):
        problems.append(Problem.PROMISE)
    if duties and profile.name.lower() not in body.lower():
        problems.append(Problem.NO_BUSINESS)
    if duties and not says_how_to_opt_out(body):
        problems.append(Problem.NO_OPT_OUT)
    return problems


def draft_problems(body: str, profile: BusinessProfile) -> list[Problem]:
    """Claude's draft or a filled template: every reason it may not go out."""
    return text_problems(body, profile)


def as_read(body: str) -> str:
    """The text as a reader takes it: compatibility forms folded (⑧ to 8, ｅ to e, ． to .)
    and dot look-alikes made dots, so a link or a number cannot hide in other characters."""
    return unicodedata.normalize("NFKC", body).translate(_LOOKALIKE_DOTS)


def says_how_to_opt_out(body: str) -> bool:
    return bool(_OPT_OUT.search(body))


def host_of(url: str) -> str | None:
    """The host a base URL or a website names, without www."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return (parts.hostname or "").removeprefix("www.") or None


def _is_link_to(link: str, hosts: tuple[str, ...]) -> bool:
    """A link to one of the hosts (the host itself, not a look-alike: acme.com.evil.example or
    acme.com@evil.example are not acme.com; a shortener is never anyone's own)."""
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", link.lower())
    return any(bare == host or bare.startswith((host + "/", host + "?")) for host in hosts)


def _is_own_phone(number: str, profile: BusinessProfile) -> bool:
    digits = re.sub(r"\D", "", number)
    own = re.sub(r"\D", "", profile.phone or "")
    return bool(own) and (digits == own or f"1{digits}" == own)


def public_first_name(name: str | None) -> str | None:
    """The first word of a name a visitor typed, if it is a name; None otherwise."""
    first = (name or "").strip().split(" ")[0]
    return first if _FIRST_NAME.fullmatch(_letter_shapes(first)) else None


def public_service(service: str | None) -> str | None:
    """A service a visitor typed, if it is a few plain words; None otherwise."""
    words = " ".join((service or "").split())
    if len(words) > SERVICE_MAX_CHARS or not _SERVICE.fullmatch(_letter_shapes(words)):
        return None
    return words


def _letter_shapes(text: str) -> str:
    """Each Latin letter as "L", for the patterns above; every other character as itself."""
    return "".join("L" if _is_latin_letter(ch) else ch for ch in text)


def _is_latin_letter(ch: str) -> bool:
    latin = ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")
    return latin and ch not in _DOT_LOOKALIKES  # U+A78F is a "Latin letter" shaped as a dot


def with_first_message_duties(body: str, business_name: str) -> str:
    """The first text must name the business and say how to opt out (CTIA)."""
    body = body.strip()
    if business_name.lower() not in body.lower():
        body = f"{business_name}: {body}"
    if not says_how_to_opt_out(body):
        # A person's "Mike here" must not run into the duty line as one sentence.
        stop = "" if body.endswith((".", "!", "?")) else "."
        body = f"{body}{stop} {OPT_OUT_LINE}"
    return body
