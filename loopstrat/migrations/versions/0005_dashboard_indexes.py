"""indexes for the dashboard at scale: the hand-off badge and the feed's source filter

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 03:50:00.000000
"""

from collections.abc import Sequence

from loopstrat.migrations import online

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    online.create_index("ix_leads_account_handoff", "leads", ["account_id", "handoff_at"])
    online.create_index("ix_leads_account_source", "leads", ["account_id", "source"])


def downgrade() -> None:
    online.drop_index("ix_leads_account_source", "leads")
    online.drop_index("ix_leads_account_handoff", "leads")
