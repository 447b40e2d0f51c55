"""blobs in the database for multi-node PostgreSQL (issue 9)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import monitor.store.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # evidence every node can read: used when [blobs] backend = "database"
    op.create_table(
        "blob",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),  # gzip of the original bytes
        sa.Column("size", sa.BigInteger(), nullable=False),  # uncompressed size
        sa.Column("created_at", monitor.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_blob_created_at", "blob", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_blob_created_at", table_name="blob")
    op.drop_table("blob")
