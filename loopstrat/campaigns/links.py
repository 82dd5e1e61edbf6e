"""Tracked links: /r/<token> redirects to the account's review page and records the click.

The token is the only key: unguessable (128 random bits), so nobody can count or forge clicks
for a text they did not receive.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loopstrat.models import Account, Enrollment, LinkClick

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,40}")


def new_token() -> str:
    return secrets.token_urlsafe(16)


def link_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/r/{token}"


def follow(session: Session, token: str, now: datetime) -> str | None:
    """Where the token leads, with this click recorded (the caller commits); None for a token
    nobody was sent, or whose account has no review page any more."""
    if not TOKEN.fullmatch(token):
        return None
    found = session.execute(
        select(Enrollment.id, Enrollment.account_id, Account.review_link)
        .join(Account, Account.id == Enrollment.account_id)
        .where(Enrollment.link_token == token)
    ).first()
    if found is None or not found.review_link:
        return None
    session.add(LinkClick(account_id=found.account_id, enrollment_id=found.id, clicked_at=now))
    return str(found.review_link)
