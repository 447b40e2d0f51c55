"""api_token: label, expiry and revocation; login_failure.kind: wrong API tokens counted
per client address beside wrong passwords (issue 19)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as b:
        b.add_column(sa.Column("label", sa.String(100), nullable=False, server_default=""))
        b.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True))
    # tokens made before this revision stay valid (no expiry) until revoked
    with op.batch_alter_table("login_failure") as b:
        b.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="password"))


def downgrade() -> None:
    # a revoked or expiring token must not come back to life, unlimited, without its column
    op.execute(
        sa.text("DELETE FROM api_token WHERE revoked_at IS NOT NULL OR expires_at IS NOT NULL")
    )
    op.execute(sa.text("DELETE FROM login_failure WHERE kind <> 'password'"))
    with op.batch_alter_table("login_failure") as b:
        b.drop_column("kind")
    with op.batch_alter_table("api_token") as b:
        b.drop_column("revoked_at")
        b.drop_column("expires_at")
        b.drop_column("label")
