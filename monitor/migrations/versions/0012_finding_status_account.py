"""finding: the status index also by account, so a batch's open findings are found by
both columns (SQLite walked every open finding on the status index alone)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_finding_status_account", "finding", ["status", "account_id"])
    op.drop_index("ix_finding_status", table_name="finding")


def downgrade() -> None:
    op.create_index("ix_finding_status", "finding", ["status"])
    op.drop_index("ix_finding_status_account", table_name="finding")
