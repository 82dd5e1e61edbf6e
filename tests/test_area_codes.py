"""loopstrat/area_codes.py is libphonenumber's geocoding, boiled down: derived here again from
the installed phonenumbers, it must be the same table (regenerate it with
`python -m tests.test_area_codes` prints it, when not)."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from loopstrat.area_codes import AREA_CODE_STATES
from loopstrat.phones import number_state

STATE_NAMES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Washington D.C.": "DC",
}  # fmt: skip


def derived() -> dict[str, str]:
    """The area code's own entry where it names a state; else what most of its exchanges name
    ("Seattle, WA")."""
    from phonenumbers.geodata import GEOCODE_DATA  # about 100 MB: tests only

    codes = set(STATE_NAMES.values())
    own: dict[str, str] = {}
    votes: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for prefix, names in GEOCODE_DATA.items():
        if not prefix.startswith("1") or "en" not in names:
            continue
        name, tail = names["en"], names["en"].rsplit(", ", 1)[-1]
        state = STATE_NAMES.get(name) or (tail if tail in codes else None)
        if state and len(prefix) == 4:
            own[prefix[1:]] = state
        elif state:
            votes[prefix[1:4]][state] += 1
    table = {npa: counted.most_common(1)[0][0] for npa, counted in votes.items()}
    return dict(sorted({**table, **own}.items()))


def test_the_table_is_libphonenumbers_own():
    assert AREA_CODE_STATES == derived()


def test_a_number_s_state_comes_from_its_area_code():
    assert number_state("+18015550142") == "UT"
    assert number_state("+12065550142") == "WA"  # "Washington State" in the geocoder
    assert number_state("+13055550142") == "FL"
    assert number_state("+14165550142") is None  # Toronto: not a US state
    assert number_state("+16714752201") is None  # Guam: a territory, no state law


if __name__ == "__main__":
    items = list(derived().items())
    for i in range(0, len(items), 7):
        sys.stdout.write("    " + " ".join(f'"{a}": "{b}",' for a, b in items[i : i + 7]) + "\n")
