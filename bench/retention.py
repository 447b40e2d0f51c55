"""Retention over 100,000 snapshots: what is kept, what goes, how long, how much space returns.

Not a test: prints figures. Goal (issue 8): every evidence snapshot and every snapshot that
changed something survives; unchanged old ones are thinned; SQLite gives the space back in
small incremental_vacuum steps, never a full VACUUM.

    python bench/retention.py                       # 100 accounts x 1,000 hourly snapshots
    python bench/retention.py --accounts 50 --per-account 400

Shape: hourly snapshots over ~6 weeks; the facts change every ~20 hours per account (a new
post), each account has a few findings pointing at snapshots (first/last evidence, events);
facts are a realistic few hundred bytes of JSON; artifacts are content-addressed blobs, so an
unchanged page shares the blob of the snapshot before it.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from monitor.config import Settings  # noqa: E402
from monitor.service import retention  # noqa: E402
from monitor.store.blobs import BlobStore  # noqa: E402
from monitor.store.engine import make_engine, upgrade  # noqa: E402
from monitor.store.facts import content_of, put_facts  # noqa: E402
from monitor.store.models import Account, Finding, FindingEvent, Snapshot, Unit  # noqa: E402


def build(engine, store: BlobStore, accounts: int, per: int, seed: int = 8) -> set[int]:
    """Fill the database; returns the ids that must survive (changes + evidence + newest)."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(hours=per)
    must_keep: set[int] = set()
    with engine.begin() as c:
        unit = {"code": "u1", "name": "青溪县", "channels": [], "updated_at": now}
        c.execute(insert(Unit), [unit])
        c.execute(
            insert(Account),
            [
                {"id": f"a{i:04d}", "platform": "weibo", "name": f"账号{i}", "owner_code": "u1",
                 "options": {}, "updated_at": now}
                for i in range(accounts)
            ],
        )  # fmt: skip
    next_id = 1
    for a in range(accounts):
        rows = []
        contents: dict[str, dict] = {}
        version = 0
        blob = store.put(f"<rss>account {a} v0</rss>".encode())
        for h in range(per):
            sid = next_id + h
            if h == 0 or rnd.random() < 0.05:  # a new post: the facts change
                version += 1
                blob = store.put(f"<rss>account {a} v{version}</rss>".encode())
                must_keep.add(sid)
            facts = {
                "outcome": "ok",
                "profile": {"name": f"账号{a}", "followers": 1000 + version},
                "posts": [
                    {"id": f"{a}-{v}", "text": "今日发布：" + "政务信息" * 10, "pinned": False}
                    for v in range(max(0, version - 3), version)
                ],
            }
            fh = content_of(facts)[0]  # stored once per content, as checks store them
            contents[fh] = facts
            rows.append(
                {"id": sid, "account_id": f"a{a:04d}", "taken_at": start + timedelta(hours=h),
                 "node": "bench", "reader": "rss", "url": f"https://weibo.com/{a}",
                 "outcome": "ok", "status_code": 200, "detail": "", "elapsed_ms": 300,
                 "post_count": len(facts["posts"]), "facts_hash": fh,
                 "artifacts": [{"kind": "body", "media_type": "application/rss+xml",
                                "sha256": blob, "size": 40, "url": f"https://weibo.com/{a}"}]}
            )  # fmt: skip
        must_keep.add(next_id + per - 1)  # the newest
        with engine.begin() as c:
            put_facts(c, list(contents.values()))
            c.execute(insert(Snapshot), rows)
            for _ in range(3):  # findings whose evidence sits on unchanged snapshots
                first, last = sorted(rnd.sample(range(next_id, next_id + per), 2))
                fid = c.execute(
                    insert(Finding).values(
                        account_id=f"a{a:04d}", kind=f"k{first}", severity="high",
                        status="resolved", evidence={}, first_snapshot_id=first,
                        last_snapshot_id=last, opened_at=now, updated_at=now,
                    )
                ).inserted_primary_key[0]  # fmt: skip
                ev = rnd.randrange(first, last + 1)
                c.execute(
                    insert(FindingEvent).values(
                        finding_id=fid, event="updated", snapshot_id=ev, detail={}, at=now
                    )
                )
                must_keep |= {first, last, ev}
        next_id += per
    return must_keep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--per-account", type=int, default=1000)
    ap.add_argument("--thin-after-days", type=float, default=7)
    ap.add_argument("--keep-one-per-hours", type=float, default=24)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="xuncha-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            retention={
                "thin_after_days": args.thin_after_days,
                "keep_one_per_hours": args.keep_one_per_hours,
            },
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        store = BlobStore(settings.blob_path)
        t = time.perf_counter()
        must_keep = build(engine, store, args.accounts, args.per_account)
        n = args.accounts * args.per_account
        print(f"built {n:,} snapshots in {time.perf_counter() - t:.1f} s")

        def checkpoint() -> None:  # the WAL holds recent pages; measure the main file settled
            with engine.connect() as c:
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

        def count() -> int:
            with engine.connect() as c:
                return c.execute(select(func.count()).select_from(Snapshot)).scalar_one()

        blobs_before = sum(1 for _ in store.root.glob("??/??/*.gz"))
        checkpoint()
        rows_before, size_before = count(), retention.db_size(engine) or 0

        t = time.perf_counter()
        stats = retention.thin_snapshots(engine, settings.retention)
        t_thin = time.perf_counter() - t
        t = time.perf_counter()
        blobs_gone = retention.collect_blobs(engine, store, grace=timedelta(0))
        t_gc = time.perf_counter() - t
        t = time.perf_counter()
        facts_gone = retention.collect_facts(engine, grace=timedelta(0))
        t_facts = time.perf_counter() - t

        steps, freed, t = 0, 0, time.perf_counter()
        longest = 0.0
        while True:
            s0 = time.perf_counter()
            out = retention.incremental_vacuum(engine, settings.retention.vacuum_pages)
            longest = max(longest, time.perf_counter() - s0)
            if not out.get("freed"):
                break
            steps, freed = steps + 1, freed + out["freed"]
        t_vac = time.perf_counter() - t
        checkpoint()
        rows_after, size_after = count(), retention.db_size(engine) or 0

        with engine.connect() as c:
            left = {r[0] for r in c.execute(select(Snapshot.id))}
        lost = must_keep - left
        print(f"rows          {rows_before:>10,} -> {rows_after:,}  ({stats.deleted:,} thinned)")
        print(f"kept          changed {stats.kept_changed:,}, evidence {stats.kept_evidence:,}")
        print(f"must-keep     {len(must_keep):,} snapshots, missing after retention: {len(lost)}")
        print(f"thinning      {t_thin:.2f} s  (batches of {settings.retention.batch_size})")
        print(
            f"blob GC       {blobs_before:,} -> {blobs_before - blobs_gone:,} files in {t_gc:.2f} s"
        )
        print(f"facts GC      {facts_gone:,} rows no snapshot refers to, in {t_facts:.2f} s")
        print(
            f"compaction    {steps} incremental_vacuum steps of {settings.retention.vacuum_pages}"
            f" pages ({freed:,} pages) in {t_vac:.2f} s, longest step {longest * 1000:.0f} ms"
        )
        print(f"db size       {size_before / 2**20:.1f} MiB -> {size_after / 2**20:.1f} MiB")
        engine.dispose()
        if lost:
            raise SystemExit(f"LOST {len(lost)} snapshots that had to be kept")


if __name__ == "__main__":
    main()
