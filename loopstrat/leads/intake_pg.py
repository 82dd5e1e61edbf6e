"""A new lead from a new phone, on PostgreSQL, in one statement: the contact, its consent
evidence, the lead and its reply's outbox row, chained through data-modifying CTEs.

The intake's four statements are four round trips on PostgreSQL, where each costs the web
process a wait and the server a parse; SQLite has no such trip. The rows are the ones
leads/intake.py builds, so both paths store the same thing. A phone already known inserts
nothing here (the contact's unique key) and returns no row: the caller goes the long way, which
merges a re-post and refreshes the contact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, String, bindparam, cast, insert, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Compiled

from loopstrat.models import ConsentEvent, Contact, Lead, Outbox

CONTACT_COLUMNS = (
    "account_id", "phone", "name", "email", "zip", "consent_at", "follow_up_consent_at",
    "created_at", "updated_at",
)  # fmt: skip
CONSENT_COLUMNS = (
    "account_id", "kind", "scope", "source", "text_shown", "ip", "user_agent", "page_url",
    "created_at",
)  # fmt: skip
LEAD_COLUMNS = (
    "account_id", "inquiry", "service", "zip", "source", "page_url", "received_at", "updated_at",
    "consent_at",
)  # fmt: skip
OUTBOX_COLUMNS = ("account_id", "kind", "due_at", "created_at")


def _binds(prefix: str, table: Any, names: tuple[str, ...]) -> list[Any]:
    return [bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in names]


def _from(prefix: str, table: Any, names: tuple[str, ...], *first: Any) -> tuple[list[str], Any]:
    """The columns and the SELECT an INSERT ... SELECT fills them from: `first` (what comes from
    an earlier CTE), the named parameters, and the model's scalar defaults for the rest (a
    plain INSERT gets those from SQLAlchemy; INSERT ... SELECT in a CTE does not)."""
    defaults = {
        column.name: literal(column.default.arg, type_=column.type)
        for column in table.c
        if column.default is not None and column.default.is_scalar and column.name not in names
    }
    columns = [*names, *defaults]
    return columns, select(*first, *_binds(prefix, table, names), *defaults.values())


def _statement(with_consent: bool) -> Select[Any]:
    contact = (
        postgresql.insert(Contact)
        .values(
            dict(
                zip(CONTACT_COLUMNS, _binds("c_", Contact.__table__, CONTACT_COLUMNS), strict=True)
            )
        )
        .on_conflict_do_nothing(index_elements=["account_id", "phone"])
        .returning(Contact.id)
        .cte("new_contact")
    )
    columns, rows = _from("l_", Lead.__table__, LEAD_COLUMNS, contact.c.id)
    lead = (
        insert(Lead)
        .from_select(["contact_id", *columns], rows)
        .returning(Lead.id, Lead.contact_id)
        .cte("new_lead")
    )
    columns, rows = _from("o_", Outbox.__table__, OUTBOX_COLUMNS, cast(lead.c.id, String))
    reply = insert(Outbox).from_select(["ref_id", *columns], rows).cte("new_reply")
    ctes = [contact, lead, reply]
    if with_consent:
        columns, rows = _from("e_", ConsentEvent.__table__, CONSENT_COLUMNS, contact.c.id)
        consent = (
            insert(ConsentEvent).from_select(["contact_id", *columns], rows).cte("new_consent")
        )
        ctes.append(consent)
    return select(lead.c.id, lead.c.contact_id).add_cte(*ctes)


# Built once (with and without the consent row), compiled on first use.
NEW_LEAD = {with_consent: _statement(with_consent) for with_consent in (True, False)}
_COMPILED: dict[bool, Compiled] = {}


def insert_new(conn: Connection, values: dict[str, Any], *, with_consent: bool) -> Any:
    """Run the statement on the driver's own cursor; (id, contact_id) of the new lead, or None
    for a phone already known. SQLAlchemy's execution context (result metadata, type
    processing, its events) was a third of a post's CPU in the database call, and this one
    statement needs none of it: its values are plain, its datetimes aware UTC already (what
    UTCDateTime would make them). Runs in the connection's transaction, or in autocommit."""
    compiled = _COMPILED.get(with_consent)
    if compiled is None:
        compiled = _COMPILED[with_consent] = NEW_LEAD[with_consent].compile(dialect=conn.dialect)
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(str(compiled), compiled.construct_params(values))
        return cursor.fetchone()


def parameters(
    contact: dict[str, Any],
    consent: dict[str, Any] | None,
    lead: dict[str, Any],
    reply: dict[str, Any],
) -> dict[str, Any]:
    """The statement's parameters from the rows leads/intake.py builds for the long way."""
    values = {f"c_{k}": contact[k] for k in CONTACT_COLUMNS}
    values |= {f"l_{k}": lead[k] for k in LEAD_COLUMNS}
    values |= {f"o_{k}": reply[k] for k in OUTBOX_COLUMNS}
    if consent is not None:
        values |= {f"e_{k}": consent[k] for k in CONSENT_COLUMNS}
    return values
