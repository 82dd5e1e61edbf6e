"""the dashboard: invites, sessions that a password change ends, booked and completed times,
Claude's token counts per text, and indexes for the feed and the ROI page

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loopstrat.db import UTCDateTime
from loopstrat.migrations import online

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("last_sign_in_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["used_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("invites") as batch_op:
        batch_op.create_index(batch_op.f("ix_invites_account_id"), ["account_id"], unique=False)
    with op.batch_alter_table("leads") as batch_op:
        batch_op.add_column(sa.Column("booked_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("ai_input_tokens", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ai_output_tokens", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.create_index("ix_audit_log_account_created", ["account_id", "created_at"])
    online.create_index("ix_leads_account_received", "leads", ["account_id", "received_at"])
    online.create_index(
        "ix_leads_account_status_received", "leads", ["account_id", "status", "received_at"]
    )
    online.create_index("ix_messages_account_created", "messages", ["account_id", "created_at"])


def downgrade() -> None:
    online.drop_index("ix_messages_account_created", "messages")
    online.drop_index("ix_leads_account_status_received", "leads")
    online.drop_index("ix_leads_account_received", "leads")
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_index("ix_audit_log_account_created")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("ai_output_tokens")
        batch_op.drop_column("ai_input_tokens")
    with op.batch_alter_table("leads") as batch_op:
        batch_op.drop_column("completed_at")
        batch_op.drop_column("booked_at")
    with op.batch_alter_table("invites") as batch_op:
        batch_op.drop_index(batch_op.f("ix_invites_account_id"))
    op.drop_table("invites")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("last_sign_in_at")
        batch_op.drop_column("session_version")
