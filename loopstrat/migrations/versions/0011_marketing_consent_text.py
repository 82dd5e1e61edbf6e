"""the form's optional second checkbox: the account's marketing consent text

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT = (
    "Also text me occasional offers. Consent is not a condition of purchase. "
    "Msg & data rates may apply. Reply STOP to opt out."
)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(
            sa.Column("marketing_consent_text", sa.Text(), nullable=False, server_default=DEFAULT)
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_column("marketing_consent_text")
