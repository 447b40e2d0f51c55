"""Retention: keep what matters as evidence, thin the rest, give the space back.

A snapshot is kept forever when it changed something (its ``facts_hash`` differs
from the account's previous snapshot), when a finding points at it (first/last
evidence, finding events), or when it is an account's first or newest. Unchanged
snapshots older than ``thin_after_days`` are thinned to one per account per
``keep_one_per_hours``; deleting them loses nothing, since a kept snapshot holds the
same facts. Blobs and facts rows no snapshot refers to any more are then removed (a page's
picture, ``monitor.store.screenshots``, lives as long as the page it shows), and
SQLite's free pages are returned with ``PRAGMA incremental_vacuum`` in small steps (a full
VACUUM would lock the patrol out for minutes).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, exists, func, select, text, union
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from monitor.config import RetentionConfig, Settings
from monitor.store.blobs import BlobStore
from monitor.store.blobs_db import DatabaseBlobStore
from monitor.store.models import AccountState, Facts, Finding, FindingEvent, Snapshot
from monitor.store.screenshots import forget_pictures, pictures_of

log = structlog.get_logger("xuncha.retention")

BLOB_GRACE = timedelta(hours=6)  # a blob newer than this may belong to a snapshot in flight


@dataclass
class RetentionStats:
    examined: int = 0
    kept_changed: int = 0
    kept_evidence: int = 0
    deleted: int = 0
    blobs_deleted: int = 0
    facts_deleted: int = 0
    screenshots_forgotten: int = 0
    seconds: float = 0.0
    deleted_ids: list[int] = field(default_factory=list, repr=False)


def evidence_ids(engine: Engine) -> set[int]:
    """Snapshots a finding points at (what a unit may dispute), and each account's last
    full look (``account_state.snapshot_id``: the next unchanged check refers to it)."""
    q = union(
        select(AccountState.snapshot_id).where(col(AccountState.snapshot_id).is_not(None)),
        select(Finding.first_snapshot_id).where(col(Finding.first_snapshot_id).is_not(None)),
        select(Finding.last_snapshot_id).where(col(Finding.last_snapshot_id).is_not(None)),
        select(FindingEvent.snapshot_id).where(col(FindingEvent.snapshot_id).is_not(None)),
    )
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(q)}


def plan_thinning(
    rows: Iterable[tuple[int, str, datetime, str]],
    evidence: set[int],
    cutoff: datetime,
    period: timedelta,
    stats: RetentionStats,
) -> Iterator[int]:
    """Ids to delete, from rows ordered by account, then time (id, account, taken_at, hash)."""
    period_s = period.total_seconds()
    for _account, group in itertools.groupby(rows, key=lambda r: r[1]):
        items = list(group)
        kept_buckets: set[int] = set()
        prev_hash: str | None = None
        for i, (sid, _acc, taken_at, fhash) in enumerate(items):
            stats.examined += 1
            if taken_at.tzinfo is None:
                taken_at = taken_at.replace(tzinfo=UTC)
            bucket = int(taken_at.timestamp() // period_s) if period_s > 0 else sid
            changed = prev_hash is None or fhash != prev_hash
            prev_hash = fhash
            if changed:
                stats.kept_changed += 1
            elif sid in evidence:
                stats.kept_evidence += 1
            elif (
                taken_at < cutoff
                and i != len(items) - 1
                and (period_s <= 0 or bucket in kept_buckets)
            ):
                yield sid
                continue
            kept_buckets.add(bucket)


def thin_snapshots(
    engine: Engine, r: RetentionConfig, *, now: datetime | None = None
) -> RetentionStats:
    """Delete unchanged, unreferenced, old snapshots in short batches (``[retention]``)."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=r.thin_after_days)
    stats = RetentionStats()
    evidence = evidence_ids(engine)
    q = select(Snapshot.id, Snapshot.account_id, Snapshot.taken_at, Snapshot.facts_hash).order_by(
        col(Snapshot.account_id), col(Snapshot.taken_at), col(Snapshot.id)
    )
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(q)]
    doomed = list(
        plan_thinning(rows, evidence, cutoff, timedelta(hours=r.keep_one_per_hours), stats)  # type: ignore[arg-type]
    )
    del rows
    for i in range(0, len(doomed), r.batch_size):
        # a finding may have pointed at one of these since the plan was made
        fresh = evidence_ids(engine) if i else evidence
        batch = [b for b in doomed[i : i + r.batch_size] if b not in fresh]
        try:
            with engine.begin() as conn:  # short transactions: the patrol keeps writing
                conn.execute(delete(Snapshot).where(col(Snapshot.id).in_(batch)))
        except IntegrityError as e:  # referenced in the meantime: next pass decides again
            log.warning("retention_batch_skipped", rows=len(batch), error=str(e)[:200])
            continue
        stats.deleted += len(batch)
    stats.deleted_ids = doomed
    stats.seconds = time.monotonic() - started
    return stats


def referenced_blobs(engine: Engine) -> set[str]:
    """The snapshots' artifacts, and the pictures drawn of their pages."""
    refs: set[str] = set()
    with engine.connect() as conn:
        for (artifacts,) in conn.execute(select(Snapshot.artifacts)).yield_per(5000):
            for a in artifacts or []:
                if isinstance(a, dict) and (d := a.get("sha256")):
                    refs.add(str(d))
    return refs | pictures_of(engine, refs)


