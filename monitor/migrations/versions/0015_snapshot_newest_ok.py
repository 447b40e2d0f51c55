"""snapshot: each account's newest ok look found in the index alone (account, outcome,
time, latest post), for the console's 最近更新 column and its sort by silence, and for every
"last good look" read (store.snapshots._newest_ok), without walking back over failed checks

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_snapshot_account_ok",
        "snapshot",
        ["account_id", "outcome", "taken_at", "latest_post_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_snapshot_account_ok", table_name="snapshot")
