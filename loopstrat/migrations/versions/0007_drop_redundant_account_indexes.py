"""drop the single-column account_id indexes of leads and contacts: composite indexes that
lead with account_id serve every query they did, and each was a write on every lead post

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 08:45:00.000000
"""

from collections.abc import Sequence

from loopstrat.migrations import online

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    online.drop_index("ix_leads_account_id", "leads")
    online.drop_index("ix_contacts_account_id", "contacts")


def downgrade() -> None:
    online.create_index("ix_contacts_account_id", "contacts", ["account_id"])
    online.create_index("ix_leads_account_id", "leads", ["account_id"])
