"""sign-ins kept on the server, so sign-out, a password change or a removed user ends them;
users an admin removed; the session version they replace goes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loopstrat.db import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_sign_ins_user_id", "sign_ins", ["user_id"])
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("removed_at", UTCDateTime(timezone=True), nullable=True))
        # Every cookie signed before this names no sign-in: each browser signs in once more.
        batch_op.drop_column("session_version")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.drop_column("removed_at")
    op.drop_index("ix_sign_ins_user_id", table_name="sign_ins")
    op.drop_table("sign_ins")
