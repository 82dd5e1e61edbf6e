"""A planned text come due: written and sent through the one sending path, or skipped with its
reason. Safe to run twice, or in two workers at once: the plan is decided under a write lock,
and its text has one idempotency key."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.campaigns import reactivation, reviews
from loopstrat.campaigns.links import link_url
from loopstrat.clock import utcnow
from loopstrat.conversations.texts import send_stored, store_text
from loopstrat.db import begin_writing
from loopstrat.models import Account, Campaign, Contact, Enrollment
from loopstrat.outbox import Kind
from loopstrat.runtime import Runtime

log = logging.getLogger(__name__)


def hand_out(rt: Runtime, enrollment_id: int) -> str:
    ref = str(enrollment_id)
    now = utcnow()
    with rt.sessions() as session:
        begin_writing(session)
        planned = session.get(Enrollment, enrollment_id)
        if planned is None or planned.state != "pending":
            outbox.finish(session, Kind.CAMPAIGN_PLAN, ref, reason="not_pending")
            session.commit()
            return "not_pending"
        campaign = session.get_one(Campaign, planned.campaign_id)
        if campaign.state != "running":  # paused: the pacer releases it again on resume
            planned.released_at = None
            outbox.finish(session, Kind.CAMPAIGN_PLAN, ref, reason=f"campaign_{campaign.state}")
            session.commit()
            return f"campaign_{campaign.state}"
        reason = _skip_reason(session, planned, now)
        if reason is not None:
            planned.state, planned.reason = "skipped", reason
            outbox.finish(session, Kind.CAMPAIGN_PLAN, ref, reason=reason)
            session.commit()
            log.info("campaign_plan enrollment_id=%s skipped reason=%s", enrollment_id, reason)
            return "skipped"
        message_id = _write(rt, session, planned)
        planned.state, planned.message_id, planned.handed_at = "handed", message_id, now
        outbox.finish(session, Kind.CAMPAIGN_PLAN, ref)
        session.commit()
    outcome = send_stored(rt, message_id, Kind.CAMPAIGN_TEXT)
    return outcome.result if outcome else "missing"


def _write(rt: Runtime, session: Session, planned: Enrollment) -> int:
    """The plan's text, stored with its own outbox row: sent right after the commit, and by
    the dispatcher if this job dies first."""
    account = session.get_one(Account, planned.account_id)
    contact = session.get_one(Contact, planned.contact_id)
    if planned.kind == reactivation.KIND:
        body = reactivation.compose(session, planned, contact)
    else:
        request = reviews.request_of(session, planned)
        token = request.link_token if request is not None else None
        link = link_url(rt.settings.public_base_url, token or "")
        body = reviews.compose(session, planned, contact, link)
    msg = store_text(
        session,
        key=f"campaign:{planned.id}",
        account=account,
        to=contact.phone,
        kind=planned.kind,
        body=body,
        drafted_by="template",
        contact_id=contact.id,
        lead_id=planned.lead_id,
        outbox_kind=Kind.CAMPAIGN_TEXT,
    )
    return msg.id


def _skip_reason(session: Session, planned: Enrollment, now: datetime) -> str | None:
    if planned.kind == reactivation.KIND:
        return reactivation.skip_reason(session, planned, now)
    return reviews.skip_reason(session, planned, now)
