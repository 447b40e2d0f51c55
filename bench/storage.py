"""Database bytes per check of an unchanged page, through the real check pipeline.

Not a test: prints figures. For N accounts (``--accounts``, default 1,000), each a
government site's news list (~20 KB, 100 items; ``bench/pages.py``, a process of its own),
every account is checked ``--rounds`` times over pages that never change, claimed with its
last look as ``xuncha run`` claims it (``--full``: read in full, as ``xuncha recheck
--full``), by ``monitor.patrol.pipeline.check`` in one ``app.probing()``, its records
written by the writer in a thread. After each round the database is
measured: SQLite, the file and its WAL after a checkpoint; PostgreSQL (a fresh database,
created and dropped), ``pg_total_relation_size`` of every table after a plain VACUUM (as
autovacuum would leave it: dead rows of updated findings reusable, not counted twice).
The first round stores what is new; the later ones show what an unchanged page costs per
check, which is what a province checking 20,000 accounts hourly pays.

    python bench/storage.py                                   # SQLite, 1,000 accounts, 4 rounds
    python bench/storage.py --database postgresql --rounds 5
    PYTHONPATH=/tmp/before python /tmp/before/bench/storage.py  # another checkout's code

Evidence files (the pages) live in the blob store, content-addressed already: shown beside
the database, not in it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not os.environ.get("PYTHONPATH"):  # else the code that PYTHONPATH names is measured
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SELECTORS = {"item": "ul.news-list li", "date": ".date", "title": "a"}


class Pages:
    """``bench/pages.py`` in a process of its own: the same bytes on every request."""

    def __init__(self, pages: int) -> None:
        cmd = [sys.executable, str(ROOT / "bench" / "pages.py"), "--pages", str(pages)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline().split()[1])}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


def database_bytes(engine: sa.Engine) -> int:
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        with engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        wal = path.with_name(path.name + "-wal")
        return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM")
        return int(
            c.exec_driver_sql(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind = 'r'"
            ).scalar_one()
        )


def table_rows(engine: sa.Engine) -> dict[str, int]:
    names = sa.inspect(engine).get_table_names()
    with engine.connect() as c:
        return {
            t: int(c.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one())
            for t in sorted(names)
            if t != "alembic_version"
        }


def blob_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.gz")) if root.exists() else 0


async def patrol(
    app: object, ids: list[str], rounds: int, concurrency: int, full: bool
) -> list[int]:
    """Check every account ``rounds`` times as ``xuncha run`` does (claimed with its last
    look, so an unchanged page may be answered 304 or found byte-identical; ``full``: read
    every page in full, as ``xuncha recheck --full`` does); the database's size after each
    round."""
    from datetime import UTC, datetime, timedelta

    from monitor.patrol.claims import Claims
    from monitor.patrol.pipeline import check

    sizes: list[int] = []
    sem = asyncio.Semaphore(concurrency)
    claims = Claims(app.engine, app.settings.node_name, 600)  # type: ignore[attr-defined]
    claims.ensure_states(app.settings, datetime.now(UTC))  # type: ignore[attr-defined]
    async with app.probing() as tools:  # type: ignore[attr-defined]

        async def one(account_id: str, previous: object) -> tuple[str, bool]:
            async with sem:
                r = await check(app, tools, account_id, previous=previous, claimed=True)  # type: ignore[arg-type]
            return r.snapshot.outcome, r.observation.unchanged

        for n in range(rounds):
            t0 = time.perf_counter()
            # every account due: a round is a whole patrol, whatever the interval
            got = claims.claim(datetime.now(UTC) + timedelta(days=3650), len(ids), app.judged_with)  # type: ignore[attr-defined]
            results = await asyncio.gather(
                *(one(c.account_id, None if full else c.previous) for c in got)
            )
            took = time.perf_counter() - t0
            sizes.append(database_bytes(app.engine))  # type: ignore[attr-defined]
            ok = sum(o == "ok" for o, _ in results)
            same = sum(u for _, u in results)
            print(
                f"  round {n + 1}: {len(got)} checks in {took:.1f} s, ok {ok}, unchanged {same}",
                flush=True,
            )
    return sizes


def run(url: str, data_dir: Path, accounts: int, rounds: int, concurrency: int, full: bool) -> None:
    import structlog

    import monitor
    from monitor.app import App
    from monitor.config import Settings
    from monitor.store.engine import make_engine, session_scope, upgrade
    from monitor.store.models import Account, Unit

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    print(f"code: {Path(monitor.__file__).parent}; database: {url.split('@')[-1]}")
    settings = Settings(
        data_dir=data_dir,
        database={"url": url},
        http={"max_connections": concurrency, "per_host": concurrency, "retries": 0},
        patrol={"writer": "thread"},
        alerts={"enabled": False},
        logging={"level": "error"},
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    pages = Pages(accounts)
    app = App.open(settings)
    try:
        ids = [f"s{i:05d}" for i in range(accounts)]
        with session_scope(app.engine) as s:
            s.add(Unit(code="u", name="某某县人民政府"))
            s.flush()
            for i, a in enumerate(ids):
                s.add(
                    Account(id=a, platform="website", reader="webpage", name=f"政务动态{i}",
                            url=f"{pages.base}/p{i}.html", owner_code="u",
                            options=dict(SELECTORS))
                )  # fmt: skip
        empty = database_bytes(app.engine)
        sizes = asyncio.run(patrol(app, ids, rounds, concurrency, full))
        rows = table_rows(app.engine)
        blobs = blob_bytes(settings.blob_path)
    finally:
        app.close()
        pages.stop()
    print(f"database before the first check: {empty:,} bytes")
    previous = empty
    for n, size in enumerate(sizes, 1):
        print(f"after round {n}: {size:,} bytes (+{(size - previous) / accounts:,.0f} per check)")
        previous = size
    if rounds > 1:
        later = (sizes[-1] - sizes[0]) / (accounts * (rounds - 1))
        print(f"bytes per check of an unchanged page (rounds 2-{rounds}): {later:,.0f}")
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items() if n))
    print(f"evidence files (blob store, not in the database): {blobs:,} bytes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--full", action="store_true", help="read every page in full each round")
    ap.add_argument("--pg-admin", default=PG_ADMIN, help="where to create the fresh database")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="xuncha-storage-") as tmp:
        if a.database == "sqlite":
            run(
                f"sqlite:///{tmp}/xuncha.db", Path(tmp), a.accounts, a.rounds, a.concurrency, a.full
            )
            return
        name = f"xuncha_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(a.pg_admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = a.pg_admin.rsplit("/", 1)[0] + f"/{name}"
            run(url, Path(tmp), a.accounts, a.rounds, a.concurrency, a.full)
        finally:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
