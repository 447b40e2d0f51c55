"""Alerting at province scale: how long the dispatcher's stages take (SQLite or PostgreSQL).

    python bench/alerting.py [--findings 10000] [--units 200] [--db postgresql+psycopg://…]

Builds units (a province, cities, counties), one account and one open finding per account,
then times, on a simulated clock:
- the reminder/escalation scan when nothing is due (what runs every minute all day),
- the same scan when every finding is due at once (the daily repeat),
- grouping every queued item into messages and delivering them to a local webhook sink.
Figures only; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
from sqlmodel import Session, col, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.alerting import compose, deliver, timers
from monitor.alerting.deliver import DispatchStats
from monitor.alerting.settings import AlertingSettings
from monitor.demo.receivers import WebhookSink
from monitor.store.models import Account, AlertItem, Finding, Notification, Unit
from tests.conftest import make_settings, open_app


def build(app, n_findings: int, n_units: int, sink_url: str, now: datetime) -> None:
    with Session(app.engine) as s:
        s.add(Unit(code="p", name="省政府办公厅", channels=[sink_url + "/p"]))
        cities = max(1, n_units // 10)
        for c in range(cities):
            s.add(
                Unit(code=f"c{c}", name=f"市{c}", parent_code="p", channels=[sink_url + f"/c{c}"])
            )
        s.flush()
        for u in range(n_units):
            s.add(
                Unit(
                    code=f"u{u}",
                    name=f"县{u}",
                    parent_code=f"c{u % cities}",
                    channels=[sink_url + f"/u{u}"],
                )
            )
        s.flush()
        for i in range(n_findings):
            s.add(
                Account(id=f"a{i}", platform="weibo", name=f"账号{i}", owner_code=f"u{i % n_units}")
            )
        s.flush()
        opened = now - timedelta(hours=2)
        for i in range(n_findings):
            s.add(
                Finding(
                    account_id=f"a{i}",
                    kind="stale",
                    severity="warning",
                    title="已 15 天未更新",
                    opened_at=opened,
                    updated_at=opened,
                    notified_at=opened,
                )
            )
        s.commit()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--db", default="")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="xuncha-bench-alerting-"))
    now = datetime.now(UTC)
    with WebhookSink() as sink:
        url = sink.url.replace("http://", "json://", 1)
        alerts = {
            "group_wait_seconds": 0,
            "repeat_minutes": 60 * 24,
            "escalate_after_minutes": 60 * 24,
            "escalate_immediately": [],
            "rate_limits": {},
        }
        db = {"url": args.db} if args.db else {}
        app = open_app(make_settings(tmp, database=db, alerts=alerts))
        settings = AlertingSettings.of(app.settings)
        t = time.perf_counter()
        build(app, args.findings, args.units, url, now)
        print(
            f"built {args.findings} findings over {args.units} units "
            f"in {time.perf_counter() - t:.1f} s"
        )

        t = time.perf_counter()
        r = timers.scan(app.engine, settings, now)
        print(f"scan, nothing due:        {time.perf_counter() - t:7.3f} s  {r}")

        later = now + timedelta(days=1)
        t = time.perf_counter()
        r = timers.scan(app.engine, settings, later)
        print(
            f"scan, every finding due:  {time.perf_counter() - t:7.3f} s  "
            f"(reminders, escalations) = {r}"
        )

        t = time.perf_counter()
        written = compose.compose(app.engine, settings, later)
        print(f"compose into messages:    {time.perf_counter() - t:7.3f} s  {written} messages")

        stats = DispatchStats()
        t = time.perf_counter()
        while True:
            with Session(app.engine) as s:
                left = s.exec(
                    select(func.count())
                    .select_from(Notification)
                    .where(col(Notification.status) != "sent")
                ).one()
            if not left:
                break
            anyio.run(
                lambda: deliver.send_due(app.engine, settings, lambda: later, stats, concurrency=8)
            )
        took = time.perf_counter() - t
        print(
            f"deliver:                  {took:7.3f} s  "
            f"{stats.sent} sent ({stats.sent / took:.0f}/s)"
        )
        with Session(app.engine) as s:
            items = s.exec(select(func.count()).select_from(AlertItem)).one()
        print(f"items {items}, messages at the sink {len(sink.delivered)}")
        app.close()


if __name__ == "__main__":
    main()
