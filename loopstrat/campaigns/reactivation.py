"""Reactivation offers: old customers invited back, paced, to those who agreed to marketing.

A campaign is drafted once by Claude from the contractor's brief (the template twin without a
key), edited and checked before launch, and personalised per contact from its template
(`{first_name}`, `{last_service}`). Launching picks the audience (marketing consent, not opted
out, last served more than N months ago, not texted in M days), holds a random share back
(the holdout, never texted, to measure the lift), and plans one row per contact. The pacer
(loopstrat/campaigns/pacer.py) releases them at the number's pace.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, exists, func, insert, select, update
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.campaigns.allowed_hours import FirstAllowed
from loopstrat.clock import utcnow
from loopstrat.compliance.consent import PENDING_OUT
from loopstrat.db import refresh_statistics
from loopstrat.drafting.claude import DraftFailed
from loopstrat.drafting.drafter import Drafter
from loopstrat.drafting.profile import BusinessProfile
from loopstrat.models import Account, Campaign, Contact, Enrollment, Message
from loopstrat.outbox import Kind
from loopstrat.sms.segments import segment_count
from loopstrat.texts.checks import IN_WORDS, Problem, public_first_name, text_problems

KIND = "reactivation"
PLACEHOLDERS = ("{first_name}", "{last_service}", "{business}")
BATCH = 2000
TEMPLATE_OFFER = (
    "Hi {first_name}, it's {business}. It's been a while since your last service "
    "({last_service}). {brief} Reply to book. Reply STOP to opt out."
)


class CampaignRefused(ValueError):
    """Why the campaign cannot be made, changed or launched, in words for the contractor."""


@dataclass(frozen=True)
class Audience:
    last_service_months: int
    not_texted_days: int


def draft_offer(drafter: Drafter | None, account: Account, brief: str) -> str:
    """The offer's template, drafted once for the contractor to review and edit."""
    fallback = TEMPLATE_OFFER.replace("{brief}", brief.strip().rstrip(".") + ".")
    if drafter is None:
        return fallback
    system = (
        f"You write one text message template for {account.name}, a {account.trade} "
        "business, inviting back customers it has not served in a long while.\n"
        "Rules:\n"
        "- Start with Hi {first_name}, and name the business.\n"
        "- You may use {last_service} (the month of their last service).\n"
        "- Follow the owner's brief; promise nothing it does not say.\n"
        "- At most 280 characters, plain text, no emoji, no links.\n"
        "- End with: Reply STOP to opt out.\n"
        "Answer with the template only."
    )
    try:
        completion = drafter.complete(system, [{"role": "user", "content": f"Brief: {brief}"}])
    except DraftFailed:
        return fallback
    body = completion.text.strip()
    return body if not template_problems(body, account) else fallback


def template_problems(body: str, account: Account) -> list[str]:
    """What keeps a template from being sent, in words; [] when it may go. Filled in for the
    longest name, then checked as every composed text is (loopstrat/texts/checks.py)."""
    problems = []
    unknown = {part.split("}")[0] for part in body.split("{")[1:]} - {
        p.strip("{}") for p in PLACEHOLDERS
    }
    if unknown:
        problems.append(f"unknown placeholders: {', '.join(sorted(unknown))}")
    filled = personalise(body, account.name, "Christopher", date(2020, 12, 1))
    for problem in text_problems(filled, BusinessProfile.of(account), duties=True,
                                 sales_words=False):  # fmt: skip
        if problem is Problem.PLACEHOLDER and unknown:
            continue  # said above, by name
        words = IN_WORDS[problem]
        if problem is Problem.NO_BUSINESS:
            words = f"{words} ({account.name} or {{business}})"
        if problem is Problem.TOO_LONG:
            words = f"{words}; it takes {segment_count(filled)}"
        problems.append(words)
    return problems


def personalise(body: str, business: str, name: str | None, last_service: date | None) -> str:
    first = public_first_name(name) or "there"
    served = f"{last_service:%B %Y}" if last_service else "your last visit"
    return (
        body.replace("{first_name}", first)
        .replace("{last_service}", served)
        .replace("{business}", business)
    )


