"""account.closed_at: a past period's report judges a since-closed account as it was then

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 23:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.models import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account") as b:
        b.add_column(sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True))
    # an account closed already was closed by its last registry change at the latest: the
    # best date there is
    op.execute("UPDATE account SET closed_at = updated_at WHERE status = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("account") as b:
        b.drop_column("closed_at")
