"""Several ``xuncha run`` nodes on one PostgreSQL, one of them killed mid-patrol (issue 9).

What a user relies on: every account is still probed, never by two nodes at once; every
alert arrives exactly once; a node can read the evidence another node wrote.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.cli import app as cli
from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
from monitor.demo.receivers import WebhookSink
from monitor.patrol.pipeline import check
from monitor.store.blobs_db import DatabaseBlobStore
from monitor.store.engine import make_engine, session_scope, upgrade
from monitor.store.facts import clear_cache
from monitor.store.history import snapshot_detail
from monitor.store.models import Snapshot, Unit
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.localfeeds import FeedFarm, node_config, populate, start_node
from tests.test_daemon import helpers_of, running, stop

# the figure, 2,000 accounts (about 100 s here); SCALEOUT_ACCOUNTS=300 for a quick run
N_ACCOUNTS = int(os.environ.get("SCALEOUT_ACCOUNTS", "2000"))


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def wait_until(pred, timeout: float, what: str, procs=()) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"a node exited with {p.returncode} while waiting: {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting: {what}")


def test_three_nodes_one_killed_mid_patrol(tmp_path: Path, pg_url: str) -> None:
    engine = make_engine(pg_url)

    def scalar(sql: str, **kw: object) -> int:
        with engine.connect() as c:
            return int(c.execute(sa.text(sql), kw).scalar() or 0)

    def column(sql: str, **kw: object) -> list:
        with engine.connect() as c:
            return [r[0] for r in c.execute(sa.text(sql), kw)]

    # the cluster does about ten accounts a second on a busy 2-core machine: intervals such
    # that each round fits, first runs spread over a quarter of the interval
    interval = max(1, math.ceil(N_ACCOUNTS / 500))
    jitter = 15 * interval
    with FeedFarm(N_ACCOUNTS, delay=0.05) as farm, WebhookSink() as sink:
        populate(pg_url, tmp_path, farm)
        sink_url = sink.url.replace("http://", "json://", 1)
        cfgs = [
            node_config(
                tmp_path / f"node{i}",
                f"node-{i}",
                pg_url,
                sink_url,
                interval_minutes=interval,
                jitter_seconds=jitter,
            )
            for i in (1, 2, 3)
        ]
        logs = [tmp_path / f"node{i}.log" for i in (1, 2, 3)]
        # node-3 only probes: the alerts jobs live in a store it does not open
        roles = [(), (), ("probe",)]
        procs = [start_node(c, log, *r) for c, log, r in zip(cfgs, logs, roles, strict=True)]
        try:
            # mid-patrol: every node busy, a good part of the accounts not yet probed
            wait_until(
                lambda: (
                    scalar("select count(distinct node) from snapshot") == 3
                    and scalar("select count(distinct account_id) from snapshot") >= N_ACCOUNTS // 4
                ),
                90 + jitter,
                "all three nodes probing",
                procs,
            )
            writers = [p for p in helpers_of(procs[2].pid) if b"spawn_main" in cmdline(p)]
            assert writers, "a node writes its checks in a process of its own"
            procs[2].send_signal(signal.SIGKILL)
            procs[2].wait(10)
            # the writer outlives its parent by the batch in hand, which it writes (those
            # checks were done: nothing is lost), then leaves (monitor/record/writer.py)
            wait_until(
                lambda: not any(running(p) for p in writers), 60, "the dead node's writer gone"
            )
            # what the victim held when it died: jobs it took and had not finished (read
            # after the kill and its writer's last batch: read before, it may finish one in
            # between, and rightly keep it)
            held = column("select account_id from account_state where claimed_by = 'node-3'")
            killed = time.time()  # the nodes' clock, which dates their snapshots (not the server's)
            assert scalar("select count(distinct account_id) from snapshot") < N_ACCOUNTS, (
                "the kill must land mid-patrol"
            )

            # the survivors take the dead node's share, its schedules and abandoned jobs
            wait_until(
                lambda: scalar("select count(distinct account_id) from snapshot") == N_ACCOUNTS,
                60 * interval + 120,
                "every account probed",
                procs[:2],
            )
            stale = N_ACCOUNTS // 2
            # each silent account's alert went out in a message, and every message was sent
            sent_items = "select count(distinct finding_id) from alert_item where status='sent'"
            wait_until(
                lambda: (
                    scalar("select count(*) from finding where status='open'") == stale
                    and scalar(sent_items) == stale
                    and scalar("select count(*) from alert_item where status='queued'") == 0
                    and scalar("select count(*) from notification") > 0
                    and scalar("select count(*) from notification where status <> 'sent'") == 0
                ),
                120,
                "every alert sent",
                procs[:2],
            )
        finally:
            codes = [stop(p) for p in procs[:2]]
            procs[2].kill()
        assert codes == [0, 0]

        # never two nodes on one account at once, seen from the platform's side
        assert farm.overlaps == []
        # the jobs the dead node held were run by the others well before their next turn
        if held:
            taken_over = scalar(
                "select count(distinct account_id) from snapshot"
                " where account_id = any(:a) and node <> 'node-3'",
                a=held,
            )
            assert taken_over == len(held)
            late = column(
                "select account_id from snapshot where account_id = any(:a)"
                " group by account_id having min(case when node <> 'node-3'"
                " then extract(epoch from taken_at) end) > :limit",
                a=held,
                limit=killed + 60 * interval,
            )
            assert late == []

        # one finding per silent account, whoever probed it (uq_finding_open held)
        assert scalar("select count(*) from finding where status='open'") == stale

        # the probe-only node never took an alerts job
        senders = column("select distinct node from delivery")
        assert senders and "node-3" not in senders

        # every notification delivered exactly once: no number twice at the sink
        numbers = [re.search(r"消息编号 #(\d+)", m.json["message"]).group(1) for m in sink.messages]
        assert [n for n, c in Counter(numbers).items() if c > 1] == []
        sent = {str(i) for i in column("select id from notification where status='sent'")}
        assert set(numbers) == sent

        # evidence written by any node is readable by any other (blobs in the database)
        store = DatabaseBlobStore(engine)
        with engine.connect() as c:
            rows = c.execute(sa.text("select node, artifacts from snapshot")).all()
        by_node = {node: arts for node, arts in rows if arts}
        assert set(by_node) == {"node-1", "node-2", "node-3"}
        for arts in by_node.values():
            assert store.get(arts[0]["sha256"]).startswith(b"<?xml")
    engine.dispose()


@pytest.mark.parametrize(
    ("role", "says"),
    [("probe", "PostgreSQL"), ("alerts", "PostgreSQL"), ("probe,mail", "未知角色 'mail'")],
)
def test_roles_a_node_cannot_serve_are_refused(tmp_path: Path, role: str, says: str) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n', encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "run", "--role", role],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert says in out.stderr


def test_db_copy_moves_a_sqlite_node_to_postgresql(tmp_path: Path, pg_url: str) -> None:
    """Every row and every evidence file moves; ids go on after the copied ones."""
    now = datetime.now(UTC)
    platform = SimulatedPlatform().start()
    try:
        sqlite_app = open_app(make_settings(tmp_path))
        # a child unit listed before its parent would break a naive copy
        add_unit(sqlite_app, "a-county", "青溪县", channels=["@duty"])
        add_unit(sqlite_app, "z-city", "黔岭市", channels=["@duty"])
        with session_scope(sqlite_app.engine) as s:
            s.get(Unit, "a-county").parent_code = "z-city"
        for i in range(3):
            age = 20 if i else 0
            feed = rss_feed(f"账号{i}", f"https://w/{i}", [Item("消息", now - timedelta(days=age))])
            platform.add(f"/f{i}.xml", feed, "application/rss+xml")
            add_account(sqlite_app, f"a{i}", "a-county", f"{platform.base_url}/f{i}.xml")

        async def probe() -> None:
            async with sqlite_app.probing() as tools:
                for i in range(3):
                    await check(sqlite_app, tools, f"a{i}")

        asyncio.run(probe())
        with Session(sqlite_app.engine) as s:
            ids = s.exec(select(Snapshot.id)).all()
            seen = {i: snapshot_detail(s, i).facts for i in ids}  # type: ignore[union-attr]
        sqlite_app.close()
    finally:
        platform.stop()

    cfg = tmp_path / "xuncha.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n', encoding="utf-8")
    runner = CliRunner()
    base = ["--config", str(cfg), "db", "copy", "--to", pg_url, "--blobs", "--json"]

    # an uninitialised target is refused, and says what to do
    r = runner.invoke(cli, base)
    assert r.exit_code == 1 and "xuncha init" in r.output

    target = make_engine(pg_url)
    upgrade(target)
    r = runner.invoke(cli, base)
    assert r.exit_code == 0, r.output
    counts = {t["table"]: (t["source"], t["target"]) for t in json.loads(r.output)["tables"]}
    assert counts["snapshot"] == (3, 3) and counts["finding"] == (2, 2)
    assert counts["unit"] == (2, 2) and counts["account"] == (3, 3)
    assert counts["facts"] == (3, 3)

    # the PostgreSQL node reads the evidence, and new rows get fresh ids
    pg_settings = make_settings(
        tmp_path / "pg", database={"url": pg_url}, blobs={"backend": "database"}
    )
    pg_app = open_app(pg_settings)
    clear_cache()  # the facts as the PostgreSQL node reads them from its own table
    with session_scope(pg_app.engine) as s:
        assert {i: snapshot_detail(s, i).facts for i in seen} == seen  # type: ignore[union-attr]
        snaps = s.exec(select(Snapshot)).all()
        for snap in snaps:
            assert pg_app.blobs.get(snap.artifacts[0]["sha256"]).startswith(b"<?xml")
        top = max(snap.id for snap in snaps)
        new = Snapshot(account_id="a0", outcome="ok")
        s.add(new)
        s.flush()
        assert new.id == top + 1
    pg_app.close()

    # a target that already holds data is refused, unchanged
    r = runner.invoke(cli, base)
    assert r.exit_code == 1 and "不是空的" in r.output
    with target.connect() as c:
        assert c.execute(sa.text("select count(*) from snapshot")).scalar() == 4
    target.dispose()


def test_two_writers_open_one_finding_per_problem(tmp_path: Path, pg_url: str) -> None:
    """Two nodes (or a node and ``xuncha check``) judging one account at the same moment."""
    now = datetime.now(UTC)
    platform = SimulatedPlatform().start()
    apps = [
        open_app(make_settings(tmp_path / n, node_name=n, database={"url": pg_url}))
        for n in ("node-1", "node-2")
    ]
    try:
        add_unit(apps[0], "u", "青溪县", channels=["@duty"])
        for i in range(8):
            feed = rss_feed(f"账号{i}", f"https://w/{i}", [Item("消息", now - timedelta(days=20))])
            platform.add(f"/f{i}.xml", feed, "application/rss+xml", delay=0.2)
            add_account(apps[0], f"a{i}", "u", f"{platform.base_url}/f{i}.xml")

        async def both() -> None:
            async with apps[0].probing() as f1, apps[1].probing() as f2:
                pairs = [(apps[0], f1), (apps[1], f2)]
                await asyncio.gather(
                    *(check(app, f, f"a{i}") for i in range(8) for app, f in pairs)
                )

        asyncio.run(both())  # no unique-index error escapes
        with apps[0].engine.connect() as c:
            per_account = c.execute(
                sa.text(
                    "select account_id, count(*) from finding where status='open'"
                    " group by account_id, kind"
                )
            ).all()
        assert len(per_account) == 8
        assert all(n == 1 for _a, n in per_account)
    finally:
        for a in apps:
            a.close()
        platform.stop()


def test_an_account_is_held_by_one_node_and_freed_when_it_dies(pg_url: str) -> None:
    from monitor.patrol.cluster import NodeLocks

    async def scenario() -> None:
        one, two = NodeLocks(pg_url), NodeLocks(pg_url)
        try:
            assert await one.acquire("probe:a1")
            assert not await one.acquire("probe:a1")  # not twice on one node either
            assert not await two.acquire("probe:a1")
            assert await two.acquire("probe:a2")  # other accounts are free
            await one.release("probe:a1")
            assert await two.acquire("probe:a1")
            await two.close()  # a clean stop hands its accounts over at once
            assert await one.acquire("probe:a1")
        finally:
            await one.close()
            await two.close()

    asyncio.run(scenario())


def test_a_killed_node_s_accounts_are_freed_within_seconds(pg_url: str) -> None:
    """SIGKILL leaves no chance to unlock: the server frees the locks when it sees the drop."""
    from monitor.patrol.cluster import NodeLocks

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import asyncio, sys, time\n"
            "from monitor.patrol.cluster import NodeLocks\n"
            "async def main():\n"
            "    locks = NodeLocks(sys.argv[1])\n"
            "    assert await locks.acquire('probe:a1')\n"
            "    print('held', flush=True)\n"
            "    time.sleep(600)\n"
            "asyncio.run(main())\n",
            pg_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"

        async def scenario() -> None:
            other = NodeLocks(pg_url)
            try:
                assert not await other.acquire("probe:a1")  # held by the live node
                holder.send_signal(signal.SIGKILL)
                holder.wait(10)
                deadline = time.monotonic() + 15
                while not await other.acquire("probe:a1"):
                    assert time.monotonic() < deadline, "a killed node's lock was never freed"
                    await asyncio.sleep(0.1)
            finally:
                await other.close()

        asyncio.run(scenario())
    finally:
        holder.kill()
        holder.wait()
