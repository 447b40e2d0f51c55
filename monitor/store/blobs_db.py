"""The blob store in the database: evidence every node can read, with no shared disk.

Same contract as :class:`monitor.store.blobs.BlobStore` (sha256 of the uncompressed bytes,
gzip, verified on read), kept in the ``blob`` table (migration 0005). Meant for
several PostgreSQL nodes that share no file system; a single SQLite node is better
served by files. A blob is inserted before the check's own transaction, in a short
transaction of its own, so a crash can leave an unreferenced blob (collected later),
never a snapshot pointing at a missing one.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from monitor.store.blobs import BlobCorrupt, unpack
from monitor.store.models import UTCDateTime

# its own metadata: the table belongs to migration 0005, not to SQLModel's create_all
metadata = sa.MetaData()
blob_table = sa.Table(
    "blob",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False, index=True),  # collection
)


def _insert_ignore(engine: Engine) -> sa.Insert:
    """An INSERT that leaves an existing digest alone (two nodes may store the same page)."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(blob_table).on_conflict_do_nothing(index_elements=["digest"])
    if engine.dialect.name == "sqlite":
        return sqlite.insert(blob_table).on_conflict_do_nothing(index_elements=["digest"])
    return blob_table.insert()


class DatabaseBlobStore:
    """Blobs as rows; ``put``/``get``/``exists`` as the file store has them."""

    backend = "database"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, data: bytes) -> str:
        """Store ``data`` once; returns its sha256 hex digest."""
        return self.put_many([data])[0]

    def put_many(self, items: Iterable[bytes]) -> list[str]:
        """Store several blobs in one transaction; their digests in order.

        One query finds the digests already stored (an unchanged page costs no upload), one
        statement adds the rest; a digest another node adds meanwhile is left alone.
        """
        datas = list(items)
        digests = [hashlib.sha256(d).hexdigest() for d in datas]
        if not datas:
            return digests
        with self.engine.begin() as conn:
            present = set(
                conn.execute(
                    sa.select(blob_table.c.digest).where(blob_table.c.digest.in_(set(digests)))
                ).scalars()
            )
            rows: dict[str, dict] = {}
            now = _now()
            for digest, data in zip(digests, datas, strict=True):
                if digest in present or digest in rows:
                    continue
                packed = gzip.compress(data, compresslevel=6, mtime=0)
                rows[digest] = {
                    "digest": digest,
                    "data": packed,
                    "size": len(data),
                    "created_at": now,
                }
            if rows:
                conn.execute(_insert_ignore(self.engine), list(rows.values()))
        return digests

    def get(self, digest: str) -> bytes:
        """Read a blob back, verifying it still matches its hash."""
        with self.engine.connect() as conn:
            packed = conn.execute(
                sa.select(blob_table.c.data).where(blob_table.c.digest == digest)
            ).scalar()
        if packed is None:
            raise BlobCorrupt(f"证据文件 {digest[:12]} 不在数据库中")
        return unpack(digest, packed)

    def exists(self, digest: str) -> bool:
        with self.engine.connect() as conn:
            q = sa.select(sa.literal(1)).where(blob_table.c.digest == digest)
            return conn.execute(q).first() is not None

    def digests(self, *, older_than: timedelta) -> Iterator[str]:
        """Digests stored before ``now - older_than`` (retention's candidates)."""
        limit = _now() - older_than
        q = sa.select(blob_table.c.digest).where(blob_table.c.created_at < limit)
        with self.engine.connect() as conn:
            yield from conn.execute(q).scalars().yield_per(5000)

    def delete(self, digests: list[str]) -> int:
        """Remove these blobs (short transactions; the patrol keeps writing)."""
        removed = 0
        for i in range(0, len(digests), 1000):
            batch = digests[i : i + 1000]
            with self.engine.begin() as conn:
                res = conn.execute(blob_table.delete().where(blob_table.c.digest.in_(batch)))
                removed += res.rowcount or 0
        return removed

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(blob_table)).scalar())


def _now() -> datetime:
    return datetime.now(UTC)
