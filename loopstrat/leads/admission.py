"""Whether a lead post is answered, held for review, or refused, from this minute's counts.

A pure decision: the door counts, this decides, intake stores. It never refuses or holds a post
under the limits, nor one from an address that posts like one person, however flooded the form.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

# Over its limits a sender's posts are still stored (held) up to this many times the limit a
# minute; past that they are refused with 429, so one sender's database writes stay bounded.
STORE_FACTOR = 10
# A person posts a form once or twice a minute. While a form is flooded, an address posting
# no more than this is still answered at once: that is how a real lead gets through.
PERSON_POSTS_PER_MIN = 3


class Admission(Enum):
    ANSWER = "answer"  # stored and answered as usual
    HOLD = "hold"  # stored, its reply held until the flood passes or someone reviews it
    REFUSE = "refuse"  # 429: not stored, nothing touched but the counters


@dataclass(frozen=True)
class IntakeLimits:
    per_address_per_min: int
    per_form_per_min: int


def admit(address_posts: int, form_posts: int, limits: IntakeLimits) -> Admission:
    """The fate of a post that is this minute's address_posts-th from its address and
    form_posts-th to its form."""
    if address_posts <= min(PERSON_POSTS_PER_MIN, limits.per_address_per_min):
        return Admission.ANSWER
    if (
        address_posts > limits.per_address_per_min * STORE_FACTOR
        or form_posts > limits.per_form_per_min * STORE_FACTOR
    ):
        return Admission.REFUSE
    if address_posts > limits.per_address_per_min or form_posts > limits.per_form_per_min:
        return Admission.HOLD
    return Admission.ANSWER


def sender_of(remote_addr: str | None) -> str:
    """Whom a post's address stands for: an IPv4 address, or an IPv6 /64, the block one
    home or phone is given, so a sender cannot step past its limit by changing addresses."""
    try:
        ip = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return remote_addr or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
