"""The console's overview, accounts and findings pages on a province's database.

Not a test: prints figures. For each size (default 10,000 and 20,000 accounts) it builds a
SQLite database shaped like a province after months of patrol, then asks the pages and the
API through the whole FastAPI stack in-process (TestClient) as an admin, a city's
supervisor and a county's duty officer; the figure is the app's own ``Server-Timing``.
It also times the figures the overview keeps in its background cache (``StatsCache``):
the quarter's pass rates (``monitor.report.build_report``), the updates trend and the
due-soon list, computed directly, since a page only waits a moment for them.

    python bench/console.py                        # 10,000 and 20,000 accounts
    python bench/console.py --accounts 2000 --runs 5
    python bench/console.py --accounts 20000 --db /tmp/c20k.db   # keep (and reuse) it

Shape: a province, 10 cities, 100 counties; accounts spread over counties and five
platforms. ``--days`` (150) of snapshots per account: one a day beyond 30 days back (what
retention keeps), ``--per-day`` (4) in the last 30 days; every 40th check fails, 1% of the
accounts fail every time (巡查异常). Accounts post every few hours to few days; 8% have been
silent three weeks (an open 单项否决 with its 整改期限 past), 3% have a 预警 open, 2% a 严重;
two resolved findings per account over the months; an outbox of sent and waiting messages.
Rows are written with the driver's ``executemany`` in SQLAlchemy's SQLite datetime format.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import zlib
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from monitor.app import App  # noqa: E402
from monitor.config import Settings  # noqa: E402
from monitor.store.engine import make_engine, session_scope, upgrade  # noqa: E402
from monitor.store.facts import content_of  # noqa: E402
from monitor.store.models import User  # noqa: E402
from monitor.store.sortkey import pinyin_key  # noqa: E402
from monitor.web.app import create_app  # noqa: E402
from monitor.web.auth import Principal, add_user, principal_for  # noqa: E402
from monitor.web.overview import pass_rates  # noqa: E402
from monitor.web.soon import due_horizon, due_soon  # noqa: E402
from monitor.web.stats import StatsCache  # noqa: E402
from monitor.web.trends import open_problems, updates  # noqa: E402

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # a Tuesday, 14:00 in Beijing
PLATFORMS = ("weibo", "wechat", "douyin", "toutiao", "website")
# names that sort differently by pinyin and by code point (黔 after every common surname)
PLACES = ("贵阳", "遵义", "安顺", "毕节", "铜仁", "黔南", "六盘水", "重庆路", "北京路", "长沙路")
PASSWORD = "Bench-password1"


def fmt(dt: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DateTime storage format (naive UTC)."""
    return None if dt is None else dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(db: Path, accounts: int, days: int, per_day: int) -> int:
    rnd = random.Random(17)
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = fmt(NOW)
    units = [("gz", "贵州省人民政府办公厅", None, "省")]
    units += [(f"c{c}", f"第{c}市人民政府办公室", "gz", "市") for c in range(10)]
    units += [
        (f"c{c}-{k}", f"第{c}市第{k}县人民政府办公室", f"c{c}", "县")
        for c in range(10)
        for k in range(10)
    ]
    con.executemany(
        "INSERT INTO unit (code, name, name_key, parent_code, level, region, channels,"
        " it_channels, duty_mobiles, updated_at)"
        " VALUES (?, ?, ?, ?, ?, '贵州省', '[]', '[]', '[]', ?)",
        [(u[0], u[1], pinyin_key(u[1]), *u[2:], now) for u in units],
    )
    counties = [u[0] for u in units if u[3] == "县"]
    ids = [f"a{i:05d}" for i in range(accounts)]
    names = [f"{PLACES[i % len(PLACES)]}政务账号{i}" for i in range(accounts)]
    started = time.perf_counter()
    keys = [pinyin_key(n) for n in names]  # what the ORM writes with each name
    print(f"  pinyin keys of {accounts} names: {(time.perf_counter() - started) * 1000:.0f} ms")
    con.executemany(
        "INSERT INTO account (id, platform, name, name_key, handle, url, reader, owner_code,"
        " kind, ruleset, status, operator, is_lead, options, updated_at) VALUES"
        " (?, ?, ?, ?, ?, '', 'rss', ?, 'publish', '', ?, '', 0, '{}', ?)",
        [
            (a, PLATFORMS[i % 5], names[i], keys[i], f"h{i}", counties[i % len(counties)],
             "closed" if i % 100 == 50 else "active", now)
            for i, a in enumerate(ids)
        ],
    )  # fmt: skip
    start = NOW - timedelta(days=days)
    dense_from = NOW - timedelta(days=30)
    silent = {i for i in range(accounts) if i % 12 == 3}  # 8%: three weeks without a post
    broken = {i for i in range(accounts) if i % 100 == 99}  # 1%: every fetch fails
    posts: list[list[datetime]] = []
    for i in range(accounts):
        t, times = start - timedelta(days=20), []
        end = NOW - timedelta(days=21) if i in silent else NOW
        while t < end:
            t += timedelta(hours=rnd.uniform(3, 60))
            if t < end:
                times.append(t)
        posts.append(times)
    # facts: each account's newest look (the due-soon list and the account page read it)
    facts_rows, facts_of = [], {}
    for i, a in enumerate(ids):
        seen = [
            {"id": f"{a}-{k}", "published_at": p.isoformat(), "title": f"通知{k}",
             "text": "内容" * 30, "url": f"https://example.org/{a}/{k}", "pinned": False}
            for k, p in enumerate(reversed(posts[i][-10:]))
        ]  # fmt: skip
        content = {"outcome": "ok", "status_code": 200, "posts": seen, "profile": {}}
        key, data = content_of(content)
        facts_of[a] = key
        facts_rows.append((key, zlib.compress(data), len(data), now))
    err_key, err_data = content_of({"outcome": "error", "status_code": 503, "posts": []})
    facts_rows.append((err_key, zlib.compress(err_data), len(err_data), now))
    con.executemany(
        "INSERT OR IGNORE INTO facts (sha256, data, size, created_at) VALUES (?, ?, ?, ?)",
        facts_rows,
    )
    sql = (
        "INSERT INTO snapshot (account_id, taken_at, node, reader, url, outcome, status_code,"
        " detail, elapsed_ms, latest_post_at, post_count, facts_hash, profile_hash,"
        " profile_changed, artifacts) VALUES (?, ?, 'bench', 'rss', '', ?, ?, '', 120, ?, ?, ?,"
        " '', 0, ?)"
    )
    artifacts = json.dumps([{"kind": "feed", "media_type": "application/rss+xml",
                             "sha256": "0" * 64, "size": 4000, "url": ""}])  # fmt: skip
    n = 0
    t = start
    while t < NOW:  # in time order, as the daemon writes them
        step = timedelta(hours=24 / per_day) if t >= dense_from else timedelta(days=1)
        rows = []
        for i, a in enumerate(ids):
            taken = t + timedelta(seconds=(i * 7) % int(step.total_seconds()))
            if taken >= NOW:
                continue
            failed = i in broken or (n // accounts + i) % 40 == 0
            k = bisect_right(posts[i], taken)
            latest = posts[i][k - 1] if k else None
            rows.append(
                (a, fmt(taken), "error" if failed else "ok", 503 if failed else 200,
                 None if failed else fmt(latest), 0 if failed else min(k, 10),
                 err_key if failed else facts_of[a], artifacts)
            )  # fmt: skip
        con.executemany(sql, rows)
        n += len(rows)
        t += step
    findings, fid = [], 0

    def finding(i: int, kind: str, sev: str, opened: datetime, **kw: Any) -> None:
        nonlocal fid
        fid += 1
        deadline = kw.get("deadline")
        resolved = kw.get("resolved")
        findings.append(
            (fid, ids[i], kind, sev, "resolved" if resolved else "open", f"{kind} {ids[i]}",
             kw.get("rule", ""), fmt(deadline), fmt(opened), fmt(resolved or opened),
             fmt(resolved))
        )  # fmt: skip

    for i in range(accounts):
        if i in silent:
            overdue = posts[i][-1] + timedelta(days=14)
            finding(i, "stale", "veto", overdue, deadline=overdue, rule="national.max_gap_days(14)")
        elif i % 33 == 5:
            due = NOW + timedelta(hours=30)
            finding(i, "stale_soon", "warning", NOW - timedelta(hours=5), deadline=due)
        if i % 50 == 7:
            opened = NOW - timedelta(days=rnd.uniform(1, 20))
            finding(i, "commercial", "high", opened, deadline=opened + timedelta(hours=72))
        if i in broken:
            finding(i, "fetch_failed", "warning", start + timedelta(days=1))
        for _ in range(2):
            opened = start + timedelta(days=rnd.uniform(0, days - 2))
            kind, sev = rnd.choice((("stale", "veto"), ("commercial", "high"),
                                    ("fetch_failed", "warning")))  # fmt: skip
            finding(i, kind, sev, opened, resolved=opened + timedelta(days=rnd.uniform(0.2, 6)))
    con.executemany(
        "INSERT INTO finding (id, account_id, kind, severity, status, title, detail, rule,"
        " deadline, evidence, opened_at, updated_at, resolved_at) VALUES"
        " (?, ?, ?, ?, ?, ?, '', ?, ?, '{}', ?, ?, ?)",
        findings,
    )
    notes = []
    for i, a in enumerate(ids):
        unit = counties[i % len(counties)]
        for k in range(2):
            at = fmt(start + timedelta(days=rnd.uniform(0, days)))
            notes.append((f"{a}-{k}", unit, at, at, "sent", at))
    for k in range(40):
        notes.append((f"wait-{k}", counties[k], now, fmt(NOW - timedelta(minutes=k)), "pending",
                      None))  # fmt: skip
    notes += [(f"held-{k}", counties[k], now, now, "held", None) for k in range(5)]
    con.executemany(
        "INSERT INTO notification (dedup_key, unit_code, channel, channel_key, kind, items,"
        " event, title, body, created_at, due_at, status, attempts, sent_at, last_error)"
        " VALUES (?, ?, '@bench', 'bench', 'finding', 1, 'opened', '', '', ?, ?, ?, 0, ?, '')",
        notes,
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return n


def server_ms(r: Any) -> float:
    m = re.search(r"app;dur=([\d.]+)", r.headers.get("server-timing", ""))
    return float(m[1]) if m else float("nan")


def measure(client: TestClient, label: str, path: str, runs: int, **kw: Any) -> None:
    times = []
    for _ in range(runs):
        r = client.get(path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        times.append(server_ms(r))
    print(f"  {label:<46} median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms")


def timed(label: str, fn: Any) -> Any:
    t0 = time.perf_counter()
    value = fn()
    print(f"  {label:<46} {(time.perf_counter() - t0) * 1000:9.1f} ms")
    return value


def login(xapp: App, name: str) -> TestClient:
    client = TestClient(create_app(xapp, clock=lambda: NOW), follow_redirects=False)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf[1]})
    assert r.status_code == 303
    return client


def bench(db: Path, accounts: int, args: argparse.Namespace) -> None:
    if not db.exists():
        t0 = time.perf_counter()
        n = generate(db, accounts, args.days, args.per_day)
        took = time.perf_counter() - t0
        print(f"generated {n:,} snapshots of {accounts:,} accounts in {took:.0f} s")
    settings = Settings(data_dir=db.parent, database={"url": f"sqlite:///{db}"})
    engine = make_engine(settings.database_url)
    t0 = time.perf_counter()
    before, after = upgrade(engine)  # a kept database made by an older revision
    engine.dispose()
    if before != after:
        print(f"schema {before} -> {after} in {time.perf_counter() - t0:.0f} s")
    xapp = App.open(settings)
    with session_scope(xapp.engine) as s:
        for name, role, unit in (("admin", "admin", None), ("sup", "supervisor", "c0"),
                                 ("duty", "duty", "c0-0")):  # fmt: skip
            if s.exec(select(User).where(User.name == name)).first() is None:
                add_user(s, name, role, unit, PASSWORD, NOW)
    print(f"\n== {accounts:,} accounts — {db} ({db.stat().st_size / 1e6:.0f} MB)")
    with Session(xapp.engine) as s:
        users: dict[str, Principal] = {}
        for name in ("admin", "sup", "duty"):
            p = principal_for(s, s.exec(select(User).where(User.name == name)).one())
            assert p is not None
            users[name] = p
        tz = settings.timezone
        print("figures the overview keeps in its background cache (computed directly):")
        for name in ("admin", "sup"):
            p = users[name]
            timed(f"pass rates, quarter so far ({name})", lambda p=p: pass_rates(s, p, xapp, NOW))
            timed(f"updates trend, 30 days ({name})", lambda p=p: updates(s, p, NOW, tz))
            horizon = due_horizon(xapp, NOW)
            timed(f"due soon ({name})", lambda p=p, h=horizon: due_soon(s, p, xapp, NOW, h))
        print("live on every request:")
        timed("open problems trend, 30 days (admin)",
              lambda: open_problems(s, users["admin"], NOW, tz))  # fmt: skip
    runs = args.runs
    for name in ("admin", "sup", "duty"):
        client = login(xapp, name)
        print(f"pages as {name} (server time, {runs} requests each):")
        client.app.state.stats = StatsCache(xapp.engine, wait_seconds=600)  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        r = client.get("/")
        print(f"  {'/ overview, first request (computes all)':<46} {server_ms(r):7.1f} ms "
              f"(wall {(time.perf_counter() - t0) * 1000:.0f} ms)")  # fmt: skip
        measure(client, "/ overview (nothing changed since)", "/", runs)
        times = []
        for k in range(runs):  # as under a running patrol: a new check before each request
            with xapp.engine.begin() as c:
                c.exec_driver_sql(
                    "INSERT INTO snapshot (account_id, taken_at, node, reader, url, outcome,"
                    " detail, elapsed_ms, post_count, facts_hash, profile_hash, profile_changed,"
                    " artifacts) VALUES ('a00001', ?, 'bench', 'rss', '', 'ok', '', 1, 0, '',"
                    " '', 0, '[]')",
                    (fmt(NOW - timedelta(seconds=k + 1)),),
                )
            times.append(server_ms(client.get("/")))
        print(f"  {'/ overview (a new check before each request)':<46} median "
              f"{statistics.median(times):7.1f} ms   max {max(times):7.1f} ms")  # fmt: skip
        for label, path in (
            ("/accounts", "/accounts"),
            ("/accounts?page=100 (by name, pinyin)", "/accounts?page=100"),
            ("/accounts?sort=unit&desc=1&page=50", "/accounts?sort=unit&desc=1&page=50"),
            ("/accounts?sort=silent (longest silent first)", "/accounts?sort=silent"),
            ("/accounts?sort=problems&page=40", "/accounts?sort=problems&page=40"),
            ("/accounts?health=failing", "/accounts?health=failing"),
            ("/accounts?q=账号123", "/accounts?q=%E8%B4%A6%E5%8F%B7123"),
            ("/findings", "/findings"),
            ("/findings?status=all&page=20", "/findings?status=all&page=20"),
            ("/findings?sort=deadline", "/findings?sort=deadline"),
            ("/findings?kind=stale&platform=weibo", "/findings?kind=stale&platform=weibo"),
            ("/findings?q=a01", "/findings?q=a01"),
        ):
            measure(client, label, path, runs)
        client.close()
    xapp.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--accounts", default="10000,20000", help="sizes, comma-separated")
    ap.add_argument("--days", type=int, default=150)
    ap.add_argument("--per-day", type=int, default=4, help="checks a day in the last 30 days")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--db", type=Path, help="database file (one size only; reused if it exists)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.accounts.split(",")]
    tmp = tempfile.TemporaryDirectory()
    for size in sizes:
        db = args.db if args.db and len(sizes) == 1 else Path(tmp.name) / f"console-{size}.db"
        bench(db, size, args)
    tmp.cleanup()


if __name__ == "__main__":
    main()
