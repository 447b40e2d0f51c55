"""escalation ladder: unit 负责人手机, and how many ladder steps a finding has taken

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit") as b:
        b.add_column(sa.Column("leader_mobiles", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("finding") as b:
        b.add_column(sa.Column("ladder_step", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("finding") as b:
        b.drop_column("ladder_step")
    with op.batch_alter_table("unit") as b:
        b.drop_column("leader_mobiles")
