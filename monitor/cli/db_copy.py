"""Moving an installation's data to another database (SQLite → PostgreSQL): ``xuncha db copy``.

``copy_database`` copies every table of the configured database, parents
before children, in batches, into a target that ``xuncha init`` has prepared and that
holds nothing yet; then sets PostgreSQL's id sequences past the copied ids and checks
that every table has as many rows as the source. APScheduler's own tables are not
copied: nodes recreate the schedules from the registry when they start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import monitor.store.models  # noqa: F401  (registers the tables)
from monitor.store.blobs import BlobStore
from monitor.store.blobs_db import blob_table
from monitor.store.engine import SchemaError, check_schema


class CopyError(Exception):
    """The copy cannot start or did not come out whole; worded for the operator."""


@dataclass
class TableCopy:
    table: str
    source: int
    copied: int = 0
    target: int = 0


def tables_to_copy() -> list[sa.Table]:
    """Our tables in foreign-key order (parents first), and the blob table."""
    return [*SQLModel.metadata.sorted_tables, blob_table]


def _count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def _self_parent(table: sa.Table) -> tuple[str, str] | None:
    """(child column, parent column) of a foreign key from a table to itself (unit.parent)."""
    for fk in table.foreign_keys:
        if fk.column.table is table:
            return fk.parent.name, fk.column.name
    return None


def _rows(engine: Engine, table: sa.Table, batch: int) -> Iterator[list[dict[str, Any]]]:
    """The table's rows in batches; a self-referencing table parents first."""
    order = list(table.primary_key.columns)
    with engine.connect() as c:
        result = c.execute(sa.select(table).order_by(*order)).mappings()
        link = _self_parent(table)
        if link is None:
            while chunk := result.fetchmany(batch):
                yield [dict(r) for r in chunk]
            return
        pending = [dict(r) for r in result]  # units: a few thousand rows at most
    child, parent = link
    done: set[Any] = set()
    while pending:
        ready = [r for r in pending if r[child] is None or r[child] in done]
        if not ready:  # a cycle the database allowed: keep the rest as they are
            ready = pending
        done.update(r[parent] for r in ready)
        pending = [r for r in pending if r not in ready]
        for i in range(0, len(ready), batch):
            yield ready[i : i + batch]


def _reset_sequences(target: Engine, tables: list[sa.Table]) -> None:
    """PostgreSQL hands out ids from sequences: start them after the copied ids."""
    if target.dialect.name != "postgresql":
        return
    with target.begin() as c:
        for t in tables:
            pk = list(t.primary_key.columns)
            if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer):
                continue
            name = t.name
            seq = c.execute(
                sa.text("select pg_get_serial_sequence(:t, :c)"),
                {"t": f'"{name}"', "c": pk[0].name},
            ).scalar()
            if seq:
                c.execute(
                    sa.text(
                        f'select setval(:s, coalesce((select max("{pk[0].name}") from "{name}"), 0)'
                        " + 1, false)"
                    ),
                    {"s": seq},
                )


def copy_database(
    source: Engine,
    target: Engine,
    *,
    batch: int = 1000,
    blob_files: BlobStore | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[TableCopy]:
    """Copy every table; raises CopyError before writing anything if the target is unfit."""
    _check_fit(source, target)
    tables = tables_to_copy()
    report = [TableCopy(t.name, _count(source, t)) for t in tables]
    for t, rep in zip(tables, report, strict=True):
        for rows in _rows(source, t, batch):
            with target.begin() as c:
                c.execute(t.insert(), rows)
            rep.copied += len(rows)
            if progress:
                progress(t.name, rep.copied, rep.source)
    if blob_files is not None:
        report.append(_copy_blob_files(blob_files, target, batch, progress))
    _reset_sequences(target, tables)
    for t, rep in zip(tables, report, strict=False):
        rep.target = _count(target, t)
    if blob_files is not None:
        report[-1].target = _count(target, blob_table)
    bad = [r for r in report if r.target < r.source or (r.table != "blob" and r.target != r.source)]
    if bad:
        lines = "; ".join(f"{r.table}: 源 {r.source} 行, 目标 {r.target} 行" for r in bad)
        raise CopyError(f"复制后行数不一致: {lines}")
    return report


def _check_fit(source: Engine, target: Engine) -> None:
    """Both schemas current and the target empty, or CopyError saying which is not."""
    for engine, which in ((source, "源"), (target, "目标")):
        try:
            check_schema(engine)
        except SchemaError as e:
            hint = "（先对目标数据库运行 `xuncha init`：XUNCHA_DATABASE__URL=… xuncha init）"
            raise CopyError(f"{which}数据库: {e}{hint if which == '目标' else ''}") from None
    for t in tables_to_copy():
        if n := _count(target, t):
            raise CopyError(f"目标数据库不是空的：表 {t.name} 已有 {n} 行，未做任何修改")


def _copy_blob_files(
    store: BlobStore,
    target: Engine,
    batch: int,
    progress: Callable[[str, int, int], None] | None,
) -> TableCopy:
    """Evidence files into the target's blob table (for ``[blobs] backend = "database"``)."""
    from datetime import UTC, datetime

    from monitor.store.blobs_db import DatabaseBlobStore, _insert_ignore

    paths = sorted(store.root.glob("??/??/*.gz")) if store.root.exists() else []
    rep = TableCopy("blob(文件)", len(paths))
    already = DatabaseBlobStore(target)
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        if rows:
            with target.begin() as c:
                c.execute(_insert_ignore(target), rows)
            rows.clear()

    for path in paths:
        digest = path.name.removesuffix(".gz")
        data = store.get(digest)  # verified: a damaged file is said, not copied silently
        if not already.exists(digest):
            packed = path.read_bytes()
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            rows.append({"digest": digest, "data": packed, "size": len(data), "created_at": mtime})
        rep.copied += 1
        if len(rows) >= max(1, batch // 10):
            flush()
        if progress:
            progress(rep.table, rep.copied, rep.source)
    flush()
    return rep
