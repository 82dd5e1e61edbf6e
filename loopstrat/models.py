"""The database schema: the source of truth for every lead, text and consent.

Every tenant table carries account_id and every query of tenant data filters on it.
Times are timezone-aware UTC, money is integer cents, phones are E.164.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from loopstrat.clock import utcnow
from loopstrat.db import Base, UTCDateTime

PLAN_ACTIVE_STATES = ("trialing", "active")
# Ids name records outside the database (Airtable's C12/L34/M56, consent evidence): SQLite
# would hand a deleted row's id to the next one; PostgreSQL's sequences never do.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    trade: Mapped[str] = mapped_column(String(60))
    twilio_number: Mapped[str] = mapped_column(String(20), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    service_zips: Mapped[str] = mapped_column(Text, default="")
    # Set by the account owner: their consent to alerts there (compliance.gates.ALERT).
    alert_phone: Mapped[str | None] = mapped_column(String(20))
    # STOP from the alert phone: no alerts until START (consent_events hold the evidence).
    alerts_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    form_key: Mapped[str] = mapped_column(String(40), unique=True)
    website: Mapped[str | None] = mapped_column(String(200))
    thank_you_url: Mapped[str | None] = mapped_column(String(500))
    business_hours: Mapped[str] = mapped_column(String(200), default="Mon-Fri 8am-6pm")
    tone: Mapped[str] = mapped_column(String(200), default="friendly and professional")
    never_promise: Mapped[str] = mapped_column(
        Text, default="prices, quotes or exact arrival times"
    )
    consent_text: Mapped[str] = mapped_column(
        Text,
        default=(
            "By checking this box you agree to receive text messages about your request "
            "and follow-ups about your job, such as a request for a review. "
            "Msg & data rates may apply. Reply STOP to opt out."
        ),
    )
    # The form's second, optional checkbox: marketing texts (reactivation offers) need it.
    marketing_consent_text: Mapped[str] = mapped_column(
        Text,
        default=(
            "Also text me occasional offers. Consent is not a condition of purchase. "
            "Msg & data rates may apply. Reply STOP to opt out."
        ),
    )
    plan_status: Mapped[str] = mapped_column(String(20), default="trialing")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(60))
    ai_mode: Mapped[str] = mapped_column(String(10), default="off")  # off | assist | auto
    ai_quiet_spell_s: Mapped[int] = mapped_column(Integer, default=20)
    handoff_window_s: Mapped[int] = mapped_column(Integer, default=600)
    alert_dnd_start: Mapped[str | None] = mapped_column(String(5))  # "22:00", account's zone
    alert_dnd_end: Mapped[str | None] = mapped_column(String(5))
    advanced_opt_out: Mapped[bool] = mapped_column(Boolean, default=True)
    # The person named in the holding text ("Mike from Acme will text you shortly").
    owner_name: Mapped[str | None] = mapped_column(String(60))
    frequency_cap_24h: Mapped[int] = mapped_column(Integer, default=3)
    # Review requests (loopstrat/campaigns/reviews.py): where the tracked link leads (a Google
    # writereview?placeid= link or any page), how long after the job, and how long before the
    # same person may be asked again.
    review_link: Mapped[str | None] = mapped_column(String(500))
    review_delay_minutes: Mapped[int] = mapped_column(Integer, default=120)
    review_cooldown_days: Mapped[int] = mapped_column(Integer, default=90)
    # Campaign pacing: the number's throughput (1 a second for a 10DLC long code) and the
    # carriers' daily cap for the brand's trust score.
    sends_per_second: Mapped[float] = mapped_column(Float, default=1.0)
    daily_send_cap: Mapped[int] = mapped_column(Integer, default=2000)
    # Whether consent_text covers follow-ups about the customer's job (a review request). The
    # default text does; one written before it said so did not, and keeps False.
    consent_covers_follow_ups: Mapped[bool] = mapped_column(Boolean, default=True)
    # The SHA-256 of the account's API key (loopstrat/api_keys.py); the key is shown once.
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    airtable_token_encrypted: Mapped[str | None] = mapped_column(Text)
    airtable_base_id: Mapped[str | None] = mapped_column(String(40))
    airtable_tables: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.plan_status in PLAN_ACTIVE_STATES


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(10), default="member")  # admin | member
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Removed by an admin: signs in no more. Kept, not deleted: invites and audit rows name it.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignIn(Base):
    """One browser's sign-in to the dashboard. The cookie carries a token, the row only its
    SHA-256, so the server can end it: sign-out, a password change, the user removed."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invite(Base):
    """An admin's invitation for staff: the link carries a token, the row only its hash."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10), default="member")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("account_id", "phone"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No index of its own: the unique key leads with it (an index is a cost on every lead post).
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    zip: Mapped[str | None] = mapped_column(String(10))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set with consent_at when the text the person agreed to covered follow-ups about the job.
    follow_up_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # From an imported customer list (loopstrat/campaigns/imports.py): reactivation's audience.
    last_service_on: Mapped[date | None] = mapped_column(Date)
    last_job_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ConsentEvent(Base):
    """Append-only evidence: never updated, never deleted with the contact's opt-out."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    # NULL once the contact is deleted (loopstrat.contacts): the evidence outlives the contact,
    # and `phone` (set then) keeps it attributable.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    # inquiry | marketing | opt_out | opt_in | alerts_opt_out | alerts_opt_in (the alert phone)
    kind: Mapped[str] = mapped_column(String(30))
    # What an inquiry's consent covers: "request", or "request+follow_ups" when its text
    # covered follow-ups about the job (a review request). None for other kinds.
    scope: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(30))  # web_form | api | sms | dashboard | cli
    text_shown: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    page_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_account_contact", "account_id", "contact_id"),
        # The dashboard's feed (newest first, by status) and the ROI page's period.
        Index("ix_leads_account_received", "account_id", "received_at"),
        Index("ix_leads_account_status_received", "account_id", "status", "received_at"),
        Index("ix_leads_account_handoff", "account_id", "handoff_at"),  # the hand-off badge
        Index("ix_leads_account_source", "account_id", "source"),
        # The ROI page's speed figures, read in speed order from the index alone: every split
        # (held, source, first touch, texted back) is a column here, not a lookup of the row.
        Index(
            "ix_leads_account_speed",
            "account_id",
            "first_response_s",
            "received_at",
            "source",
            "first_touch_by",
            "held_until",
            "last_inbound_at",
            sqlite_where=text("first_response_s IS NOT NULL"),
            postgresql_where=text("first_response_s IS NOT NULL"),
        ),
        # The ROI's booked jobs and revenue: booked leads only, summed from the index alone.
        Index(
            "ix_leads_account_booked",
            "account_id",
            "booked_at",
            "status",
            "job_value_cents",
            sqlite_where=text("booked_at IS NOT NULL"),
            postgresql_where=text("booked_at IS NOT NULL"),
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Indexed by the composite indexes above, which all lead with it.
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    inquiry: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str | None] = mapped_column(String(120))
    zip: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(60), default="web_form")
    page_url: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # This inquiry's own consent (its form's checkbox): a first reply answers this inquiry, so
    # a consent given with an earlier one does not cover it.
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reply's story: pending -> held (quiet hours; or a flood at the door, see
    # leads/flood.py) -> responded | suppressed.
    response_state: Mapped[str] = mapped_column(String(20), default="pending")
    # The lead's first answer, whoever wrote it (leads/first_touch.py): when it was sent, how
    # many seconds after the lead arrived, and by whom (claude | template | person).
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_s: Mapped[float | None] = mapped_column(Float)
    first_touch_by: Mapped[str | None] = mapped_column(String(10))
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_reason: Mapped[str | None] = mapped_column(String(60))
    # new | responded | replied | qualified | booked | lost | completed (the job is done)
    status: Mapped[str] = mapped_column(String(20), default="new")
    job_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The conversation that grows from the lead.
    owner: Mapped[str] = mapped_column(String(10), default="ai")  # ai | human
    ai_turns: Mapped[int] = mapped_column(Integer, default=0)
    handoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handoff_reason: Mapped[str | None] = mapped_column(String(60))
    # How many hand-offs so far: the n in each hand-off's idempotency keys.
    handoffs: Mapped[int] = mapped_column(Integer, default=0)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_human_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Twilio's segment count is written when it accepts a text, so only sent texts have one.
