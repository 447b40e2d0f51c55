"""Checks per second of the whole pipeline (fetch → snapshot → findings → outbox) on SQLite.

Not a test: prints figures for the next person to compare against.

    python bench/patrol_throughput.py --accounts 300 --concurrency 1 8 16

The simulated platform answers on 127.0.0.1 with realistic feeds (20 items each); half
the accounts are stale, so findings and outbox rows are written too.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.app import App
from monitor.config import Settings
from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
from monitor.patrol.pipeline import check
from monitor.store.engine import make_engine, session_scope, upgrade
from monitor.store.models import Account, Unit
from probes.fetch import Tools
from probes.fetch.http import Fetcher


def setup(folder: Path, platform: SimulatedPlatform, n: int) -> App:
    settings = Settings(data_dir=folder, http={"per_host": 64, "max_connections": 64})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    app = App.open(settings)
    now = datetime.now(UTC)
    with session_scope(app.engine) as s:
        s.add(Unit(code="u", name="单位", channels=["json://127.0.0.1:9/x"]))
        s.flush()
        for i in range(n):
            age = 20 if i % 2 else 0
            items = [Item(f"账号{i}第{k}条", now - timedelta(days=age + k)) for k in range(20)]
            platform.add(f"/f{i}.xml", rss_feed(f"账号{i}", f"https://w/{i}", items), "text/xml")
            s.add(Account(id=f"a{i}", platform="weibo", name=f"a{i}", owner_code="u",
                          url=f"{platform.base_url}/f{i}.xml", reader="rss"))  # fmt: skip
    return app


async def patrol(app: App, n: int, concurrency: int) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int, tools: Tools) -> None:
        async with sem:
            await check(app, tools, f"a{i}")

    async with Fetcher(app.http_settings()) as fetcher:
        tools = Tools(http=fetcher)
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i, tools) for i in range(n)))
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=300)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 16])
    args = ap.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    platform = SimulatedPlatform().start()
    try:
        for c in args.concurrency:
            with tempfile.TemporaryDirectory() as tmp:
                app = setup(Path(tmp), platform, args.accounts)
                secs = asyncio.run(patrol(app, args.accounts, c))
                print(
                    f"accounts={args.accounts} concurrency={c:>3}  {secs:6.2f} s  "
                    f"{args.accounts / secs:7.1f} checks/s"
                )
                app.close()
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
