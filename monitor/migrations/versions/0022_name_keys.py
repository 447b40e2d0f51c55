"""Names sortable by pinyin: account.name_key and unit.name_key, filled for existing rows

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.sortkey import pinyin_key

revision: str = "0022"
# written against 0018; whoever merges re-chains it after the other branches' migrations
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (("account", "id"), ("unit", "code"))


def upgrade() -> None:
    for table, key in TABLES:
        with op.batch_alter_table(table) as b:
            b.add_column(sa.Column("name_key", sa.String(1000), nullable=False, server_default=""))
        t = sa.table(table, sa.column(key, sa.String), sa.column("name", sa.String),
                     sa.column("name_key", sa.String))  # fmt: skip
        conn = op.get_bind()
        rows = conn.execute(sa.select(t.c[key], t.c.name)).all()
        for start in range(0, len(rows), 1000):
            conn.execute(
                t.update().where(t.c[key] == sa.bindparam("k")),
                [{"k": k, "name_key": pinyin_key(n or "")} for k, n in rows[start : start + 1000]],
            )
    op.create_index("ix_account_name_key", "account", ["name_key"])


def downgrade() -> None:
    op.drop_index("ix_account_name_key", table_name="account")
    for table, _ in TABLES:
        with op.batch_alter_table(table) as b:
            b.drop_column("name_key")
