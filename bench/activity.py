"""Activity (posts per month by post id) and the annual sheet over many accounts, on SQLite.

Not a test: prints figures. Shape: ``--accounts`` accounts (default 2,000) x ``--days`` daily
looks (default 365, the year 2026); each look's facts hold the newest 20 posts (as a feed or
a profile page shows them), so an account that did not post keeps its facts and the looks
share one row (as the writer stores them); an account posts on ~45% of days, every 10th is a
repost, every 15th look fails. Counts each post once however many looks saw it.

    python bench/activity.py
    python bench/activity.py --accounts 500 --days 120 --db /tmp/activity.db
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from monitor.report.activity import activity, candidates  # noqa: E402
from monitor.report.annual import annual_bytes, annual_rows  # noqa: E402
from monitor.store.engine import make_engine, upgrade  # noqa: E402
from monitor.store.facts import clear_cache, content_of  # noqa: E402

START = datetime(2026, 1, 1, 2, tzinfo=UTC)
TZ = "Asia/Shanghai"


def fmt(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(db: Path, accounts: int, days: int) -> tuple[int, int]:
    rnd = random.Random(7)
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = fmt(datetime.now(UTC))
    units = [("gz", "贵州省", None)] + [(f"c{c}", f"第{c}市", "gz") for c in range(10)]
    con.executemany(
        "INSERT INTO unit (code, name, parent_code, level, region, channels, updated_at) "
        "VALUES (?, ?, ?, '', '', '[]', ?)",
        [(*u, now) for u in units],
    )
    ids = [f"a{i:05d}" for i in range(accounts)]
    con.executemany(
        "INSERT INTO account (id, platform, name, handle, url, reader, owner_code, kind, ruleset,"
        " status, operator, is_lead, options, updated_at) VALUES"
        " (?, 'weibo', ?, '', '', 'weibo', ?, 'publish', '', 'active', '', 0, '{}', ?)",
        [(a, f"账号{i}", f"c{i % 10}", now) for i, a in enumerate(ids)],
    )
    posts: list[list[dict[str, object]]] = [[] for _ in ids]
    made = [0] * accounts
    facts_rows: dict[str, bytes] = {}
    snaps = []
    for d in range(days):
        for i, a in enumerate(ids):
            taken = START + timedelta(days=d, minutes=i % 60)
            if rnd.random() < 0.45:
                n = made[i] = made[i] + 1
                posts[i].insert(0, {
                    "id": f"{a}-{n}", "published_at": (taken - timedelta(hours=3)).isoformat(),
                    "title": f"通知 {n}", "text": "内容" * 40, "repost": n % 10 == 9,
                })  # fmt: skip
                del posts[i][20:]
            failed = d % 15 == i % 15
            sha = ""
            if not failed:
                seen = {"outcome": "ok", "profile": {"name": f"账号{i}", "followers": 1000 + d},
                        "posts": posts[i]}  # fmt: skip
                sha, data = content_of(seen)
                if sha not in facts_rows:
                    facts_rows[sha] = data
            snaps.append((a, fmt(taken), "error" if failed else "ok", sha))
    con.executemany(
        "INSERT INTO facts (sha256, data, size, created_at) VALUES (?, ?, ?, ?)",
        [(sha, zlib.compress(data), len(data), now) for sha, data in facts_rows.items()],
    )
    con.executemany(
        "INSERT INTO snapshot (account_id, taken_at, node, reader, url, outcome, status_code,"
        " detail, elapsed_ms, post_count, facts_hash, artifacts, profile_hash, profile_changed)"
        " VALUES (?, ?, 'bench', 'weibo', '', ?, 200, '', 100, 1, ?, '[]', '', 0)",
        snaps,
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return len(snaps), len(facts_rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--db", type=Path, help="database file (reused if it exists)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "activity.db"
    if not db.exists():
        t0 = time.perf_counter()
        snaps, facts = generate(db, args.accounts, args.days)
        print(
            f"generated {snaps:,} looks ({facts:,} distinct facts) for {args.accounts:,} "
            f"accounts in {time.perf_counter() - t0:.1f} s; {db.stat().st_size / 1e6:.0f} MB"
        )
    engine = make_engine(f"sqlite:///{db}")
    now = START + timedelta(days=args.days)
    last = (now - timedelta(days=1)).date()
    quarter = date(last.year, (last.month - 1) // 3 * 3 + 1, 1)
    for label, first in (("quarter", quarter), ("year", date(last.year, 1, 1))):
        clear_cache()
        with Session(engine) as s:
            t0 = time.perf_counter()
            acts = activity(s, first, last, now, TZ)
            took = time.perf_counter() - t0
        posts = sum(a.posts for a in acts)
        found = candidates(acts, silent_days=90, low_per_month=2, similarity=0.8)
        print(
            f"activity over the {label} ({first}..{last}): {took:.2f} s for {len(acts):,} "
            f"accounts, {posts:,} distinct posts; {len(found)} candidates"
        )
    clear_cache()
    with Session(engine) as s:
        t0 = time.perf_counter()
        rows = annual_rows(s, last.year, now, TZ)
        took = time.perf_counter() - t0
    t0 = time.perf_counter()
    body = annual_bytes(rows, last.year, "xlsx", TZ, "全部")
    print(
        f"annual_rows({last.year}): {took:.2f} s; xlsx {len(body) / 1e3:.0f} kB in "
        f"{time.perf_counter() - t0:.2f} s"
    )


if __name__ == "__main__":
    main()
