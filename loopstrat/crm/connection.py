"""Per-account Airtable settings: the token (Fernet-encrypted at rest), the base and table names.

Owns reading and writing Account.airtable_*. Must never log a token or show one in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from loopstrat import outbox
from loopstrat.config import Settings
from loopstrat.models import Account, CrmChange
from loopstrat.outbox import Kind

TABLE_KINDS = ("contacts", "leads", "messages")
DEFAULT_TABLES = {"contacts": "Contacts", "leads": "Leads", "messages": "Messages"}
BASE_ID_RE = re.compile(r"^app[A-Za-z0-9]{14}$")


class AirtableSettingsError(ValueError):
    """The settings given cannot work; the message says which and why."""


@dataclass(frozen=True)
class AirtableConnection:
    """What the sync needs for one account; the token only in memory, never in a repr."""

    account_id: int
    base_id: str
    tables: dict[str, str]
    token: str = field(repr=False)


def encrypt_token(settings: Settings, token: str) -> str:
    return settings.fernet.encrypt(token.encode()).decode()


def decrypt_token(settings: Settings, encrypted: str) -> str:
    try:
        return settings.fernet.decrypt(encrypted.encode()).decode()
    except InvalidToken:
        raise AirtableSettingsError(
            "the stored Airtable token cannot be decrypted with any ENCRYPTION_KEY key (a key "
            "removed before `loopstrat rotate-secrets` ran?): run `loopstrat airtable connect` "
            "again"
        ) from None


@dataclass(frozen=True)
class Rotation:
    rotated: int
    unreadable: list[int]  # account ids whose token no key opens; left as they are


def rotate_tokens(
    session: Session, settings: Settings, also_decrypt_with: list[bytes] | None = None
) -> Rotation:
    """Re-encrypt every stored token with ENCRYPTION_KEY's first key; the caller commits.

    also_decrypt_with: retired keys that are no longer in ENCRYPTION_KEY (the key derived from
    an old SECRET_KEY), tried after ENCRYPTION_KEY's own.
    """
    keys = [Fernet(key) for key in settings.fernet_keys + (also_decrypt_with or [])]
    fernet = MultiFernet(keys)
    rotated, unreadable = 0, []
    accounts = session.scalars(
        select(Account).where(Account.airtable_token_encrypted.is_not(None)).order_by(Account.id)
    )
    for account in accounts:
        stored = account.airtable_token_encrypted or ""  # never empty: the query asked for it
        try:
            fresh = fernet.rotate(stored.encode()).decode()
        except InvalidToken:
            unreadable.append(account.id)
            continue
        account.airtable_token_encrypted = fresh
        rotated += 1
    return Rotation(rotated, unreadable)


def masked(token: str) -> str:
    """Enough to recognise a token, never enough to use it."""
    return f"{token[:3]}…{token[-4:]}" if len(token) > 12 else "…"


def table_names(account: Account) -> dict[str, str]:
    return {**DEFAULT_TABLES, **(account.airtable_tables or {})}


def connection_of(settings: Settings, account: Account) -> AirtableConnection | None:
    token, base_id = account.airtable_token_encrypted, account.airtable_base_id
    if not (token and base_id):  # journal.is_connected, spelled out for the types
        return None
    return AirtableConnection(
        account_id=account.id,
        base_id=base_id,
        tables=table_names(account),
        token=decrypt_token(settings, token),
    )


def validate(token: str, base_id: str, tables: dict[str, str]) -> None:
    if not token or any(c.isspace() for c in token):
        raise AirtableSettingsError("the token is empty or contains spaces")
    if not BASE_ID_RE.match(base_id):
        raise AirtableSettingsError(f"--base {base_id!r} is not a base id like appXXXXXXXXXXXXXX")
    for kind, name in tables.items():
        if kind not in TABLE_KINDS or not name.strip():
            raise AirtableSettingsError(f"table name for {kind} must not be empty")


def save(
    settings: Settings, account: Account, token: str, base_id: str, tables: dict[str, str]
) -> None:
    """Store checked settings; the caller commits."""
    validate(token, base_id, tables)
    account.airtable_token_encrypted = encrypt_token(settings, token)
    account.airtable_base_id = base_id
    account.airtable_tables = {k: tables.get(k, DEFAULT_TABLES[k]) for k in TABLE_KINDS}


def forget(session: Session, account: Account) -> int:
    """Turn the sync off: drop the token, the waiting changes and the pending sync."""
    account.airtable_token_encrypted = None
    account.airtable_base_id = None
    account.airtable_tables = None
    dropped = session.execute(delete(CrmChange).where(CrmChange.account_id == account.id))
    outbox.finish(session, Kind.CRM_SYNC, str(account.id), state="cancelled", reason="disconnected")
    return int(dropped.rowcount)  # type: ignore[attr-defined]
