"""review requests: the account's review link, delay and cooldown; consent that covers
follow-ups; planned campaign texts (enrollments, rebuilt: nothing had written to them) and
tracked link clicks

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import loopstrat.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = loopstrat.db.UTCDateTime(timezone=True)
# Accounts made before this kept the old default consent text, which covered the request
# only: consent_covers_follow_ups starts False for them.


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("review_link", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("review_delay_minutes", sa.Integer(), nullable=False, server_default="120")
        )
        batch_op.add_column(
            sa.Column("review_cooldown_days", sa.Integer(), nullable=False, server_default="90")
        )
        batch_op.add_column(
            sa.Column(
                "consent_covers_follow_ups",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("follow_up_consent_at", UTC, nullable=True))
    with op.batch_alter_table("consent_events") as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=40), nullable=True))
    with op.batch_alter_table("campaigns") as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=12), nullable=False, server_default="running")
        )
    op.drop_table("enrollments")
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads.id"), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("link_token", sa.String(length=40), nullable=True),
        sa.Column("handed_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("link_token"),
    )
    op.create_index(
        "ix_enrollments_account_campaign", "enrollments", ["account_id", "campaign_id", "state"]
    )
    op.create_index(
        "ix_enrollments_account_contact",
        "enrollments",
        ["account_id", "contact_id", "kind", "handed_at"],
    )
    op.create_table(
        "link_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), sa.ForeignKey("enrollments.id"), nullable=False),
        sa.Column("clicked_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_link_clicks_account_enrollment", "link_clicks", ["account_id", "enrollment_id"]
    )


def downgrade() -> None:
    op.drop_table("link_clicks")
    op.drop_table("enrollments")
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "contact_id"),
    )
    op.create_index("ix_enrollments_account_id", "enrollments", ["account_id"])
    with op.batch_alter_table("campaigns") as batch_op:
        batch_op.drop_column("state")
    with op.batch_alter_table("consent_events") as batch_op:
        batch_op.drop_column("scope")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("follow_up_consent_at")
    with op.batch_alter_table("accounts") as batch_op:
        for column in (
            "consent_covers_follow_ups", "review_cooldown_days", "review_delay_minutes",
            "review_link",
        ):  # fmt: skip
            batch_op.drop_column(column)
