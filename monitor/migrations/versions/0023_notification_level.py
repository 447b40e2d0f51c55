"""A message's level (what robots colour it by) kept on its outbox row, worked out once

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for the rows written before: their level is worked out when they are sent, as it
    # was (monitor.alerting.deliver)
    with op.batch_alter_table("notification") as b:
        b.add_column(sa.Column("level", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification") as b:
        b.drop_column("level")
