"""The business profile a draft is written from, and the system prompt built from it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from loopstrat.models import Account


@dataclass(frozen=True)
class BusinessProfile:
    name: str
    trade: str
    service_zips: tuple[str, ...]
    hours: str
    tone: str
    never_promise: str
    website: str | None
    phone: str | None = None  # the business's own number: the one a text may give

    @property
    def website_host(self) -> str | None:
        if not self.website:
            return None
        url = self.website if "://" in self.website else f"https://{self.website}"
        return (urlparse(url).hostname or "").removeprefix("www.") or None

    @classmethod
    def of(cls, account: Account) -> BusinessProfile:
        zips = tuple(z.strip() for z in account.service_zips.split(",") if z.strip())
        return cls(
            name=account.name,
            trade=account.trade,
            service_zips=zips,
            hours=account.business_hours,
            tone=account.tone,
            never_promise=account.never_promise,
            website=account.website,
            phone=account.twilio_number,
        )


@dataclass(frozen=True)
class Inquiry:
    first_name: str | None
    service: str | None
    message: str
    zip: str | None


def first_reply_system_prompt(profile: BusinessProfile) -> str:
    area = ", ".join(profile.service_zips) or "not stated"
    website = profile.website or "none"
    return (
        f"You write the first text message from {profile.name}, a {profile.trade} business, "
        "to someone who just asked for help through its website.\n"
        f"Service area ZIP codes: {area}. Business hours: {profile.hours}. "
        f"Tone: {profile.tone}. Website: {website}.\n"
        "Rules:\n"
        f"- Start with the business name, {profile.name}.\n"
        "- Thank them, show you understood their problem, and ask one question that moves the "
        "job forward (address or ZIP, when suits them, or a detail of the problem).\n"
        f"- Never promise {profile.never_promise}. No prices, no dollar amounts, no guaranteed "
        "times.\n"
        "- No placeholders or brackets; if you do not know their name, do not use one.\n"
        "- No links, except the business website if it truly helps.\n"
        "- At most 260 characters, plain text, no emoji.\n"
        "- End with: Reply STOP to opt out.\n"
        "Answer with the text message only."
    )


def inquiry_prompt(inquiry: Inquiry) -> str:
    lines = [f"Name: {inquiry.first_name or 'not given'}"]
    if inquiry.service:
        lines.append(f"Service asked for: {inquiry.service}")
    if inquiry.zip:
        lines.append(f"ZIP: {inquiry.zip}")
    lines.append(f"Their message: {inquiry.message or '(no message)'}")
    return "\n".join(lines)
