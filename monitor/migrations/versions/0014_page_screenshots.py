"""page_screenshot: a picture of each distinct stored page, drawn offline from its HTML

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.models import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_screenshot",
        sa.Column("html_sha256", sa.String(length=64), nullable=False),
        sa.Column("png_sha256", sa.String(length=64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("page_height", sa.Integer(), nullable=False),
        sa.Column("browser", sa.String(length=100), nullable=False),
        sa.Column("rendered_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("elapsed_ms", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("html_sha256"),
    )


def downgrade() -> None:
    op.drop_table("page_screenshot")
