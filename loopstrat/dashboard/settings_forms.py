"""The settings forms read and checked: each section's fields become the Account columns to
change, or FieldErrors naming every field that is wrong and why. Nothing is written here."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from loopstrat.accounts import HHMM, service_zips
from loopstrat.phones import InvalidPhone, normalise_recipient
from loopstrat.web_address import web_address

AI_MODES = ("off", "assist", "auto")
# How the page names each field, for "Saved: ..." (the form's own labels say the same).
LABELS = {
    "name": "business name", "trade": "trade", "service_zips": "service ZIP codes",
    "business_hours": "business hours", "tone": "tone", "never_promise": "what never to promise",
    "ai_mode": "AI mode", "ai_quiet_spell_s": "AI quiet spell",
    "handoff_window_s": "hand-off window", "alert_phone": "alert phone",
    "alert_dnd_start": "do-not-disturb start", "alert_dnd_end": "do-not-disturb end",
    "owner_name": "owner name", "thank_you_url": "thank-you URL",
    "review_link": "review link", "review_delay_minutes": "review delay",
    "review_cooldown_days": "review cooldown",
}  # fmt: skip
HHMM_RE = re.compile(HHMM)


class FieldErrors(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def profile(form: Mapping[str, str]) -> dict[str, Any]:
    return _checked(
        form,
        {
            "name": _text(120, required=True),
            "trade": _text(60, required=True),
            "service_zips": lambda raw: service_zips(raw, None),  # the page names the field
            "business_hours": _text(200, required=True),
            "tone": _text(200, required=True),
            "never_promise": _text(500, required=True),
        },
    )


def conversations(form: Mapping[str, str]) -> dict[str, Any]:
    changes = _checked(
        form,
        {
            "ai_mode": _choice(AI_MODES),
            "ai_quiet_spell_s": _whole(1, 600),
            "handoff_window_s": _whole(60, 86_400),
            "alert_phone": _phone,
            "alert_dnd_start": _hhmm,
            "alert_dnd_end": _hhmm,
            "owner_name": _text(60),
            "thank_you_url": _url,
        },
    )
    if (changes["alert_dnd_start"] is None) != (changes["alert_dnd_end"] is None):
        raise FieldErrors({"alert_dnd_end": "give both a start and an end, or neither"})
    return changes


def reviews(form: Mapping[str, str]) -> dict[str, Any]:
    return _checked(
        form,
        {
            "review_link": _url,
            "review_delay_minutes": _whole(0, 10_080),  # at most a week after the job
            "review_cooldown_days": _whole(1, 730),
        },
    )


def _checked(form: Mapping[str, str], fields: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, check in fields.items():
        try:
            changes[name] = check(form.get(name, "").strip())
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise FieldErrors(errors)
    return changes


def _text(limit: int, *, required: bool = False) -> Callable[[str], str | None]:
    def check(raw: str) -> str | None:
        if required and not raw:
            raise ValueError("must not be empty")
        if len(raw) > limit:
            raise ValueError(f"at most {limit} characters")
        return raw or None

    return check


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"choose one of {', '.join(choices)}")
        return raw

    return check


def _whole(low: int, high: int) -> Callable[[str], int]:
    def check(raw: str) -> int:
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return int(raw)

    return check


def _phone(raw: str) -> str | None:
    if not raw:
        return None  # no alert phone: alerts are off
    try:
        return normalise_recipient(raw)
    except InvalidPhone as exc:
        raise ValueError(str(exc)) from None


def _hhmm(raw: str) -> str | None:
    if raw and not HHMM_RE.fullmatch(raw):
        raise ValueError("a time like 21:30 (24-hour clock)")
    return raw or None


def _url(raw: str) -> str | None:
    return web_address(raw) if raw else None