def collect_blobs(
    engine: Engine,
    store: BlobStore | DatabaseBlobStore,
    *,
    grace: timedelta = BLOB_GRACE,
    refs: set[str] | None = None,
) -> int:
    """Remove blobs no snapshot refers to (older than ``grace``, so none in flight);
    ``refs``: :func:`referenced_blobs` if the caller has it already."""
    if isinstance(store, DatabaseBlobStore):
        refs = referenced_blobs(engine) if refs is None else refs
        return store.delete([d for d in store.digests(older_than=grace) if d not in refs])
    if not store.root.exists():
        return 0
    refs = referenced_blobs(engine) if refs is None else refs
    limit = time.time() - grace.total_seconds()
    removed = 0
    for path in store.root.glob("??/??/*.gz"):
        digest = path.name.removesuffix(".gz")
        if digest in refs:
            continue
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def collect_facts(engine: Engine, *, grace: timedelta = BLOB_GRACE, batch: int = 1000) -> int:
    """Remove ``facts`` rows no snapshot refers to (older than ``grace``), never one a
    snapshot refers to, even one committed while this runs.

    A check does not copy a stored content, it refers to it, so an old row can be wanted
    again at any moment. Every check's transaction adds its facts (``put_facts``, ON
    CONFLICT DO NOTHING) before its snapshots; on PostgreSQL that statement takes the
    table's ROW EXCLUSIVE lock, which this pass's SHARE ROW EXCLUSIVE lock waits for and
    holds off (SQLite: one writer at a time). So: wait out the checks in flight and note
    the newest snapshot id (``mark``; later snapshots get higher ids); find unreferenced
    rows; then delete them in short locked batches, each looking again at the snapshots
    written after ``mark`` (a range of the primary key: cheap).
    """
    facts = Facts.__table__  # type: ignore[attr-defined]
    snap = Snapshot.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        _lock_facts(conn)
        mark = conn.execute(select(func.coalesce(func.max(snap.c.id), 0))).scalar_one()
    doomed = _unreferenced(engine, datetime.now(UTC) - grace)
    removed = 0
    for i in range(0, len(doomed), batch):
        since = select(snap.c.id).where(snap.c.id > mark, snap.c.facts_hash == facts.c.sha256)
        with engine.begin() as conn:
            _lock_facts(conn)
            res = conn.execute(
                delete(facts).where(facts.c.sha256.in_(doomed[i : i + batch]), ~exists(since))
            )
            removed += res.rowcount or 0
    return removed


def _unreferenced(engine: Engine, created_before: datetime) -> list[str]:
    """Keys of the facts rows older than ``created_before`` that no snapshot refers to."""
    facts = Facts.__table__  # type: ignore[attr-defined]
    snap = Snapshot.__table__  # type: ignore[attr-defined]
    referenced = select(snap.c.facts_hash)
    if engine.dialect.name == "postgresql":  # an anti-join: one pass over the snapshots
        unreferenced = ~exists(referenced.where(snap.c.facts_hash == facts.c.sha256))
    else:  # SQLite builds an index of the subquery once (NOT EXISTS would scan per row)
        unreferenced = facts.c.sha256.not_in(referenced)
    q = select(facts.c.sha256).where(facts.c.created_at < created_before, unreferenced)
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def _lock_facts(conn: Connection) -> None:
    """Wait for the checks adding facts now, and hold new ones off until the commit."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE facts IN SHARE ROW EXCLUSIVE MODE"))


def incremental_vacuum(engine: Engine, pages: int) -> dict[str, Any]:
    """Give up to ``pages`` free pages back to the file system (SQLite only; a no-op else)."""
    if engine.dialect.name != "sqlite":
        return {}
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        mode = cur.execute("PRAGMA auto_vacuum").fetchone()[0]
        free = cur.execute("PRAGMA freelist_count").fetchone()[0] or 0
        if mode != 2 or not free:
            return {"auto_vacuum": mode, "freelist": free, "freed": 0}
        # executescript steps the pragma to completion; execute() frees one page per call
        raw.driver_connection.executescript(f"PRAGMA incremental_vacuum({int(pages)});")  # type: ignore[union-attr]
        after = cur.execute("PRAGMA freelist_count").fetchone()[0] or 0
        cur.close()
    finally:
        raw.close()
    return {"auto_vacuum": mode, "freelist": after, "freed": free - after}


def run_retention(
    engine: Engine,
    settings: Settings,
    store: BlobStore | DatabaseBlobStore,
    now: datetime | None = None,
) -> RetentionStats:
    """One retention pass: thin, then collect blobs and facts (compaction runs on its own
    timer)."""
    stats = thin_snapshots(engine, settings.retention, now=now)
    if stats.deleted:
        refs = referenced_blobs(engine)  # pictures only of pages kept: forgotten ones go too
        drawn_before = (now or datetime.now(UTC)) - BLOB_GRACE
        stats.screenshots_forgotten = forget_pictures(engine, refs, drawn_before=drawn_before)
        stats.blobs_deleted = collect_blobs(engine, store, refs=refs)
        stats.facts_deleted = collect_facts(engine)
    log.info(
        "retention_done",
        examined=stats.examined,
        deleted=stats.deleted,
        kept_changed=stats.kept_changed,
        kept_evidence=stats.kept_evidence,
        blobs_deleted=stats.blobs_deleted,
        facts_deleted=stats.facts_deleted,
        screenshots_forgotten=stats.screenshots_forgotten,
        seconds=round(stats.seconds, 2),
    )
    return stats


def db_size(engine: Engine) -> int | None:
    """Bytes of the SQLite file (None elsewhere), for the bench and logs."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    return os.path.getsize(engine.url.database)
