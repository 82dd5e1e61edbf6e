"""What lead intake needs to know of an account, looked up by its public form key.

Every lead post needs it, so each process keeps it for a few seconds: a changed thank-you URL
or consent text reaches intake within TTL_S. Holds no secrets and nothing a post could change.
Unknown keys are remembered too, briefly: a made-up key costs one query per MISS_TTL_S, not one
per post.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from loopstrat.journal import is_connected
from loopstrat.models import Account

TTL_S = 10.0
# Short, so a key probed just before its account was made starts working almost at once.
MISS_TTL_S = 5.0
MAX_ENTRIES = 10_000  # form keys are public: a flood of made-up ones must not grow memory


@dataclass(frozen=True)
class IntakeAccount:
    id: int
    name: str
    form_key: str
    thank_you_url: str | None
    consent_text: str
    consent_covers_follow_ups: bool
    marketing_consent_text: str
    crm_connected: bool


def load_intake_account(session: Session, form_key: str) -> IntakeAccount | None:
    account = session.scalar(select(Account).where(Account.form_key == form_key))
    if account is None:
        return None
    return IntakeAccount(
        id=account.id,
        name=account.name,
        form_key=account.form_key,
        thank_you_url=account.thank_you_url,
        consent_text=account.consent_text,
        consent_covers_follow_ups=account.consent_covers_follow_ups,
        marketing_consent_text=account.marketing_consent_text,
        crm_connected=is_connected(account),
    )


class IntakeAccounts:
    """A per-process cache of form keys: known ones for TTL_S, unknown ones for MISS_TTL_S."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()
        self._known: dict[str, tuple[float, IntakeAccount]] = {}
        # Apart from the known keys, so a flood of made-up keys never evicts a real one.
        self._unknown: dict[str, float] = {}

    def get(self, form_key: str) -> IntakeAccount | None:
        now = time.monotonic()
        hit = self._known.get(form_key)
        if hit is not None and hit[0] > now:
            return hit[1]
        if self._unknown.get(form_key, 0.0) > now:
            return None
        with self._sessions() as session:
            account = load_intake_account(session, form_key)
        with self._lock:
            if account is None:
                if len(self._unknown) >= MAX_ENTRIES:
                    self._unknown.clear()
                self._unknown[form_key] = now + MISS_TTL_S
            else:
                if len(self._known) >= MAX_ENTRIES:
                    self._known.clear()
                self._known[form_key] = (now + TTL_S, account)
        return account
