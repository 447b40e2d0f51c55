"""facts stored content-addressed: snapshot.facts moves into a table of its own, one row per
distinct content, and snapshot.facts_hash becomes that row's key

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00

The content of a snapshot's facts is its ``facts`` JSON without ``fetched_at`` and
``elapsed_ms`` (the row's own ``taken_at`` and ``elapsed_ms``), written as canonical JSON
(sorted keys, no spaces); its sha256 is the key. A stored value that is not what the row's
columns give back (an odd time format) stays in the content, so nothing is lost either way.
The canonical form is written out here rather than imported: a migration must keep doing
what it did when the code around it changes.
"""

import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

from monitor.store.models import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000  # snapshots at a time: a long history is never loaded at once

facts_table = sa.table(
    "facts",
    sa.column("sha256", sa.String),
    sa.column("data", sa.LargeBinary),
    sa.column("size", sa.Integer),
    sa.column("created_at", UTCDateTime()),
)


def _snapshot(*extra: sa.ColumnClause) -> sa.TableClause:
    return sa.table(
        "snapshot",
        sa.column("id", sa.Integer),
        sa.column("taken_at", UTCDateTime()),
        sa.column("elapsed_ms", sa.Integer),
        sa.column("facts_hash", sa.String),
        *extra,
    )


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(taken_at: datetime) -> str:
    return taken_at.astimezone(UTC).isoformat()


def _batches(conn: sa.Connection, q: sa.Select, id_col: sa.ColumnClause) -> Iterator[list[Any]]:
    after = 0
    while rows := conn.execute(q.where(id_col > after).order_by(id_col).limit(BATCH)).all():
        yield rows
        after = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "facts",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),  # zlib of the canonical JSON
        sa.Column("size", sa.Integer(), nullable=False),  # bytes of the canonical JSON
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    conn = op.get_bind()
    snapshot = _snapshot(sa.column("facts", sa.JSON))
    if conn.dialect.name == "postgresql":
        insert = postgresql.insert(facts_table).on_conflict_do_nothing(index_elements=["sha256"])
    else:
        insert = sqlite.insert(facts_table).on_conflict_do_nothing(index_elements=["sha256"])
    set_hash = (
        snapshot.update()
        .where(snapshot.c.id == sa.bindparam("i"))
        .values(facts_hash=sa.bindparam("h"))
    )
    now = datetime.now(UTC)
    q = sa.select(snapshot.c.id, snapshot.c.taken_at, snapshot.c.elapsed_ms, snapshot.c.facts)
    for rows in _batches(conn, q, snapshot.c.id):
        new: dict[str, dict[str, Any]] = {}
        updates = []
        for r in rows:
            facts = dict(r.facts or {})
            if not facts:  # nothing was recorded: no row, as a new snapshot without facts
                updates.append({"i": r.id, "h": ""})
                continue
            if facts.get("fetched_at") == _iso(r.taken_at):
                facts.pop("fetched_at")
            if facts.get("elapsed_ms") == r.elapsed_ms:
                facts.pop("elapsed_ms")
            data = _canonical(facts)
            sha = hashlib.sha256(data).hexdigest()
            new.setdefault(
                sha,
                {"sha256": sha, "data": zlib.compress(data, 6), "size": len(data),
                 "created_at": now},
            )  # fmt: skip
            updates.append({"i": r.id, "h": sha})
        if new:
            conn.execute(insert, [new[k] for k in sorted(new)])
        conn.execute(set_hash, updates)
    # SQLite's own DROP COLUMN (3.35+): a batch copy of the table would have to drop it, which
    # the findings' foreign keys to it refuse while any finding points at a snapshot
    op.drop_column("snapshot", "facts")


def _subset_hash(facts: dict[str, Any]) -> str:
    """``facts_hash`` as revision 0008's code computed it (of what retention compared)."""
    seen = {k: facts.get(k) for k in ("outcome", "status_code", "profile", "posts")}
    return hashlib.sha256(json.dumps(seen, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def downgrade() -> None:
    # NOT NULL needs a default to be added in place (no batch copy: see upgrade)
    op.add_column("snapshot", sa.Column("facts", sa.JSON(), nullable=False, server_default="{}"))
    conn = op.get_bind()
    snapshot = _snapshot(sa.column("facts", sa.JSON))
    set_facts = (
        snapshot.update()
        .where(snapshot.c.id == sa.bindparam("i"))
        .values(facts=sa.bindparam("f", type_=sa.JSON), facts_hash=sa.bindparam("h"))
    )
    q = sa.select(snapshot.c.id, snapshot.c.taken_at, snapshot.c.elapsed_ms, snapshot.c.facts_hash)
    for rows in _batches(conn, q, snapshot.c.id):
        wanted = sorted({r.facts_hash for r in rows if r.facts_hash})
        contents: dict[str, dict[str, Any]] = {}
        for i in range(0, len(wanted), 500):
            found = conn.execute(
                sa.select(facts_table.c.sha256, facts_table.c.data).where(
                    facts_table.c.sha256.in_(wanted[i : i + 500])
                )
            )
            contents.update({sha: json.loads(zlib.decompress(data)) for sha, data in found})
        updates = []
        for r in rows:
            content = contents.get(r.facts_hash)
            if not content:
                updates.append({"i": r.id, "f": {}, "h": r.facts_hash})
                continue
            facts = {"fetched_at": _iso(r.taken_at), "elapsed_ms": r.elapsed_ms, **content}
            updates.append({"i": r.id, "f": facts, "h": _subset_hash(facts)})
        conn.execute(set_facts, updates)
    if conn.dialect.name == "postgresql":  # as 0001 made it (SQLite keeps the default)
        op.alter_column("snapshot", "facts", server_default=None)
    op.drop_table("facts")
