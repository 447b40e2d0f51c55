"""The quarterly report over 10,000 accounts and a quarter of daily snapshots, on SQLite.

Not a test: prints figures. Goal (issue 7): ``build_report`` under 30 s for 10,000 accounts x
~90 snapshots (900k rows), plus the previous quarter it compares with.

    python bench/report.py                          # 10,000 accounts, 2026Q3 + 2026Q2
    python bench/report.py --accounts 2000 --days 90 --previous-days 0
    python bench/report.py --db /tmp/report.db     # keep (and reuse) the generated database

Shape: a province, 10 cities, 100 counties; accounts spread over counties and five
platforms; one snapshot a day per account (every 15th fails to fetch); most accounts post
every 2-3 days, 8% stop posting for three weeks mid-quarter (single veto), 1% are never
fetched successfully; 5% have an ad finding (deduction), 0.5% a veto finding.
Rows are written with the driver's ``executemany`` in SQLAlchemy's SQLite datetime format.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from monitor.config import Settings  # noqa: E402
from monitor.report import Period, build_report  # noqa: E402
from monitor.report.write import docx_bytes, render_html, write_csv, write_xlsx  # noqa: E402
from monitor.store.engine import make_engine, upgrade  # noqa: E402
from monitor.store.models import Snapshot  # noqa: E402

PLATFORMS = ("weibo", "wechat", "douyin", "toutiao", "website")


def fmt(dt: datetime) -> str:
    """SQLAlchemy's SQLite DateTime storage format (naive UTC)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(db: Path, accounts: int, period: Period, days: int, previous_days: int) -> int:
    rnd = random.Random(7)
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = fmt(datetime.now(UTC))
    units = [("gz", "贵州省", None, "省")]
    units += [(f"c{c}", f"第{c}市", "gz", "市") for c in range(10)]
    units += [(f"c{c}-{k}", f"第{c}市第{k}县", f"c{c}", "县") for c in range(10) for k in range(10)]
    con.executemany(
        "INSERT INTO unit (code, name, parent_code, level, region, channels, updated_at) "
        "VALUES (?, ?, ?, ?, '贵州省', '[]', ?)",
        [(*u, now) for u in units],
    )
    counties = [u[0] for u in units if u[3] == "县"]
    ids = [f"a{i:05d}" for i in range(accounts)]
    con.executemany(
        "INSERT INTO account (id, platform, name, handle, url, reader, owner_code, kind, ruleset,"
        " status, operator, is_lead, options, updated_at) VALUES"
        " (?, ?, ?, '', '', 'rss', ?, 'publish', '', 'active', '', 0, '{}', ?)",
        [
            (a, PLATFORMS[i % 5], f"账号{i}", counties[i % len(counties)], now)
            for i, a in enumerate(ids)
        ],
    )
    start = period.start - timedelta(days=previous_days)
    total_days = previous_days + days
    sql = (
        "INSERT INTO snapshot (account_id, taken_at, node, reader, url, outcome, status_code,"
        " detail, elapsed_ms, latest_post_at, post_count, sight, facts_hash, artifacts)"
        " VALUES (?, ?, 'bench', 'rss', '', ?, 200, '', 120, ?, ?, ?, ?, '[]')"
    )
    # day by day, all accounts each day: rows lie in the table in time order, as the daemon
    # writes them (an account's snapshots are scattered, not adjacent)
    n = 0
    gap_from = [rnd.randrange(total_days) if i % 12 == 0 else None for i in range(accounts)]
    latest = [start - timedelta(days=1)] * accounts
    for d in range(total_days):
        rows = []
        for i, a in enumerate(ids):
            taken = start + timedelta(days=d, hours=2, minutes=i % 60)
            g = gap_from[i]
            silent = g is not None and g <= d < g + 21  # 8%: three weeks silent
            if not silent and rnd.random() < 0.45:
                latest[i] = taken - timedelta(hours=rnd.randrange(1, 12))
            failed = i % 100 == 99 or d % 15 == i % 15  # 1% never fetched
            lp = None if failed else fmt(latest[i])
            outcome = "error" if failed else "ok"  # the report reads no facts: none stored
            sight = None if failed else "posts"
            rows.append((a, fmt(taken), outcome, lp, 0 if failed else 1, sight, f"{a}{d}"))
        con.executemany(sql, rows)
        n += len(rows)
    fid = 0
    findings, events = [], []
    for i, a in enumerate(ids):
        for kind, severity, share in (("commercial", "high", 20), ("theft", "veto", 200)):
            if i % share == 7:
                fid += 1
                opened = fmt(period.start + timedelta(days=rnd.randrange(days)))
                findings.append((fid, a, kind, severity, opened))
                events.append((fid, opened, json.dumps({"severity": severity})))
    con.executemany(
        "INSERT INTO finding (id, account_id, kind, severity, status, title, detail, rule,"
        " evidence, opened_at, updated_at) VALUES (?, ?, ?, ?, 'open', '', '', '', '{}', ?, ?)",
        [(*f, f[4]) for f in findings],
    )
    con.executemany(
        "INSERT INTO findingevent (finding_id, at, event, detail) VALUES (?, ?, 'opened', ?)",
        events,
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--period", default="2026Q3")
    ap.add_argument("--days", type=int, default=90, help="snapshot days inside the period")
    ap.add_argument("--previous-days", type=int, default=90, help="days of the period before")
    ap.add_argument("--db", type=Path, help="database file (reused if it exists)")
    args = ap.parse_args()
    period = Period.parse(args.period)
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "report.db"
    if not db.exists():
        t0 = time.perf_counter()
        n = generate(db, args.accounts, period, args.days, args.previous_days)
        took = time.perf_counter() - t0
        print(f"generated {n:,} snapshots for {args.accounts:,} accounts in {took:.1f} s")
    settings = Settings(data_dir=db.parent, database={"url": f"sqlite:///{db}"})
    engine = make_engine(settings.database_url)
    with Session(engine) as s:
        from sqlalchemy import func, select

        rows = s.scalar(select(func.count()).select_from(Snapshot)) or 0
        print(f"database: {db} ({db.stat().st_size / 1e6:.0f} MB, {rows:,} snapshots)")
        t0 = time.perf_counter()
        report = build_report(s, settings, period, None)
        took = time.perf_counter() - t0
        t = report.totals
        print(
            f"build_report({period}) all units: {took:.2f} s  (goal < 30 s) — accounts "
            f"{t.accounts:,}, checked {t.checked:,}, unjudged {t.unjudged:,}, unqualified "
            f"{t.unqualified:,}, pass rate "
            f"{(t.pass_rate or 0) * 100:.2f}%, vetoes {len(report.vetoes):,}, deductions "
            f"{len(report.deductions):,}; previous {report.previous.accounts:,} accounts"
        )
        t0 = time.perf_counter()
        city = build_report(s, settings, period, "c3")
        print(
            f"build_report({period}) one city: {time.perf_counter() - t0:.2f} s "
            f"({city.totals.accounts:,} accounts)"
        )
    for name, fn in (
        ("xlsx", lambda: write_xlsx(report, io.BytesIO())),
        ("docx", lambda: docx_bytes(report)),
        ("html", lambda: render_html(report)),
        ("csv", lambda: write_csv(report, io.BytesIO())),
    ):
        t0 = time.perf_counter()
        fn()
        print(f"write {name}: {time.perf_counter() - t0:.2f} s")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