def create_campaign(
    session: Session,
    drafter: Drafter | None,
    account: Account,
    *,
    name: str,
    brief: str,
    audience: Audience,
    holdout_pct: int = 10,
) -> Campaign:
    """A draft campaign with its drafted template; the caller commits."""
    if not name.strip() or not brief.strip():
        raise CampaignRefused("give the campaign a name and a brief")
    if not 0 <= holdout_pct <= 50:
        raise CampaignRefused("the holdout is 0 to 50 percent of the audience")
    if audience.last_service_months < 1 or audience.not_texted_days < 0:
        raise CampaignRefused("last served at least 1 month ago; not texted in 0 or more days")
    campaign = Campaign(
        account_id=account.id,
        kind=KIND,
        name=name.strip()[:120],
        brief=brief.strip(),
        body_template=draft_offer(drafter, account, brief),
        state="draft",
        last_service_months=audience.last_service_months,
        not_texted_days=audience.not_texted_days,
        holdout_pct=holdout_pct,
        holdout_seed=secrets.token_hex(16),
    )
    session.add(campaign)
    session.flush()
    return campaign


def edit_template(session: Session, campaign: Campaign, body: str) -> None:
    if campaign.state != "draft":
        raise CampaignRefused("only a draft can be edited: launched texts say what they said")
    account = session.get_one(Account, campaign.account_id)
    problems = template_problems(body, account)
    if problems:
        raise CampaignRefused("; ".join(problems))
    campaign.body_template = body.strip()


def held_back(seed: str, contact_id: int, pct: int) -> bool:
    """Whether the contact is in the holdout: a fair coin per contact from the campaign's
    seed, so a launch run twice splits the audience the same way."""
    digest = hashlib.sha256(f"{seed}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < pct / 100


def audience_size(session: Session, campaign: Campaign, now: datetime) -> int:
    """How many contacts the rule picks now, holdout included: shown before launch."""
    picked = _audience_query(campaign, now).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(picked)) or 0)


def audience(
    session: Session, campaign: Campaign, now: datetime
) -> Iterator[tuple[int, str, str | None]]:
    """(id, phone, zip) of the contacts the rule picks, streamed in id order."""
    query = _audience_query(campaign, now).execution_options(yield_per=BATCH)
    for row in session.execute(query):
        yield row.id, row.phone, row.zip


def _audience_query(campaign: Campaign, now: datetime) -> Select[int, str, str | None]:
    months = campaign.last_service_months or 0
    served_before = (now - timedelta(days=round(months * 30.44))).date()
    texted_since = now - timedelta(days=campaign.not_texted_days or 0)
    recently_texted = exists().where(
        Message.account_id == campaign.account_id,
        Message.contact_id == Contact.id,
        Message.direction == "out",
        Message.sent_at > texted_since,
    )
    query = (
        select(Contact.id, Contact.phone, Contact.zip)
        .where(
            Contact.account_id == campaign.account_id,
            Contact.marketing_consent_at.is_not(None),
            Contact.opted_out_at.is_(None),
            Contact.last_service_on < served_before,
            ~recently_texted,
        )
        .order_by(Contact.id)
    )
    return query


