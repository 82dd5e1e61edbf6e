"""Past customers from a CSV file, for reactivation offers.

Each row is imported whole (the contact, its last job, and its marketing consent as
append-only evidence) or rejected with its reason: a bad phone, no consent, a duplicate of an
earlier row, or a person who opted out earlier. The whole file is one transaction, so a crash
or a database error part way imports nothing. Rows are read and written in batches, so a
100,000-row file never sits in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import Date, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from loopstrat.db import UTCDateTime, refresh_statistics
from loopstrat.leads.outcome import MarkRefused, job_value_cents
from loopstrat.models import ConsentEvent, Contact
from loopstrat.phones import InvalidPhone, normalise_recipient, normalise_zip

COLUMNS = (
    "name", "phone", "email", "zip", "last_service_date", "last_job_value",
    "marketing_consent", "consent_source", "consent_date",
)  # fmt: skip
REQUIRED = ("phone", "marketing_consent", "consent_source", "consent_date")
BATCH = 1000
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


class BadFile(ValueError):
    """The file as a whole cannot be read as a customer list (its header, its encoding)."""


@dataclass
class ImportReport:
    imported: int = 0  # new contacts
    updated: int = 0  # contacts already known, their last job and consent added
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row, why)


@dataclass(frozen=True)
class Customer:
    row: int
    phone: str
    name: str | None
    email: str | None
    zip: str | None
    last_service_on: date | None
    last_job_value_cents: int | None
    consent_source: str
    consent_at: datetime


def import_customers(
    session: Session,
    account_id: int,
    lines: Iterable[str],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read the CSV (rows numbered as a spreadsheet shows them: the header is row 1) into the
    account's contacts; the caller commits, once, after the whole file."""
    reader = csv.DictReader(lines)
    if reader.fieldnames is None:
        raise BadFile(f"the file is empty: its first row names the columns ({', '.join(COLUMNS)})")
    header = {(name or "").strip().lower() for name in reader.fieldnames or ()}
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise BadFile(f"the header row lacks {', '.join(missing)} (columns: {', '.join(COLUMNS)})")
    report, seen, batch = ImportReport(), dict[str, int](), list[Customer]()
    for row, raw in enumerate(reader, start=2):
        found = parse_row(row, {(k or "").strip().lower(): (v or "") for k, v in raw.items()}, now)
        if isinstance(found, str):
            report.rejected.append((row, found))
        elif found.phone in seen:
            report.rejected.append((row, f"duplicate of row {seen[found.phone]}"))
        else:
            seen[found.phone] = row
            batch.append(found)
        if len(batch) == BATCH:
            _store(session, account_id, batch, now, report)
            batch = []
        if progress is not None:
            progress(1)
    _store(session, account_id, batch, now, report)
    if report.imported > BATCH:
        refresh_statistics(session, "contacts")
    report.rejected.sort()
    return report


def parse_row(row: int, raw: dict[str, str], now: datetime) -> Customer | str:
    """The row's customer, or why it is rejected, in words for the person importing."""
    try:
        phone = normalise_recipient(raw.get("phone", ""))
    except InvalidPhone as exc:
        return f"bad phone: {exc}"
    agreed = raw.get("marketing_consent", "").strip().lower()
    if agreed in NO:
        return "no marketing consent"
    if agreed not in YES:
        return "marketing_consent must be yes or no"
    source = raw.get("consent_source", "").strip()
    if not source:
        return "no consent: consent_source (where they agreed) is empty"
    consent_on = _date(raw.get("consent_date", ""), now)
    if not isinstance(consent_on, date):
        return f"no consent: consent_date {consent_on}"
    served = _date(raw.get("last_service_date", ""), now) if raw.get("last_service_date") else None
    if isinstance(served, str):
        return f"last_service_date {served}"
    value = raw.get("last_job_value", "").strip()
    try:
        cents = job_value_cents(value) if value else None
    except MarkRefused as exc:
        return str(exc).replace("the job value", "last_job_value")
    zip5 = normalise_zip(raw.get("zip"))
    if raw.get("zip", "").strip() and zip5 is None:
        return "zip must be a 5-digit US ZIP code"
    email = raw.get("email", "").strip()
    if email and ("@" not in email or len(email) > 200):
        return "email is not an email address"
    return Customer(
        row=row,
        phone=phone,
        name=raw.get("name", "").strip()[:120] or None,
        email=email or None,
        zip=zip5,
        last_service_on=served,
        last_job_value_cents=cents,
        consent_source=source[:300],
        consent_at=datetime.combine(consent_on, time(), tzinfo=UTC),
    )


