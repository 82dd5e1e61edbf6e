"""the ROI page from indexes alone: a lead's first answer on its row (seconds to it, who wrote
it) with a speed index, and covering indexes of booked leads and billed texts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loopstrat.migrations import online

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# leads/first_touch.py ANSWERING_KINDS, as it stood when this ran.
ANSWERING = "('first_reply', 'follow_up', 'holding', 'human_reply')"
FIRST_ANSWER = f"""
    FROM messages m
    WHERE m.lead_id = leads.id AND m.direction = 'out' AND m.sent_at IS NOT NULL
      AND m.kind IN {ANSWERING}
    ORDER BY m.sent_at, m.id
    LIMIT 1
"""


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch_op:
        batch_op.add_column(sa.Column("first_response_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("first_touch_by", sa.String(length=10), nullable=True))
    _backfill()
    where = sa.text("first_response_s IS NOT NULL")
    online.create_index(
        "ix_leads_account_speed",
        "leads",
        [
            "account_id",
            "first_response_s",
            "received_at",
            "source",
            "first_touch_by",
            "held_until",
            "last_inbound_at",
        ],  # fmt: skip
        sqlite_where=where,
        postgresql_where=where,
    )
    booked = sa.text("booked_at IS NOT NULL")
    online.create_index(
        "ix_leads_account_booked",
        "leads",
        ["account_id", "booked_at", "status", "job_value_cents"],
        sqlite_where=booked,
        postgresql_where=booked,
    )
    # models.BILLED, as it stood when this ran.
    billed = sa.text("segments IS NOT NULL OR ai_input_tokens IS NOT NULL")
    online.drop_index("ix_messages_account_created", "messages")
    online.create_index(
        "ix_messages_account_billed",
        "messages",
        ["account_id", "created_at", "segments", "ai_input_tokens", "ai_output_tokens"],
        sqlite_where=billed,
        postgresql_where=billed,
    )


def _backfill() -> None:
    """Until now first_response_at was the first reply's alone; it becomes the first answer."""
    if op.get_bind().dialect.name == "postgresql":
        seconds = "extract(epoch FROM first_response_at - received_at)"
    else:
        seconds = "(julianday(first_response_at) - julianday(received_at)) * 86400.0"
    # Each piece of these statements is a constant of this file: nothing comes from input.
    op.execute(f"UPDATE leads SET first_response_at = (SELECT m.sent_at {FIRST_ANSWER})")  # noqa: S608
    op.execute(
        f"UPDATE leads SET first_response_s = {seconds},"  # noqa: S608
        f" first_touch_by = (SELECT coalesce(m.drafted_by, 'template') {FIRST_ANSWER})"
        " WHERE first_response_at IS NOT NULL"
    )


def downgrade() -> None:
    online.drop_index("ix_messages_account_billed", "messages")
    online.create_index("ix_messages_account_created", "messages", ["account_id", "created_at"])
    online.drop_index("ix_leads_account_booked", "leads")
    online.drop_index("ix_leads_account_speed", "leads")
    with op.batch_alter_table("leads") as batch_op:
        batch_op.drop_column("first_touch_by")
        batch_op.drop_column("first_response_s")
