"""A look decided on what the page says, not on its bytes: account_state keeps what the
last full look said (meaning), when it was read (read_at) and its post counter
(posts_counted); snapshot.counters keeps the counters of a look that said the same

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.models import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_state") as batch:
        batch.add_column(
            sa.Column("meaning", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("read_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("posts_counted", sa.Integer(), nullable=True))
    with op.batch_alter_table("snapshot") as batch:
        batch.add_column(sa.Column("counters", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("snapshot") as batch:
        batch.drop_column("counters")
    with op.batch_alter_table("account_state") as batch:
        batch.drop_column("posts_counted")
        batch.drop_column("read_at")
        batch.drop_column("meaning")
