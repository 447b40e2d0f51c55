"""History queries for one account with 50,000 snapshots, on SQLite (or PostgreSQL).

Not a test: prints figures. Goal (issue 7): each query the console makes for an account page
serves in well under 200 ms however long the history: keyset pages, no loading of all rows.

    python bench/history.py                          # 50,000 snapshots, SQLite in a temp dir
    python bench/history.py --db /tmp/h.db           # generated once, reused by later runs
    python bench/history.py --db-url postgresql+psycopg://postgres@127.0.0.1/x   # an empty DB

Shape: the account is checked every 10 minutes (~a year); its feed shows its 20 newest posts
(~600 bytes of facts each) and it posts every 3-9 hours, so the facts change every ~36
snapshots (each content stored once, as checks store it); the profile changes a handful of
times. 20 other accounts are checked alongside, so the table holds ~70,000 rows in time
order, as the daemon writes them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from monitor.store.changes import (  # noqa: E402
    diff_snapshots,
    posting_timeline,
    profile_changes,
)
from monitor.store.engine import make_engine, upgrade  # noqa: E402
from monitor.store.facts import content_of, put_facts  # noqa: E402
from monitor.store.history import account_history, snapshot_detail  # noqa: E402
from monitor.store.models import (  # noqa: E402
    Account,
    Snapshot,
    Unit,
)
from monitor.store.snapshots import profile_fingerprint  # noqa: E402

OTHERS = 20
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _big_row(taken: datetime, seen: dict[str, Any], digest: str, key: str) -> dict[str, Any]:
    posts = seen["posts"]
    return {
        "account_id": "big",
        "taken_at": taken,
        "node": "bench",
        "reader": "rss",
        "url": "",
        "outcome": "ok",
        "status_code": 200,
        "detail": "",
        "elapsed_ms": 100,
        "latest_post_at": datetime.fromisoformat(posts[0]["published_at"]),
        "post_count": len(posts),
        "facts_hash": key,  # of its facts' content (stored once: monitor.store.facts)
        "profile_hash": profile_fingerprint(seen),
        "profile_changed": False,  # set by the generator, as the insert listener would
        "artifacts": [
            {
                "kind": "feed",
                "media_type": "application/rss+xml",
                "sha256": digest,
                "size": 4000,
                "url": "",
            }
        ],
    }


def _other_row(account: str, taken: datetime) -> dict[str, Any]:
    return {
        "account_id": account,
        "taken_at": taken,
        "node": "bench",
        "reader": "rss",
        "url": "",
        "outcome": "ok",
        "status_code": 200,
        "detail": "",
        "elapsed_ms": 100,
        "latest_post_at": None,
        "post_count": 0,
        "profile_hash": "",
        "profile_changed": False,
        "facts_hash": "",
        "artifacts": [],
    }


def generate(url: str, snapshots: int) -> None:
    rnd = random.Random(5)
    engine = make_engine(url)
    upgrade(engine)
    start = NOW - timedelta(minutes=10 * snapshots)
    with engine.begin() as c:
        c.execute(insert(Unit), [{"code": "u", "name": "单位", "channels": [], "updated_at": NOW}])
        c.execute(
            insert(Account),
            [
                {
                    "id": a,
                    "platform": "weibo",
                    "name": a,
                    "owner_code": "u",
                    "options": {},
                    "updated_at": NOW,
                }
                for a in ["big", *(f"o{i}" for i in range(OTHERS))]
            ],
        )
    posts: list[dict[str, Any]] = []
    profile = {"name": "大账号", "bio": "简介", "verified": True, "followers": 1000}
    batch: list[dict[str, Any]] = []
    next_post = start
    last_hash = ""
    facts: dict[str, dict[str, Any]] = {}  # the batch's new facts, by key
    key, key_of = "", (None, None)
    for n in range(snapshots):
        taken = start + timedelta(minutes=10 * n)
        if taken >= next_post:
            new = {
                "id": f"p{n}",
                "published_at": taken.isoformat(),
                "title": f"第 {n} 条通知",
                "text": "内容" * 40,
                "url": f"https://example.org/p{n}",
                "pinned": False,
            }
            posts = [new, *posts][:20]
            next_post = taken + timedelta(hours=rnd.uniform(3, 9))
        if n % 9000 == 4500:
            profile = {**profile, "bio": f"简介 {n}", "name": f"大账号{n // 9000}"}
        seen = {"outcome": "ok", "status_code": 200, "profile": profile, "posts": posts}
        digest = hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()
        if key_of != (id(posts), id(profile)):  # the facts changed: their content's key
            key, key_of = content_of(seen)[0], (id(posts), id(profile))
            facts[key] = {**seen, "fetched_at": taken.isoformat(), "elapsed_ms": 100}
        row = _big_row(taken, seen, digest, key)
        row["profile_changed"] = bool(last_hash) and row["profile_hash"] != last_hash
        last_hash = row["profile_hash"]
        batch.append(row)
        if n % 50 == 0:  # the other accounts, less often
            batch.extend(_other_row(f"o{i}", taken) for i in range(OTHERS))
        if len(batch) >= 5000:
            with engine.begin() as c:
                put_facts(c, list(facts.values()))
                c.execute(insert(Snapshot), batch)
            batch, facts = [], {}
    if batch:
        with engine.begin() as c:
            put_facts(c, list(facts.values()))
            c.execute(insert(Snapshot), batch)
    with engine.begin() as c:
        c.exec_driver_sql("ANALYZE" if engine.dialect.name == "sqlite" else "ANALYZE snapshot")
    engine.dispose()


def _filled(url: str) -> bool:
    """Does the database already hold the bench account (a re-run)?"""
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return bool(c.exec_driver_sql("SELECT 1 FROM account WHERE id = 'big'").first())
    except Exception:  # no schema yet
        return False
    finally:
        engine.dispose()


def timed(label: str, fn: Callable[[], Any], runs: int = 7) -> Any:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{label:<48} median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--snapshots", type=int, default=50_000)
    ap.add_argument(
        "--db-url", help="a database to fill, or reuse if filled (default: temp SQLite)"
    )
    ap.add_argument("--db", type=Path, help="SQLite file, generated once and then reused")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.db_url or f"sqlite:///{tmp.name}/history.db"
    if args.db:
        url = f"sqlite:///{args.db}"
    t0 = time.perf_counter()
    if _filled(url):
        print(f"reusing the snapshots already in {url}")
    else:
        generate(url, args.snapshots)
        took = time.perf_counter() - t0
        print(f"generated {args.snapshots:,} snapshots of one account in {took:.1f} s")
    engine = make_engine(url)
    with Session(engine) as s:
        first = timed("account_history first page (50)", lambda: account_history(s, "big"))
        newest = first[0].id
        mid_id = newest - args.snapshots // 2
        timed(
            "account_history page in the middle (50)",
            lambda: account_history(s, "big", before_id=mid_id),
        )
        timed(
            "account_history last page",
            lambda: account_history(s, "big", before_id=first[-1].id - args.snapshots + 60),
        )
        timed("snapshot_detail", lambda: snapshot_detail(s, newest))
        timed("diff_snapshots (newest vs one far back)", lambda: diff_snapshots(s, mid_id, newest))
        tl = timed("posting_timeline 90 days", lambda: posting_timeline(s, "big", days=90, now=NOW))
        timed("posting_timeline 30 days", lambda: posting_timeline(s, "big", days=30, now=NOW))
        pc = timed("profile_changes (limit 50, whole history)", lambda: profile_changes(s, "big"))
        print(f"  timeline posts: {sum(c for _, c in tl)}, profile changes: {len(pc)}")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
