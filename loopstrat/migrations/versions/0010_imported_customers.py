"""a contact's last service date and job value, from an imported customer list

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("last_service_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_job_value_cents", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("last_job_value_cents")
        batch_op.drop_column("last_service_on")
