"""Lead intake: store contact, consent evidence, lead and outbox row in one transaction.

This is the hot path of every lead post, so it runs prebuilt Core statements (compiled once,
cached by SQLAlchemy) instead of the ORM's unit of work: four statements for a new lead, or on
PostgreSQL one, where each is a round trip (leads/intake_pg.py).
Never texts, never enqueues: the caller commits and the dispatcher picks the outbox row up.
A lead held in a flood gets no reply row: its account's release row decides (leads/flood.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.db import UTCDateTime
from loopstrat.journal import note_change
from loopstrat.leads import intake_pg
from loopstrat.leads.flood import FLOOD_HOLD, FLOOD_QUIET
from loopstrat.leads.form import LeadForm
from loopstrat.leads.intake_accounts import IntakeAccount
from loopstrat.models import ConsentEvent, Contact, Lead, Outbox
from loopstrat.outbox import Kind

REPOST_WINDOW = timedelta(minutes=10)
CONSENT_SOURCES = ("api", "csv")  # anything else posted a web form

_CONTACT_ID = select(Contact.id).where(
    Contact.account_id == bindparam("account_id"), Contact.phone == bindparam("phone")
)
# A new phone (the common case) costs one statement; a known one answers nothing and is read.
_INSERT_NEW_CONTACT = {
    name: dialect.insert(Contact)
    .on_conflict_do_nothing(index_elements=["account_id", "phone"])
    .returning(Contact.id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
# A re-post fills in what it knows and never erases what an earlier post gave.
_UPDATE_CONTACT = (
    update(Contact)
    .where(Contact.id == bindparam("contact_id"))
    .values(
        name=func.coalesce(bindparam("new_name"), Contact.name),
        email=func.coalesce(bindparam("new_email"), Contact.email),
        zip=func.coalesce(bindparam("new_zip"), Contact.zip),
        consent_at=func.coalesce(
            Contact.consent_at, bindparam("new_consent_at", type_=UTCDateTime)
        ),
        follow_up_consent_at=func.coalesce(
            Contact.follow_up_consent_at, bindparam("new_follow_up_consent_at", type_=UTCDateTime)
        ),
        marketing_consent_at=func.coalesce(
            Contact.marketing_consent_at, bindparam("new_marketing_consent_at", type_=UTCDateTime)
        ),
        updated_at=bindparam("now", type_=UTCDateTime),
    )
)
_INSERT_CONSENT = insert(ConsentEvent)
_OPEN_LEAD = (
    select(Lead.id, Lead.inquiry, Lead.response_state)
    .where(
        Lead.account_id == bindparam("account_id"),
        Lead.contact_id == bindparam("contact_id"),
        Lead.received_at > bindparam("since", type_=UTCDateTime),
        # A job marked done or lost is closed: a post after it is a new inquiry.
        Lead.status.not_in(("completed", "lost")),
    )
    .order_by(Lead.received_at.desc())
    .limit(1)
)
_INSERT_LEAD = insert(Lead).returning(Lead.id)
_INSERT_OUTBOX = insert(Outbox)


# A held lead (re)opens its account's release row; a row already pending is left alone, and
# its job postpones itself while held posts keep coming.
def _open_release(dialect: Any) -> Any:
    stmt = dialect.insert(Outbox)
    return stmt.on_conflict_do_update(
        index_elements=["kind", "ref_id"],
        set_={"state": "pending", "due_at": stmt.excluded.due_at, "enqueued_at": None,
              "attempts": 0, "reason": None},
        where=Outbox.state != "pending",
    )  # fmt: skip


_OPEN_RELEASE = {
    name: _open_release(d) for name, d in (("sqlite", sqlite), ("postgresql", postgresql))
}


@dataclass(frozen=True)
class Evidence:
    ip: str | None
    user_agent: str | None


def store_lead(
    engine: Engine,
    account: IntakeAccount,
    form: LeadForm,
    evidence: Evidence,
    now: datetime,
    *,
    hold: bool = False,
) -> int:
    """Store and commit the lead; its id. On PostgreSQL a new phone's lead is one statement,
    committed by itself (no BEGIN and COMMIT round trips) unless the account syncs to
    Airtable, whose journal rows must share its transaction."""
    # The one-statement path writes one consent row: a post ticking the optional marketing
    # box too (rare) goes the long way.
    tried = (
        not hold
        and engine.dialect.name == "postgresql"
        and not account.crm_connected
        and not form.marketing_consent
    )
    if tried:
        with engine.connect() as conn:
            made = _new_lead_at_once(
                conn.execution_options(isolation_level="AUTOCOMMIT"), account, form, evidence, now
            )
        if made is not None:
            return made[0]
    with engine.begin() as conn:
        lead_id, _created = record_lead(
            conn, account, form, evidence, now, hold=hold, known_phone=tried
        )
    return lead_id


def record_lead(
    conn: Connection,
    account: IntakeAccount,
    form: LeadForm,
    evidence: Evidence,
    now: datetime,
    *,
    hold: bool = False,
    known_phone: bool = False,
) -> tuple[int, bool]:
    """Store the lead (or fold a re-post into the open one); its id and whether it is new.
    `hold`: a flood post, stored with its reply held for the release job or a review.
    `known_phone`: the one-statement path (PostgreSQL) already found the phone known.

    Runs in the caller's transaction, which the caller commits. Two posts for one new
    phone at once are safe: the second waits on the contact's unique key, then folds into
    the first's lead.
    """
    if (
        not hold
        and not known_phone
        and not form.marketing_consent
        and conn.dialect.name == "postgresql"
    ):
        made = _new_lead_at_once(conn, account, form, evidence, now)
        if made is not None:
            lead_id, contact_id = made
            if account.crm_connected:
                _note_for_crm(conn, account, contact_id, lead_id)
            return lead_id, True
    contact_id, existed = _upsert_contact(conn, account, form, now)
    if form.consent:
        conn.execute(_INSERT_CONSENT, _consent_row(account, contact_id, form, evidence, now))
    if form.marketing_consent:
        conn.execute(
            _INSERT_CONSENT, _marketing_consent_row(account, contact_id, form, evidence, now)
        )
    open_lead = _open_lead(conn, account, contact_id, now) if existed else None
    created = open_lead is None
    if open_lead is None:
        row = _lead_row(account, contact_id, form, now)
        if hold:
            row.update(response_state="held", hold_reason=FLOOD_HOLD)
        lead_id = conn.execute(_INSERT_LEAD, row).scalar_one()
        if hold:
            release = {"account_id": account.id, "kind": Kind.RELEASE_HELD_LEADS,
                       "ref_id": str(account.id), "due_at": now + FLOOD_QUIET}  # fmt: skip
            conn.execute(_OPEN_RELEASE[conn.dialect.name], release)
        else:
            conn.execute(_INSERT_OUTBOX, {**_reply_row(account, now), "ref_id": str(lead_id)})
    if created and not account.crm_connected:
        return lead_id, True
    if open_lead is not None:
        with Session(bind=conn) as session:  # the rare path, in the same transaction
            lead_id = _fold_repost(session, account, open_lead, form, now, hold=hold)
            session.flush()
    if account.crm_connected:
        _note_for_crm(conn, account, contact_id, lead_id)
    return lead_id, created


def _new_lead_at_once(
    conn: Connection, account: IntakeAccount, form: LeadForm, evidence: Evidence, now: datetime
) -> tuple[int, int] | None:
    """PostgreSQL, a new phone: (lead id, contact id) from one statement; None for a phone
    already known (nothing was written)."""
    params = intake_pg.parameters(
        _contact_row(account, form, now),
        _consent_row(account, 0, form, evidence, now) if form.consent else None,
        _lead_row(account, 0, form, now),
        _reply_row(account, now),
    )
    made = intake_pg.insert_new(conn, params, with_consent=form.consent)
    return None if made is None else (made[0], made[1])


def _note_for_crm(conn: Connection, account: IntakeAccount, contact_id: int, lead_id: int) -> None:
    with Session(bind=conn) as session:
        note_change(session, account.id, "contact", contact_id)
        note_change(session, account.id, "lead", lead_id)
        session.flush()


def _reply_row(account: IntakeAccount, now: datetime) -> dict[str, object]:
    return {
        "account_id": account.id,
        "kind": Kind.RESPOND_TO_LEAD,
        "due_at": now,
        "created_at": now,
    }


def _contact_row(account: IntakeAccount, form: LeadForm, now: datetime) -> dict[str, object]:
    consent_at = now if form.consent else None
    return {"account_id": account.id, "phone": form.phone, "name": form.name,
            "email": form.email, "zip": form.zip, "consent_at": consent_at,
            "follow_up_consent_at": consent_at if account.consent_covers_follow_ups else None,
            "marketing_consent_at": now if form.marketing_consent else None,
            "created_at": now, "updated_at": now}  # fmt: skip


def _upsert_contact(
    conn: Connection, account: IntakeAccount, form: LeadForm, now: datetime
) -> tuple[int, bool]:
    row = _contact_row(account, form, now)
    new_id = conn.execute(_INSERT_NEW_CONTACT[conn.dialect.name], row).scalar()
    if new_id is not None:
        return new_id, False
    found = conn.execute(_CONTACT_ID, {"account_id": account.id, "phone": form.phone}).scalar_one()
    conn.execute(
        _UPDATE_CONTACT,
        {"contact_id": found, "new_name": form.name, "new_email": form.email,
         "new_zip": form.zip, "new_consent_at": row["consent_at"],
         "new_follow_up_consent_at": row["follow_up_consent_at"],
         "new_marketing_consent_at": row["marketing_consent_at"], "now": now},
    )  # fmt: skip
    return found, True


def _consent_row(
    account: IntakeAccount, contact_id: int, form: LeadForm, evidence: Evidence, now: datetime
) -> dict[str, object]:
    return {
        "account_id": account.id,
        "contact_id": contact_id,
        "kind": "inquiry",
        "scope": "request+follow_ups" if account.consent_covers_follow_ups else "request",
        "source": form.source if form.source in CONSENT_SOURCES else "web_form",
        "text_shown": account.consent_text,
        "ip": evidence.ip,
        "user_agent": (evidence.user_agent or "")[:400] or None,
        "page_url": form.page_url,
        "created_at": now,
    }


def _marketing_consent_row(
    account: IntakeAccount, contact_id: int, form: LeadForm, evidence: Evidence, now: datetime
) -> dict[str, object]:
    """The optional second checkbox: express written consent to marketing texts."""
    return {
        **_consent_row(account, contact_id, form, evidence, now),
        "kind": "marketing",
        "scope": "marketing",
        "text_shown": account.marketing_consent_text,
    }


def _lead_row(
    account: IntakeAccount, contact_id: int, form: LeadForm, now: datetime
) -> dict[str, object]:
    return {
        "account_id": account.id,
        "contact_id": contact_id,
        "inquiry": form.message,
        "service": form.service,
        "zip": form.zip,
        "source": form.source,
        "page_url": form.page_url,
        "received_at": now,
        "updated_at": now,
        "consent_at": now if form.consent else None,
    }


def _open_lead(
    conn: Connection, account: IntakeAccount, contact_id: int, now: datetime
) -> tuple[int, str, str] | None:
    params = {"account_id": account.id, "contact_id": contact_id, "since": now - REPOST_WINDOW}
    row = conn.execute(_OPEN_LEAD, params).first()
    return None if row is None else (row.id, row.inquiry or "", row.response_state)


# One lead's inquiry, re-posts and all: it rides in every AI turn's prompt and in Airtable
# (whose long-text field holds 100,000 characters), so a visitor re-posting cannot grow it.
INQUIRY_MAX_CHARS = 4000
INQUIRY_CUT = "[cut: more was posted]"


def with_repost(inquiry: str, message: str) -> str:
    """The inquiry with a re-post's words added, cut with a note where it reaches the cap."""
    joined = f"{inquiry}\n{message}".strip() if inquiry else message
    if len(joined) <= INQUIRY_MAX_CHARS:
        return joined
    return joined[: INQUIRY_MAX_CHARS - len(INQUIRY_CUT) - 1] + "\n" + INQUIRY_CUT


def _fold_repost(
    session: Session,
    account: IntakeAccount,
    open_lead: tuple[int, str, str],
    form: LeadForm,
    now: datetime,
    *,
    hold: bool,
) -> int:
    """A second post within the window adds to the open lead; rare, so the ORM is fine here.
    A flood post adds its words but never re-opens the reply: that waits for a release."""
    lead_id, inquiry, response_state = open_lead
    lead = session.get_one(Lead, lead_id)
    if form.message and form.message not in inquiry and not inquiry.endswith(INQUIRY_CUT):
        lead.inquiry = with_repost(inquiry, form.message)
    lead.service = form.service or lead.service
    lead.zip = form.zip or lead.zip
    lead.source = form.source
    lead.page_url = form.page_url or lead.page_url
    if form.consent and lead.consent_at is None:
        lead.consent_at = now
    if response_state in ("pending", "suppressed") and not hold:
        # Not yet answered, or held back (no consent then, perhaps consent now): decide again.
        outbox.schedule(
            session,
            account_id=account.id,
            kind=Kind.RESPOND_TO_LEAD,
            ref_id=str(lead_id),
        )
    return lead_id
