"""the outbox's standing claims by an index of their own: the dispatcher counts each account's
jobs in flight on every hand-out, and pending rows include every text planned for later

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 01:30:00.000000
"""

from collections.abc import Sequence

from loopstrat.migrations import online

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    online.create_index("ix_outbox_claimed", "outbox", ["state", "enqueued_at"])


def downgrade() -> None:
    online.drop_index("ix_outbox_claimed", "outbox")
