"""An account's API key, for tools that post to /api (a field-service app marking jobs done).

Shown once when made; only its SHA-256 is kept, so a database leak gives no usable key. A new
key replaces the old one at once.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.models import Account

PREFIX = "ls_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key(account: Account) -> str:
    """The new key, to be shown once; the caller commits."""
    key = PREFIX + secrets.token_urlsafe(32)
    account.api_key_hash = key_hash(key)
    return key


def account_of_key(session: Session, key: str) -> Account | None:
    if not key.startswith(PREFIX) or len(key) > 100:
        return None
    return session.scalar(select(Account).where(Account.api_key_hash == key_hash(key)))
