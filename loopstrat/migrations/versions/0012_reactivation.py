"""reactivation campaigns: the brief, audience rule and holdout on the campaign, the account's
send pace and daily cap, and each plan's release by the pacer

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import loopstrat.db
from loopstrat.migrations import online

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = loopstrat.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch_op:
        batch_op.add_column(sa.Column("brief", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_service_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("not_texted_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("holdout_pct", sa.Integer(), nullable=False, server_default="10")
        )
        batch_op.add_column(sa.Column("holdout_seed", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("paused_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("launched_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("judged_from", UTC, nullable=True))
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(
            sa.Column("sends_per_second", sa.Float(), nullable=False, server_default="1.0")
        )
        batch_op.add_column(
            sa.Column("daily_send_cap", sa.Integer(), nullable=False, server_default="2000")
        )
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.add_column(sa.Column("released_at", UTC, nullable=True))
    online.create_index(
        "ix_enrollments_campaign_due", "enrollments", ["campaign_id", "state", "due_at"]
    )
    online.create_index(
        "ix_enrollments_account_released", "enrollments", ["account_id", "released_at"]
    )


def downgrade() -> None:
    online.drop_index("ix_enrollments_account_released", "enrollments")
    online.drop_index("ix_enrollments_campaign_due", "enrollments")
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.drop_column("released_at")
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_column("daily_send_cap")
        batch_op.drop_column("sends_per_second")
    with op.batch_alter_table("campaigns") as batch_op:
        for column in (
            "judged_from", "launched_at", "paused_reason", "holdout_seed", "holdout_pct",
            "not_texted_days", "last_service_months", "brief",
        ):  # fmt: skip
            batch_op.drop_column(column)