BILLED = "segments IS NOT NULL OR ai_input_tokens IS NOT NULL"


def billed() -> ColumnElement[bool]:
    """BILLED for a query's WHERE, bracketed as one term: spliced in as text beside other
    terms, its OR would bind looser than their ANDs and count every account's drafts."""
    return or_(Message.segments.is_not(None), Message.ai_input_tokens.is_not(None))


class Message(Base):
    """One text, either way. An outbound row is claimed (idempotency_key) before Twilio sends."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_account_contact", "account_id", "contact_id", "created_at"),
        Index("ix_messages_lead", "lead_id", "created_at"),
        # The ROI's costs, summed from the index alone: only billed texts and Claude's drafts.
        Index(
            "ix_messages_account_billed",
            "account_id",
            "created_at",
            "segments",
            "ai_input_tokens",
            "ai_output_tokens",
            sqlite_where=text(BILLED),
            postgresql_where=text(BILLED),
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    direction: Mapped[str] = mapped_column(String(3))  # out | in
    # first_reply | follow_up | alert | holding | opt_out_confirm | opt_in_confirm | help
    # | human_reply | review_request | reactivation | inbound | contractor_reply | alert_answer
    kind: Mapped[str] = mapped_column(String(30))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    to_phone: Mapped[str] = mapped_column(String(20))
    from_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")
    # deferred | suppressed | cancelled | claimed | unknown | accepted | queued | sending
    # | sent | delivered | undelivered | failed | received | draft
    status: Mapped[str] = mapped_column(String(20))
    # Why a text was held, suppressed or cancelled, or why an inbound one is owed no answer.
    reason: Mapped[str | None] = mapped_column(String(120))
    # What an inbound text asks for: reply | opt_out | opt_in | help, or, for the contractor's
    # text, why it names no lead (no_alert | no_lead | no_words). None on outbound texts.
    route: Mapped[str | None] = mapped_column(String(20))
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    twilio_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    segments: Mapped[int | None] = mapped_column(Integer)
    price_cents: Mapped[int | None] = mapped_column(Integer)
    drafted_by: Mapped[str | None] = mapped_column(String(20))  # claude | template | person | lead
    # What Claude's draft of this text cost, as the Messages API reported its usage.
    ai_input_tokens: Mapped[int | None] = mapped_column(Integer)
    ai_output_tokens: Mapped[int | None] = mapped_column(Integer)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Outbox(Base):
    """Work that must happen, due at a time. The dispatcher moves due rows to RQ; the row, not
    the Redis job, is the truth, so a lost job or a dead worker is found again here."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id"),
        Index("ix_outbox_due", "state", "due_at"),
        # Standing claims (pending, handed out): the dispatcher's count of jobs in flight.
        Index("ix_outbox_claimed", "state", "enqueued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref_id: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # pending | done | cancelled | failed
    state: Mapped[str] = mapped_column(String(12), default="pending")
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Base):
    """A stream of planned texts: an account's review requests (one standing campaign), or a
    reactivation offer (loopstrat/campaigns)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # review_request | reactivation
    name: Mapped[str] = mapped_column(String(120))
    body_template: Mapped[str] = mapped_column(Text, default="")
    # draft | running | paused | cancelled | done (review requests: always running)
    state: Mapped[str] = mapped_column(String(12), default="running")
    # Reactivation (loopstrat/campaigns/reactivation.py): the contractor's brief for Claude,
    # the audience rule, and the share held back to measure the lift.
    brief: Mapped[str | None] = mapped_column(Text)
    last_service_months: Mapped[int | None] = mapped_column(Integer)
    not_texted_days: Mapped[int | None] = mapped_column(Integer)
    holdout_pct: Mapped[int] = mapped_column(Integer, default=10)
    holdout_seed: Mapped[str | None] = mapped_column(String(32))
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The automatic pause judges the texts sent since: resuming starts a fresh judgement.
    judged_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Enrollment(Base):
    """One planned campaign text to one contact, with its due time: the job that comes due
    writes the text (a Message, sent by the one sending path) or says why none is owed."""

    __tablename__ = "enrollments"
    __table_args__ = (
        Index("ix_enrollments_account_campaign", "account_id", "campaign_id", "state"),
        # "Nobody asked twice within 90 days": a contact's requests, newest first.
        Index("ix_enrollments_account_contact", "account_id", "contact_id", "kind", "handed_at"),
        # The pacer's next sends: a campaign's pending plans in due order.
        Index("ix_enrollments_campaign_due", "campaign_id", "state", "due_at"),
        Index("ix_enrollments_account_released", "account_id", "released_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    kind: Mapped[str] = mapped_column(String(20))  # review_request | review_reminder | reactivation
    # One plan per reason ("review:<lead id>"): planning the same reason again finds this row.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # pending | handed (its text is written and on the sending path) | skipped | cancelled
    # | held_back (the holdout: never texted, counted for the lift)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    # When the pacer let it go (a reactivation's send slot): the daily cap counts these.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(120))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # The tracked link's token (/r/<token>): unguessable, one per review request.
    link_token: Mapped[str | None] = mapped_column(String(40), unique=True)
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkClick(Base):
    """One visit of a tracked link, kept per click."""

    __tablename__ = "link_clicks"
    __table_args__ = (Index("ix_link_clicks_account_enrollment", "account_id", "enrollment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEvent(Base):
    """A provider's event id, seen once: replays and retries stop here."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrmSyncState(Base):
    """Per-account Airtable sync health, shown on the dashboard."""

    __tablename__ = "crm_sync_state"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CrmChange(Base):
    """A record waiting to be written to the account's Airtable; coalesced per record."""

    __tablename__ = "crm_changes"
    __table_args__ = (UniqueConstraint("account_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    entity: Mapped[str] = mapped_column(String(20))  # contact | lead | message
    entity_id: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(10), default="upsert")  # upsert | delete
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(Base):
    """Who changed what in an account, and when: settings, users, invites."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
