"""account_state: due times claimed in batches, and the last look for conditional checks;
snapshot.same_as for checks that found the page unchanged

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.models import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_state",
        sa.Column("account_id", sa.String(64), sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("checked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("snapshot.id"), nullable=True),
        sa.Column("body_sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("etag", sa.String(300), nullable=False, server_default=""),
        sa.Column("last_modified", sa.String(100), nullable=False, server_default=""),
        sa.Column("rules_digest", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("judged_with", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_account_state_due_at", "account_state", ["due_at"])
    with op.batch_alter_table("snapshot") as b:
        b.add_column(sa.Column("same_as", sa.Integer(), nullable=True))
    # no rows yet: the next `xuncha run` gives every account one, its first check spread over
    # [patrol] jitter_seconds (monitor.patrol.claims.ensure_states)


def downgrade() -> None:
    with op.batch_alter_table("snapshot") as b:
        b.drop_column("same_as")
    op.drop_index("ix_account_state_due_at", "account_state")
    op.drop_table("account_state")
