"""Contractor accounts: creating one with validated settings and its own intake form key."""

from __future__ import annotations

import difflib
import functools
import re
import secrets
import zoneinfo
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.models import Account
from loopstrat.phones import InvalidPhone, normalise
from loopstrat.web_address import website

ZIP_LIST_RE = re.compile(r"^\d{5}$")
HHMM = r"(?:[01]\d|2[0-3]):[0-5]\d"  # 00:00 to 23:59


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
    timezone = canonical_zone(spec.timezone)
    zips = service_zips(spec.zips, "--zips")
    if spec.website:
        try:
            website(spec.website)
        except ValueError as exc:
            raise ValueError(f"--website: {exc}") from None
    if session.scalar(select(Account.id).where(Account.twilio_number == number)):
        raise ValueError(f"--twilio-number {number} already belongs to an account")
    account = Account(
        name=name,
        trade=trade,
        twilio_number=number,
        timezone=timezone,
        service_zips=zips,
        alert_phone=alert,
        website=spec.website,
        form_key=secrets.token_urlsafe(12),
        plan_status="trialing",
    )
    session.add(account)
    session.flush()
    return account


def service_zips(raw: str, what: str | None = "service ZIPs") -> str:
    """'84101, 84102' -> '84101,84102'; anything not a 5-digit ZIP is named in the error
    (after `what`, when the caller's own label does not already name the field)."""
    zips = [z.strip() for z in raw.replace("\n", ",").split(",") if z.strip()]
    bad = [z for z in zips if not ZIP_LIST_RE.match(z)]
    if bad:
        problem = f"not 5-digit ZIP codes: {', '.join(bad)}"
        raise ValueError(f"{what}: {problem}" if what else problem)
    return ",".join(dict.fromkeys(zips))


def canonical_zone(raw: str) -> str:
    """The IANA zone as tzdata spells it, whatever the case; a miss names the closest zones."""
    zones = _zones_by_lower()
    wanted = raw.strip().replace(" ", "_").lower()
    if wanted in zones:
        return zones[wanted]
    close = difflib.get_close_matches(wanted, zones, n=3, cutoff=0.6)
    names = [zones[z] for z in close]
    hint = f"; did you mean {', '.join(names[:-1])} or {names[-1]}?" if len(names) > 1 else ""
    hint = hint or (f"; did you mean {names[0]}?" if names else "")
    raise ValueError(f"--timezone {raw!r} is not an IANA zone such as America/Denver{hint}")


@functools.cache
def _zones_by_lower() -> dict[str, str]:
    return {zone.lower(): zone for zone in zoneinfo.available_timezones()}


def _phone(option: str, raw: str) -> str:
    try:
        return normalise(raw)
    except InvalidPhone as exc:
        raise ValueError(f"{option} {raw!r}: {exc}") from None
