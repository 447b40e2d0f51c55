"""unit: 值班手机, the duty officers' mobiles @-mentioned in the unit's robot messages

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as b:
        b.add_column(sa.Column("duty_mobiles", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("unit") as b:
        b.drop_column("duty_mobiles")
