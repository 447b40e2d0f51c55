"""page_screenshot: pictures keyed by what the page showed, not its bytes — the page drawn
(page_sha256), the picture's format (media_type: WebP/JPEG; "" is a PNG drawn before) and
its size; rows drawn before keep their key (the page's sha256) and stay readable

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("page_screenshot") as batch:
        batch.add_column(
            sa.Column("page_sha256", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("media_type", sa.String(length=32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("size", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE page_screenshot SET page_sha256 = html_sha256")


def downgrade() -> None:
    with op.batch_alter_table("page_screenshot") as batch:
        batch.drop_column("size")
        batch.drop_column("media_type")
        batch.drop_column("page_sha256")
