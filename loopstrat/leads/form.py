"""A posted lead form, validated: pure functions over the posted fields, no storage.

Names every bad field at once, so a form can show them all; never touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from loopstrat.phones import InvalidPhone, normalise_recipient, normalise_zip

HONEYPOT_FIELD = "hp_website"
TRUTHY = frozenset({"on", "yes", "true", "1", "y", "checked", "agree", "agreed"})
LIMITS = {"name": 120, "email": 200, "message": 2000, "service": 120, "source": 60, "page": 500}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ZIP_INPUT_RE = re.compile(r"^\d{5}(?:-?\d{4})?$")
TEXT_FIELDS = ("phone", "name", "email", "message", "service", "zip", "source")
NOT_TEXT = "must be text, not a list or an object"


class FormErrors(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class LeadForm:
    phone: str
    name: str | None
    email: str | None
    message: str
    service: str | None
    zip: str | None
    consent: bool
    # The form's second, optional checkbox: express written consent to marketing texts.
    marketing_consent: bool
    source: str
    page_url: str | None

    @classmethod
    def parse(cls, fields: Mapping[str, object]) -> LeadForm:
        """Raise FormErrors naming every bad field at once."""
        text = {k: _text(fields.get(k)) for k in ("phone", "name", "email", "message", "service")}
        text["zip"] = _text(fields.get("zip"))
        text["source"] = _text(fields.get("source"))
        text["page"] = _text(fields.get("page_url") or fields.get("page"))
        errors = {
            name: NOT_TEXT for name in TEXT_FIELDS if isinstance(fields.get(name), list | dict)
        }
        phone = "" if "phone" in errors else _phone(text["phone"], errors)
        for field, limit in LIMITS.items():
            if len(text[field]) > limit:
                errors[field] = f"must be at most {limit} characters"
        if text["email"] and "email" not in errors and not EMAIL_RE.match(text["email"]):
            errors["email"] = "is not an email address"
        if text["zip"] and not ZIP_INPUT_RE.match(text["zip"]):
            errors["zip"] = "must be a US ZIP code: 5 digits, or ZIP+4"
        if errors:
            raise FormErrors(errors)
        return cls(
            phone=phone,
            name=text["name"] or None,
            email=text["email"] or None,
            message=text["message"],
            service=text["service"] or None,
            zip=normalise_zip(text["zip"]),
            consent=_truthy(fields.get("consent")),
            marketing_consent=_truthy(fields.get("marketing_consent")),
            source=text["source"] or "web_form",
            page_url=text["page"] or None,
        )


def _phone(raw: str, errors: dict[str, str]) -> str:
    if not raw:
        errors["phone"] = "is required"
        return ""
    try:
        return normalise_recipient(raw)
    except InvalidPhone as exc:
        errors["phone"] = str(exc)
        return ""


def is_bot(fields: Mapping[str, object]) -> bool:
    """A hidden field people never see and bots fill in."""
    return bool(_text(fields.get(HONEYPOT_FIELD)))


def _text(value: object) -> str:
    # Only text and numbers are field values: a list or an object (however deep) is no answer.
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    return str(value).strip()


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return _text(value).lower() in TRUTHY
