"""Review requests: when a job is done, one request after the account's delay, out of the
customer's quiet hours, and one reminder three days on if the link was not clicked and the
customer has not replied. Nobody is asked twice within the account's cooldown (90 days).

Google's review policy and the FTC's rule on reviews (16 CFR 465) bind every word here: every
customer gets the same message and the same link; nothing is offered for a review; no step
sorts happy customers from unhappy ones ("review gating"); Claude writes none of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.campaigns.links import new_token
from loopstrat.compliance.consent import recipient_of
from loopstrat.compliance.quiet_hours import Calendar, next_sending_window
from loopstrat.models import Account, Campaign, Contact, Enrollment, Lead, LinkClick, Message
from loopstrat.outbox import Kind
from loopstrat.sms.outbound import SETTLED
from loopstrat.texts.checks import public_first_name
from loopstrat.texts.kinds import TextKind

REQUEST = TextKind.REVIEW_REQUEST
REMINDER = TextKind.REVIEW_REMINDER
REMINDER_AFTER = timedelta(days=3)
# The only words a review request is sent in: the same for everyone.
TEXTS = {
    REQUEST: (
        "Hi {first_name}, thank you for choosing {business}. If you have a minute, would you "
        "leave us a review? {link} Reply STOP to opt out."
    ),
    REMINDER: (
        "Hi {first_name}, {business} here. If you have a minute, a review would help us: "
        "{link} Reply STOP to opt out."
    ),
}


class NoReviewLink(ValueError):
    """The account has not said where reviews go: nothing can be planned."""


def plan_review_request(
    session: Session, account: Account, lead: Lead, now: datetime
) -> Enrollment:
    """Plan the job's request and its reminder (the caller commits); the request. Marking the
    same job done again finds the plan made the first time: one request per job."""
    if not account.review_link:
        raise NoReviewLink("no review link is set (Settings, or `loopstrat review-settings`)")
    key = f"review:{lead.id}"
    planned = session.scalar(select(Enrollment).where(Enrollment.key == key))
    if planned is not None:
        return planned
    contact = session.get_one(Contact, lead.contact_id)
    campaign = _review_campaign(session, account)
    state, reason = "pending", None
    if lead.source == "demo":
        state, reason = "skipped", "demo"  # demo leads reach no one (loopstrat/demo.py)
    elif asked_within(session, account, contact.id, now):
        state, reason = "skipped", "asked_recently"
    due = _out_of_quiet_hours(
        contact, account, lead, now + timedelta(minutes=account.review_delay_minutes)
    )
    request = _plan(session, campaign, lead, REQUEST, key, due, state, reason)
    request.link_token = new_token()
    reminder_due = _out_of_quiet_hours(contact, account, lead, due + REMINDER_AFTER)
    _plan(
        session, campaign, lead, REMINDER, f"review-reminder:{lead.id}", reminder_due, state, reason
    )
    return request


def skip_reason(session: Session, planned: Enrollment, now: datetime) -> str | None:
    """Why a plan come due is owed no text now, or None: re-checked when it falls due, since
    the customer may have been asked, clicked or replied in the meantime."""
    account = session.get_one(Account, planned.account_id)
    if not account.review_link:
        return "no_review_link"
    if planned.kind == REQUEST:
        if asked_within(session, account, planned.contact_id, now, besides=planned.id):
            return "asked_recently"
        return None
    request = request_of(session, planned)
    if request is None or request.state != "handed" or request.message_id is None:
        return "request_not_sent"
    sent = session.scalar(select(Message.status).where(Message.id == request.message_id))
    if sent not in SETTLED:
        return "request_not_sent"
    if session.scalar(select(exists().where(LinkClick.enrollment_id == request.id))):
        return "clicked"
    if _replied_since(session, planned, request.handed_at or now):
        return "replied"
    return None


def compose(session: Session, planned: Enrollment, contact: Contact, link: str) -> str:
    account = session.get_one(Account, planned.account_id)
    first_name = public_first_name(contact.name) or "there"
    return TEXTS[TextKind(planned.kind)].format(
        first_name=first_name, business=account.name, link=link
    )


def request_of(session: Session, planned: Enrollment) -> Enrollment | None:
    """The request a reminder follows (itself for a request): its link is the job's link."""
    if planned.kind == REQUEST:
        return planned
    return session.scalar(
        select(Enrollment).where(
            Enrollment.account_id == planned.account_id,
            Enrollment.key == f"review:{planned.lead_id}",
        )
    )


def asked_within(
    session: Session, account: Account, contact_id: int, now: datetime, *, besides: int = 0
) -> bool:
    """This contact was asked for a review within the cooldown, or a request is planned."""
    since = now - timedelta(days=account.review_cooldown_days)
    return bool(
        session.scalar(
            select(
                exists().where(
                    Enrollment.account_id == account.id,
                    Enrollment.contact_id == contact_id,
                    Enrollment.kind == REQUEST,
                    Enrollment.id != besides,
                    (Enrollment.state == "pending")
                    | ((Enrollment.state == "handed") & (Enrollment.handed_at > since)),
                )
            )
        )
    )


def _replied_since(session: Session, planned: Enrollment, since: datetime) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Message.account_id == planned.account_id,
                    Message.contact_id == planned.contact_id,
                    Message.direction == "in",
                    Message.created_at > since,
                )
            )
        )
    )


def _review_campaign(session: Session, account: Account) -> Campaign:
    """The account's one standing review campaign, made with its first request. The account
    row is locked first, so two jobs marked done at once make one campaign."""
    session.scalar(select(Account.id).where(Account.id == account.id).with_for_update())
    campaign = session.scalar(
        select(Campaign).where(Campaign.account_id == account.id, Campaign.kind == REQUEST)
    )
    if campaign is None:
        campaign = Campaign(account_id=account.id, kind=REQUEST, name="Review requests")
        session.add(campaign)
        session.flush()
    return campaign


def _plan(
    session: Session,
    campaign: Campaign,
    lead: Lead,
    kind: str,
    key: str,
    due: datetime,
    state: str,
    reason: str | None,
) -> Enrollment:
    planned = Enrollment(
        account_id=campaign.account_id,
        campaign_id=campaign.id,
        contact_id=lead.contact_id,
        lead_id=lead.id,
        kind=kind,
        key=key,
        due_at=due,
        state=state,
        reason=reason,
    )
    session.add(planned)
    session.flush()
    if state == "pending":
        outbox.schedule(
            session,
            account_id=campaign.account_id,
            kind=Kind.CAMPAIGN_PLAN,
            ref_id=str(planned.id),
            due_at=due,
        )
    return planned


def _out_of_quiet_hours(
    contact: Contact, account: Account, lead: Lead, moment: datetime
) -> datetime:
    """The first moment from `moment` the customer's quiet hours allow; the gate checks again
    when it is sent (a ZIP may have been corrected since)."""
    person = recipient_of(contact, account, lead.zip)
    window = next_sending_window(moment, person.zones, Calendar(person.states))
    return window[0] if window else moment
