"""an inbound text's route in its own column; reason keeps only why a text was not sent

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_ANSWER_OWED = "answered"
messages = sa.table(
    "messages",
    sa.column("id", sa.Integer),
    sa.column("direction", sa.String),
    sa.column("reason", sa.String),
    sa.column("route", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("route", sa.String(length=20), nullable=True))
    conn = op.get_bind()
    inbound = conn.execute(
        sa.select(messages.c.id, messages.c.reason).where(messages.c.direction == "in")
    ).all()
    for message_id, reason in inbound:
        # 'opt_out:answered' was a route and the reason no answer is owed, in one field.
        route, _, answered = (reason or "").partition(":")
        conn.execute(
            messages.update()
            .where(messages.c.id == message_id)
            .values(route=route or None, reason=NO_ANSWER_OWED if answered else None)
        )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        messages.update()
        .where(messages.c.direction == "in")
        .values(
            reason=sa.case(
                (messages.c.reason == NO_ANSWER_OWED, messages.c.route + ":" + NO_ANSWER_OWED),
                else_=messages.c.route,
            )
        )
    )
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("route")
