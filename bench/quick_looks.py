"""What a look that says nothing new costs the claim and the writer (issue 32), in process.

    python bench/quick_looks.py [--accounts 2000] [--rounds 3] [--db postgresql+psycopg://…]

Builds ``--accounts`` web-page accounts, each read once in full (100 dated posts, the newest
two days old: the time rules silent for days), then, ``--rounds`` times: claims them all
(batches of 64, as the runner does) and writes an unchanged look (a 304) of each through
``write_batch`` in batches of 64 — once with the quick path (``monitor.record.quick``), once
with every look judged as before it. Prints CPU (process time) per look for the claim and
for each write path; the claim is also timed returning the posts' digest, as it did.
Figures only; nothing here is asserted. CPU, not wall time: the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.patrol.claims import Claims
from monitor.record import batch
from monitor.record.batch import Record, write_batch
from monitor.store.engine import session_scope
from monitor.store.models import Account, AccountState, Unit
from probes.model import Observation, Outcome, Post, Sight
from tests.conftest import make_settings, open_app

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
BATCH = 64


def cpu(fn: Callable[[], Any]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--db", default="", help="database URL (default: SQLite in a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        over: dict[str, Any] = {"patrol": {"writer": "thread"}}
        if args.db:
            over["database"] = {"url": args.db}
        app = open_app(make_settings(Path(tmp), **over))
        ids = [f"w{i}" for i in range(args.accounts)]
        with session_scope(app.engine) as s:
            s.add(Unit(code="u", name="某某县人民政府办公室"))
        with session_scope(app.engine) as s:
            for a in ids:
                url = f"http://127.0.0.2/p{a}.html"
                s.add(Account(id=a, owner_code="u", platform="website", name=a, url=url))
        claims = Claims(app.engine, "bench", 300)
        claims.ensure_states(app.settings, NOW)
        accounts = {}
        with session_scope(app.engine) as s:
            for acc in s.exec(sa.select(Account)).scalars():
                accounts[acc.id] = acc
            s.expunge_all()
        posts = [
            Post(f"n{k}", NOW - timedelta(days=2, hours=k), title=f"新闻 {k}", url=f"/n/{k}")
            for k in range(100)
        ]
        full = [
            Record(
                accounts[a],
                Observation(
                    a,
                    "webpage",
                    accounts[a].url,
                    NOW,
                    Outcome.ok,
                    200,
                    posts=list(posts),
                    body_sha256=f"{i:064x}",
                    sight=Sight.posts,
                    etag='"v1"',
                ),
                NOW,
            )
            for i, a in enumerate(ids)
        ]
        for k in range(0, len(full), BATCH):
            write_batch(app, full[k : k + BATCH])
        t = AccountState.__table__  # type: ignore[attr-defined]
        figures: dict[str, list[float]] = {
            "claim": [],
            "claim+digest": [],
            "quick": [],
            "judged": [],
        }
        quick = batch._quick
        for r in range(args.rounds):
            for path in ("quick", "judged"):
                at = NOW + timedelta(hours=1 + r, minutes=1 if path == "judged" else 0)
                with app.engine.begin() as c:
                    c.execute(sa.update(t).values(due_at=at, claimed_by=None))
                got: list[Any] = []

                def claim_all(at: datetime = at, got: list[Any] = got) -> None:
                    while more := claims.claim(at, BATCH, app.judged_with):
                        got.extend(more)

                figures["claim"].append(cpu(claim_all) / len(ids))
                with app.engine.begin() as c:  # what the claim decoded before: the digests
                    figures["claim+digest"].append(
                        figures["claim"][-1]
                        + cpu(lambda c=c: c.execute(sa.select(t.c.rules_digest)).all()) / len(ids)
                    )
                looks = [
                    Record(
                        c.account,
                        Observation(
                            c.account_id,
                            "webpage",
                            c.account.url,
                            at,
                            Outcome.ok,
                            304,
                            unchanged=True,
                            etag='"v1"',
                        ),
                        at,
                        at + timedelta(hours=1),
                        "bench",
                        c.last,
                    )
                    for c in got
                ]
                batch._quick = quick if path == "quick" else (lambda *a: set())  # type: ignore[assignment]

                def write_all(looks: list[Record] = looks) -> None:
                    for k in range(0, len(looks), BATCH):
                        outcomes, _ = write_batch(app, looks[k : k + BATCH])
                        bad = [o for o in outcomes if isinstance(o, BaseException)]
                        assert not bad, bad[:1]

                figures[path].append(cpu(write_all) / len(looks))
        batch._quick = quick  # type: ignore[assignment]
        app.close()
    db = args.db.split("@")[-1] if args.db else "SQLite"
    print(f"{args.accounts} accounts, {args.rounds} rounds, {db}; CPU ms per look (median):")
    for name, values in figures.items():
        print(f"  {name:14} {statistics.median(values) * 1000:6.3f}")


if __name__ == "__main__":
    main()
