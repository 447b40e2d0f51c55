"""snapshot.profile_hash, profile_changed: profile changes listed without reading every
snapshot's facts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.snapshots import profile_fingerprint

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("snapshot") as b:
        b.add_column(sa.Column("profile_hash", sa.String(16), nullable=False, server_default=""))
        b.add_column(
            sa.Column("profile_changed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # existing snapshots: fingerprint their stored profile and mark the changes, account by
    # account in time order, in batches (a large history takes a while, once)
    conn = op.get_bind()
    snapshot = sa.table(
        "snapshot", sa.column("id", sa.Integer), sa.column("account_id", sa.String),
        sa.column("taken_at", sa.DateTime), sa.column("outcome", sa.String),
        sa.column("facts", sa.JSON), sa.column("profile_hash", sa.String),
        sa.column("profile_changed", sa.Boolean),
    )  # fmt: skip
    accounts = [r[0] for r in conn.execute(sa.select(snapshot.c.account_id).distinct())]
    for account in accounts:
        previous = ""
        after: tuple = ()
        while True:
            q = (
                sa.select(snapshot.c.id, snapshot.c.taken_at, snapshot.c.outcome, snapshot.c.facts)
                .where(snapshot.c.account_id == account)
                .order_by(snapshot.c.taken_at, snapshot.c.id)
                .limit(BATCH)
            )
            if after:
                q = q.where(sa.tuple_(snapshot.c.taken_at, snapshot.c.id) > sa.tuple_(*after))
            rows = conn.execute(q).all()
            if not rows:
                break
            updates = []
            for r in rows:
                h = profile_fingerprint(r.facts or {})
                changed = False
                if r.outcome == "ok" and h:
                    changed = bool(previous) and previous != h
                    previous = h
                if h:
                    updates.append({"i": r.id, "h": h, "c": changed})
            if updates:
                conn.execute(
                    snapshot.update()
                    .where(snapshot.c.id == sa.bindparam("i"))
                    .values(profile_hash=sa.bindparam("h"), profile_changed=sa.bindparam("c")),
                    updates,
                )
            after = (rows[-1].taken_at, rows[-1].id)
    op.create_index(
        "ix_snapshot_profile", "snapshot", ["account_id", "profile_changed", "taken_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_snapshot_profile", "snapshot")
    with op.batch_alter_table("snapshot") as b:
        b.drop_column("profile_changed")
        b.drop_column("profile_hash")
