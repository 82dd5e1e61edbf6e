"""Contractor accounts: creating one with validated settings and its own intake form key."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.models import Account
from loopstrat.phones import InvalidPhone, normalise

ZIP_LIST_RE = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class AccountSpec:
    name: str
    trade: str
    twilio_number: str
    timezone: str
    zips: str = ""
    alert_phone: str | None = None
    website: str | None = None


def create_account(session: Session, spec: AccountSpec) -> Account:
    """Validate and add a trialing account; raise ValueError naming the bad option."""
    name, trade = spec.name.strip(), spec.trade.strip()
    if not name or not trade:
        raise ValueError("--name and --trade must not be empty")
    number = _phone("--twilio-number", spec.twilio_number)
    alert = _phone("--alert-phone", spec.alert_phone) if spec.alert_phone else None
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"--timezone {spec.timezone!r} is not an IANA zone") from None
    zips = [z.strip() for z in spec.zips.split(",") if z.strip()]
    bad = [z for z in zips if not ZIP_LIST_RE.match(z)]
    if bad:
        raise ValueError(f"--zips: not 5-digit ZIP codes: {', '.join(bad)}")
    if session.scalar(select(Account.id).where(Account.twilio_number == number)):
        raise ValueError(f"--twilio-number {number} already belongs to an account")
    account = Account(
        name=name,
        trade=trade,
        twilio_number=number,
        timezone=spec.timezone,
        service_zips=",".join(zips),
        alert_phone=alert,
        website=spec.website,
        form_key=secrets.token_urlsafe(12),
        plan_status="trialing",
    )
    session.add(account)
    session.flush()
    return account


def _phone(option: str, raw: str) -> str:
    try:
        return normalise(raw)
    except InvalidPhone as exc:
        raise ValueError(f"{option} {raw!r}: {exc}") from None
