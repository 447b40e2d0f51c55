"""Accounts probed per second with 1, 2 and 3 ``xuncha run`` nodes on one PostgreSQL.

Not a test: prints figures. Every run gets a fresh database on the PostgreSQL on
127.0.0.1:5432 and a local feed server with ``--accounts`` cheap RSS feeds; every
account is due at once (no jitter), so the nodes work through a backlog and the rate
between 10 % and 90 % done is the steady throughput. With ``--kill`` the last node is
SIGKILLed at 30 % done and the bench reports how long the accounts it was holding took
to be probed by the others (the lag a node's death adds; about the lease).

    python bench/nodes.py --accounts 2000 --nodes 1 2 3 --kill
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.localfeeds import FeedFarm, node_config, populate, start_node

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_db() -> str:
    name = f"xuncha_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_db(url: str) -> None:
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def one_run(n_nodes: int, accounts: int, concurrency: int, lease: float, kill: bool) -> dict:
    url = fresh_db()
    engine = sa.create_engine(url)

    def scalar(sql: str, **kw: object) -> int:
        with engine.connect() as c:
            return int(c.execute(sa.text(sql), kw).scalar() or 0)

    out: dict = {"nodes": n_nodes}
    with tempfile.TemporaryDirectory() as tmp, FeedFarm(accounts) as farm:
        folder = Path(tmp)
        populate(url, folder, farm)
        procs = []
        for i in range(1, n_nodes + 1):
            cfg = node_config(
                folder / f"node{i}",
                f"node-{i}",
                url,
                "json://127.0.0.1:9/none",
                interval_minutes=60,
                jitter_seconds=0,
                concurrency=concurrency,
                lease_seconds=lease,
            )
            procs.append(start_node(cfg, folder / f"node{i}.log"))
        try:
            t0 = time.monotonic()
            marks: dict[float, float] = {}
            killed_at = None
            held: list[str] = []
            done_probe = "select count(distinct account_id) from snapshot"
            while True:
                done = scalar(done_probe)
                now = time.monotonic()
                for frac in (0.1, 0.9):
                    if frac not in marks and done >= frac * accounts:
                        marks[frac] = now
                if kill and n_nodes > 1 and killed_at is None and done >= 0.3 * accounts:
                    victim = f"node-{n_nodes}/probe"
                    with engine.connect() as c:
                        held = [
                            r[0].removeprefix("probe:")
                            for r in c.execute(
                                sa.text(
                                    "select schedule_id from xuncha_probe.jobs"
                                    " where acquired_by = :v"
                                ),
                                {"v": victim},
                            )
                        ]
                    procs[-1].send_signal(signal.SIGKILL)
                    procs[-1].wait(10)
                    killed_at = now
                    kill_wall = scalar("select extract(epoch from now()) * 1000")
                if done >= accounts:
                    break
                if now - t0 > 900:
                    raise SystemExit(f"{n_nodes} nodes: only {done}/{accounts} after 900 s")
                time.sleep(0.25)
            out["startup_s"] = round(min(marks.values()) - t0, 1)
            out["rate"] = round(0.8 * accounts / (marks[0.9] - marks[0.1]), 1)
            if killed_at is not None and held:
                with engine.connect() as c:
                    last = c.execute(
                        sa.text(
                            "select max(extract(epoch from t) * 1000) from ("
                            " select min(taken_at) t from snapshot where account_id = any(:a)"
                            " and node <> :v group by account_id) x"
                        ),
                        {"a": held, "v": f"node-{n_nodes}"},
                    ).scalar()
                out["held_by_dead"] = len(held)
                out["takeover_lag_s"] = round((float(last) - kill_wall) / 1000, 1)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(30)
                except Exception:
                    p.kill()
    engine.dispose()
    drop_db(url)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--concurrency", type=int, default=8, help="max_concurrency per node")
    ap.add_argument("--lease", type=float, default=10.0, help="[cluster] lease_seconds")
    ap.add_argument("--kill", action="store_true", help="then SIGKILL the last node at 30 %%")
    ap.add_argument("--kill-only", action="store_true", help="only the --kill run")
    a = ap.parse_args()
    print(f"{a.accounts} RSS accounts, max_concurrency {a.concurrency}/node, lease {a.lease} s")
    for n in [] if a.kill_only else a.nodes:
        r = one_run(n, a.accounts, a.concurrency, a.lease, kill=False)
        print(
            f"{n} node(s): {r['rate']:7.1f} accounts/s"
            f"  (first snapshot {r['startup_s']} s after the nodes were started)",
            flush=True,
        )
    if a.kill or a.kill_only:
        n = max(a.nodes)
        r = one_run(n, a.accounts, a.concurrency, a.lease, kill=True)
        print(
            f"{n} node(s), the last SIGKILLed at 30 %: it held {r.get('held_by_dead', 0)} "
            f"accounts; the last of them was probed by another node "
            f"{r.get('takeover_lag_s', '-')} s after the kill (lease {a.lease} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
