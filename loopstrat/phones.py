"""Phone numbers: E.164 normalisation and where a number (or a ZIP) is in the world.

Never guesses a number outside the North American Numbering Plan: Loopstrat texts NANP only.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
import zipcodes
from phonenumbers import timezone as pn_timezone

from loopstrat.area_codes import AREA_CODE_STATES

NANP_COUNTRY_CODE = 1
ZIP_RE = re.compile(r"^\d{5}$")


class InvalidPhone(ValueError):
    pass


def normalise(raw: str) -> str:
    """E.164 for any valid North American number (US, its territories, Canada)."""
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        raise InvalidPhone("not a phone number") from None
    if parsed.country_code != NANP_COUNTRY_CODE or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid North American phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Where Loopstrat texts: the US, its territories and Canada. The rest of the +1 plan (Jamaica,
# the Dominican Republic, ...) is billed at international rates, and toll-free, premium and
# shared-cost numbers are where SMS-pumping fraud has texts sent, on the contractor's bill.
TEXTABLE_REGIONS = frozenset({"US", "CA", "PR", "GU", "VI", "AS", "MP"})
UNTEXTABLE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
    }
)
NOT_TEXTABLE = (
    "not a US or Canadian mobile or landline number (toll-free and premium lines refused)"
)


def normalise_recipient(raw: str) -> str:
    """E.164 for a number the product may text: a person's line in the US, its territories or
    Canada (a lead, an imported customer, an alert phone)."""
    e164 = normalise(raw)
    if not is_textable(e164):
        raise InvalidPhone(NOT_TEXTABLE)
    return e164


@lru_cache(maxsize=4096)
def is_textable(e164: str) -> bool:
    """A number Loopstrat may text: a person's line where it texts; not a short code, a
    foreign sender that texted in, or a toll-free or premium line."""
    try:
        if normalise(e164) != e164:
            return False
    except InvalidPhone:
        return False
    parsed = phonenumbers.parse(e164)
    return (
        phonenumbers.region_code_for_number(parsed) in TEXTABLE_REGIONS
        and phonenumbers.number_type(parsed) not in UNTEXTABLE_TYPES
    )


def normalise_zip(raw: str | None) -> str | None:
    if not raw:
        return None
    zip5 = raw.strip()[:5]
    return zip5 if ZIP_RE.match(zip5) else None


@lru_cache(maxsize=4096)
def zip_place(zip5: str) -> tuple[str, str] | None:
    """(state code, IANA zone) of a US ZIP, or None when unknown."""
    matches = zipcodes.matching(zip5) if ZIP_RE.match(zip5) else []  # type: ignore[no-untyped-call]
    for match in matches:
        if match.get("timezone") and match.get("state"):
            return match["state"], match["timezone"]
    return None


@lru_cache(maxsize=4096)
def number_zones(e164: str) -> tuple[str, ...]:
    zones = pn_timezone.time_zones_for_number(phonenumbers.parse(e164))
    return tuple(z for z in zones if "/" in z)  # drops "Etc/Unknown"


def number_state(e164: str) -> str | None:
    """The US state an area code belongs to (loopstrat/area_codes.py)."""
    if phonenumbers.region_code_for_number(phonenumbers.parse(e164)) != "US":
        return None
    return AREA_CODE_STATES.get(e164[2:5])


def recipient_place(e164: str, zip5: str | None) -> tuple[tuple[str, ...], frozenset[str]]:
    """The zones a recipient may be in, and the states whose laws may apply to them.

    Zones come from the ZIP when known, else from the number. States are both the ZIP's and
    the area code's, because state telemarketing laws (Florida's FTSA, for one) presume a
    resident from the area code even when the person lives elsewhere.
    """
    if not is_textable(e164):
        return (), frozenset()
    states: set[str] = set()
    zones: tuple[str, ...] = ()
    place = zip_place(zip5) if zip5 else None
    if place:
        states.add(place[0])
        zones = (place[1],)
    area_state = number_state(e164)
    if area_state:
        states.add(area_state)
    if not zones:
        zones = number_zones(e164)
    return zones, frozenset(states)


def mask(e164: str) -> str:
    """For logs: never a whole number in clear."""
    return f"***{e164[-4:]}" if len(e164) > 4 else "***"