def launch(session: Session, campaign: Campaign, now: datetime) -> tuple[int, int]:
    """Plan a text to every contact in the audience but the holdout; (planned, held back).
    The caller commits: the plans and the pacer's first tick land together."""
    if campaign.state != "draft":
        raise CampaignRefused(f"the campaign is {campaign.state}: only a draft can be launched")
    account = session.get_one(Account, campaign.account_id)
    problems = template_problems(campaign.body_template, account)
    if problems:
        raise CampaignRefused("; ".join(problems))
    planned = held = 0
    rows: list[dict[str, object]] = []
    allowed = FirstAllowed(account.timezone, now)
    for contact_id, phone, zip5 in audience(session, campaign, now):
        keep_back = held_back(campaign.holdout_seed or "", contact_id, campaign.holdout_pct)
        rows.append(
            {"account_id": account.id, "campaign_id": campaign.id, "contact_id": contact_id,
             "kind": KIND, "key": f"reactivation:{campaign.id}:{contact_id}",
             "due_at": now if keep_back else allowed.start(phone, zip5) or now,
             "state": "held_back" if keep_back else "pending", "created_at": now}
        )  # fmt: skip
        held += keep_back
        planned += not keep_back
        if len(rows) == BATCH:
            session.execute(insert(Enrollment), rows)
            rows = []
    if rows:
        session.execute(insert(Enrollment), rows)
    if not planned + held:
        raise CampaignRefused(
            "nobody is in the audience: no contact with marketing consent was last served "
            f"over {campaign.last_service_months} months ago and not texted in "
            f"{campaign.not_texted_days} days (import customers with `campaign import`)"
        )
    campaign.state, campaign.launched_at = "running", now
    refresh_statistics(session, "enrollments")
    outbox.schedule(
        session, account_id=account.id, kind=Kind.CAMPAIGN_TICK, ref_id=str(campaign.id)
    )
    return planned, held


def _offer_only(campaign: Campaign) -> None:
    if campaign.kind != KIND:
        raise CampaignRefused(
            "review requests are not paused or cancelled: clear the review link (Settings, "
            "or review-settings --link '') to stop planning them"
        )


def pause(session: Session, campaign: Campaign, reason: str) -> None:
    _offer_only(campaign)
    if campaign.state != "running":
        raise CampaignRefused(f"the campaign is {campaign.state}: only a running one pauses")
    campaign.state, campaign.paused_reason = "paused", reason[:200]


def resume(session: Session, campaign: Campaign) -> None:
    """Send again. The automatic pause judges only the texts sent from now: the ones that
    paused it are the contractor's to weigh, and would pause it again at once."""
    _offer_only(campaign)
    if campaign.state != "paused":
        raise CampaignRefused(f"the campaign is {campaign.state}: only a paused one resumes")
    campaign.state, campaign.paused_reason = "running", None
    campaign.judged_from = utcnow()
    outbox.schedule(
        session, account_id=campaign.account_id, kind=Kind.CAMPAIGN_TICK, ref_id=str(campaign.id)
    )


def cancel(session: Session, campaign: Campaign) -> int:
    """Nothing more goes: its plans and its texts not yet sent are cancelled; how many."""
    _offer_only(campaign)
    if campaign.state in ("cancelled", "done"):
        raise CampaignRefused(f"the campaign is {campaign.state} already")
    campaign.state, campaign.paused_reason = "cancelled", None
    unsent = select(Enrollment.message_id).where(
        Enrollment.campaign_id == campaign.id, Enrollment.message_id.is_not(None)
    )
    session.execute(
        update(Message)
        .where(
            Message.account_id == campaign.account_id,
            Message.id.in_(unsent),
            Message.status.in_(PENDING_OUT),
        )
        .values(status="cancelled", reason="campaign_cancelled", scheduled_for=None)
    )
    result = session.execute(
        update(Enrollment)
        .where(Enrollment.campaign_id == campaign.id, Enrollment.state == "pending")
        .values(state="cancelled", reason="campaign_cancelled")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def skip_reason(session: Session, plan: Enrollment, now: datetime) -> str | None:
    """Re-checked when the plan is handed out: texted since launch, by anyone, within the
    campaign's quiet spell (a conversation, another campaign)."""
    campaign = session.get_one(Campaign, plan.campaign_id)
    since = now - timedelta(days=campaign.not_texted_days or 0)
    texted = session.scalar(
        select(
            exists().where(
                Message.account_id == plan.account_id,
                Message.contact_id == plan.contact_id,
                Message.direction == "out",
                Message.sent_at > since,
            )
        )
    )
    return "texted_recently" if texted else None


def compose(session: Session, plan: Enrollment, contact: Contact) -> str:
    campaign = session.get_one(Campaign, plan.campaign_id)
    account = session.get_one(Account, plan.account_id)
    return personalise(campaign.body_template, account.name, contact.name, contact.last_service_on)
