"""Signing in through the real form (with its CSRF token), as a browser does."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from loopstrat import runtime
from loopstrat.dashboard.passwords import hash_password
from loopstrat.models import Account, Message, User

PASSWORD = "correct horse battery staple"  # noqa: S105 - a test user's
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(
    rt: runtime.Runtime, account: Account, *, email: str = "owner@example.com", role: str = "admin"
) -> User:
    with rt.sessions() as session:
        user = User(
            account_id=account.id, email=email, password_hash=hash_password(PASSWORD), role=role
        )
        session.add(user)
        session.commit()
        session.refresh(user)
        session.expunge(user)
        return user


def add_draft(db: Any, account: Account, lead_id: int, body: str, to: str) -> Message:
    """An assist-mode draft from Claude, waiting for a person to send, edit or drop it."""
    draft = Message(
        account_id=account.id,
        lead_id=lead_id,
        direction="out",
        kind="follow_up",
        to_phone=to,
        from_phone=account.twilio_number,
        body=body,
        status="draft",
        drafted_by="claude",
    )
    db.add(draft)
    db.commit()
    return draft


def csrf_token(client: FlaskClient, path: str = "/dashboard/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    found = _TOKEN.search(page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post(
        "/dashboard/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )


def signed_in_client(client: FlaskClient, user: User) -> FlaskClient:
    answer = sign_in(client, user.email)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client
