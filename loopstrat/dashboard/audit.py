"""The account's audit log: who changed what, and when. Details name what changed, never a
password, token or other secret."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from loopstrat.models import AuditLog


def record(
    session: Session, *, account_id: int, actor: str, action: str, detail: dict[str, Any]
) -> None:
    """Added to the caller's transaction: the change and its record commit together."""
    session.add(AuditLog(account_id=account_id, actor=actor, action=action, detail=detail))
