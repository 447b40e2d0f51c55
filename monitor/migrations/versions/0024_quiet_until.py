"""Until when an account's time rules stay silent, kept with its last look

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.models import UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL / "" for the rows written before: their next unchanged look is judged as it was,
    # and leaves its own
    with op.batch_alter_table("account_state") as b:
        b.add_column(sa.Column("quiet_until", UTCDateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("quiet_for", sa.String(100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("account_state") as b:
        b.drop_column("quiet_for")
        b.drop_column("quiet_until")
