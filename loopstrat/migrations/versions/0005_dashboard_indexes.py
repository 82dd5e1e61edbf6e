"""indexes for the dashboard at scale: the hand-off badge and the feed's source filter

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 03:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch_op:
        batch_op.create_index("ix_leads_account_handoff", ["account_id", "handoff_at"])
        batch_op.create_index("ix_leads_account_source", ["account_id", "source"])


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch_op:
        batch_op.drop_index("ix_leads_account_source")
        batch_op.drop_index("ix_leads_account_handoff")