def _date(raw: str, now: datetime) -> date | str:
    for fmt in DATE_FORMATS:
        try:
            found = datetime.strptime(raw.strip(), fmt).date()
        except ValueError:
            continue
        return found if found <= now.date() else "is in the future"
    return "must be a date like 2025-06-30"


def _store(
    session: Session, account_id: int, batch: list[Customer], now: datetime, report: ImportReport
) -> None:
    if not batch:
        return
    made = _insert_new(session, account_id, batch, now)
    # Only the phones already known are looked up: a lookup of every phone, on a table this
    # transaction is filling, had PostgreSQL scan it whole each batch (no statistics yet).
    known_phones = [c.phone for c in batch if c.phone not in made]
    known = {
        row.phone: row
        for row in session.execute(
            select(Contact.id, Contact.phone, Contact.opted_out_at).where(
                Contact.account_id == account_id, Contact.phone.in_(known_phones)
            )
        )
    } if known_phones else {}  # fmt: skip
    ids, again = [], []
    for customer in batch:
        if customer.phone in made:
            ids.append((made[customer.phone], customer))
        elif known[customer.phone].opted_out_at is not None:
            report.rejected.append((customer.row, "opted out earlier: never texted again"))
        else:
            again.append((known[customer.phone].id, customer))
    ids += _update(session, again, now)
    report.imported += len(made)
    report.updated += len(again)
    if not ids:
        return  # an empty parameter list would be one INSERT of nothing
    session.execute(
        insert(ConsentEvent),
        [
            {"account_id": account_id, "contact_id": contact_id, "kind": "marketing",
             "scope": "marketing", "source": "csv", "created_at": now,
             "text_shown": f"imported: {c.consent_source}; agreed {c.consent_at:%Y-%m-%d}"}
            for contact_id, c in ids
        ],
    )  # fmt: skip


def _insert_new(
    session: Session, account_id: int, batch: list[Customer], now: datetime
) -> dict[str, int]:
    """Insert the phones not known yet; {phone: id} of those it inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Contact)
        .on_conflict_do_nothing(index_elements=["account_id", "phone"])
        .returning(Contact.phone, Contact.id)
    )
    rows = session.execute(
        statement,
        [
            {"account_id": account_id, "phone": c.phone, "name": c.name, "email": c.email,
             "zip": c.zip, "marketing_consent_at": c.consent_at,
             "last_service_on": c.last_service_on,
             "last_job_value_cents": c.last_job_value_cents,
             "created_at": now, "updated_at": now}
            for c in batch
        ],
    )  # fmt: skip
    return {phone: contact_id for phone, contact_id in rows}


CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
# A known contact keeps the name, email, ZIP and consent it had; the file adds the rest.
_REFRESH = (
    update(CONTACTS)
    .where(CONTACTS.c.id == bindparam("contact_id"))
    .values(
        name=func.coalesce(CONTACTS.c.name, bindparam("new_name")),
        email=func.coalesce(CONTACTS.c.email, bindparam("new_email")),
        zip=func.coalesce(CONTACTS.c.zip, bindparam("new_zip")),
        marketing_consent_at=func.coalesce(
            CONTACTS.c.marketing_consent_at, bindparam("new_consent_at", type_=UTCDateTime)
        ),
        last_service_on=func.coalesce(
            bindparam("new_service_on", type_=Date), CONTACTS.c.last_service_on
        ),
        last_job_value_cents=func.coalesce(bindparam("new_value"), CONTACTS.c.last_job_value_cents),
        updated_at=bindparam("now", type_=UTCDateTime),
    )
)


def _update(
    session: Session, again: list[tuple[int, Customer]], now: datetime
) -> list[tuple[int, Customer]]:
    """A known contact keeps what it had; the file adds its last job and its consent."""
    if again:
        session.execute(
            _REFRESH,
            [
                {"contact_id": contact_id, "new_name": c.name, "new_email": c.email,
                 "new_zip": c.zip, "new_consent_at": c.consent_at,
                 "new_service_on": c.last_service_on, "new_value": c.last_job_value_cents,
                 "now": now}
                for contact_id, c in again
            ],
        )  # fmt: skip
    return again
