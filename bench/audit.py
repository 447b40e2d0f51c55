"""What the audit log costs: appending (one writer, and many at once) and verifying the chain.

Not a test: prints figures. Each append is one transaction that locks the chain's head, so
appends are serialised across every node; ``verify`` reads every row once and re-hashes it
(SM3 where OpenSSL offers it).

    python bench/audit.py                         # SQLite in a temp dir, 20,000 rows
    python bench/audit.py --rows 100000 --threads 16
    python bench/audit.py --db-url postgresql+psycopg://postgres@127.0.0.1/xuncha_bench
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from monitor.store import audit  # noqa: E402
from monitor.store.engine import make_engine, session_scope, upgrade  # noqa: E402

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db-url", help="an empty database (default: SQLite in a temp dir)")
    ap.add_argument("--rows", type=int, default=20_000, help="rows appended one by one")
    ap.add_argument("--threads", type=int, default=8, help="writers at once, for the burst")
    ap.add_argument("--burst", type=int, default=2_000, help="rows the threads append in all")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="xuncha-audit-bench-")
    url = args.db_url or f"sqlite:///{tmp}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # quiet
    who = audit.Actor("bench", "cli", "127.0.0.1")
    print(f"database {engine.dialect.name}, chain algorithm {audit.chain_algo()}")

    started = time.perf_counter()
    for i in range(args.rows):
        with session_scope(engine) as s:
            audit.record(s, who, "login", NOW, target=f"user{i % 50}", detail={"reason": "x"})
    took = time.perf_counter() - started
    print(f"append, one writer: {args.rows} rows in {took:.1f} s "
          f"({args.rows / took:.0f} rows/s, {took / args.rows * 1000:.2f} ms each)")  # fmt: skip

    per = args.burst // args.threads

    def writer() -> None:
        for _ in range(per):
            with session_scope(engine) as s:
                audit.record(s, who, "ack", NOW, target="问题 #1")

    threads = [threading.Thread(target=writer) for _ in range(args.threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    n = per * args.threads
    print(f"append, {args.threads} writers at once: {n} rows in {took:.1f} s "
          f"({n / took:.0f} rows/s)")  # fmt: skip

    started = time.perf_counter()
    with Session(engine) as s:
        v = audit.verify(s)
    took = time.perf_counter() - started
    print(f"verify: {v.rows} rows in {took:.1f} s ({v.rows / took:.0f} rows/s), "
          f"intact={v.intact}")  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
