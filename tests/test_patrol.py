"""One check end to end: snapshot, findings, outbox, delivery — on real SQLite and HTTP."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from sqlmodel import Session, col, select

from monitor.alerting import dispatch_once
from monitor.app import App
from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
from monitor.demo.receivers import WebhookSink
from monitor.patrol.pipeline import check
from monitor.store.models import Delivery, Finding, FindingEvent, Notification, Snapshot
from probes.fetch import Tools
from probes.fetch.http import Fetcher
from tests.conftest import add_account, add_unit

RSS = "application/rss+xml; charset=utf-8"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai


class Clock:
    """The app's clock in these tests: checks and dispatcher read the same instant, which
    the test moves (``at``); it never depends on when the suite runs."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def at(self, when: datetime) -> None:
        with self._lock:
            self.now = when

    def advance(self, **kw: float) -> None:
        with self._lock:
            self.now += timedelta(**kw)


@pytest.fixture
def clock(app: App) -> Clock:
    c = Clock(NOW)
    app.clock = c
    return c


@pytest.fixture
def platform() -> Iterator[SimulatedPlatform]:
    p = SimulatedPlatform().start()
    yield p
    p.stop()


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as s:
        yield s


def feed(platform: SimulatedPlatform, path: str, *ages_days: float) -> None:
    items = [Item(f"第{i}条", NOW - timedelta(days=d)) for i, d in enumerate(ages_days)]
    platform.add(path, rss_feed("测试发布", "https://weibo.com/1", items), RSS)


def run_check(app: App, account: str, now: datetime = NOW):
    """A check at ``now``; the app's clock (dispatcher, reminders) moves there too."""
    if isinstance(app.clock, Clock):
        app.clock.at(now)

    async def go():
        async with Fetcher(app.http_settings()) as f:
            return await check(app, Tools(f), account, now=now)

    return anyio.run(go)


def dispatch(app: App) -> Any:
    return anyio.run(lambda: dispatch_once(app.engine, app.settings, clock=app.clock))


def flush(app: App) -> None:
    for _ in range(20):
        stats = dispatch(app)
        if not (stats.sent or stats.retried):
            return


def open_kinds(app: App, account: str) -> set[str]:
    with Session(app.engine) as s:
        rows = s.exec(
            select(Finding).where(Finding.account_id == account, Finding.status == "open")
        ).all()
        return {f.kind for f in rows}


def sink_titles(sink: WebhookSink) -> list[str]:
    return [m.json["title"] for m in sink.messages]


def test_stale_account_is_found_alerted_once_and_resolved(app, clock, platform, sink) -> None:
    add_unit(app, "u1", "青溪县人民政府办公室", channels=[sink.url.replace("http", "json", 1)])
    feed(platform, "/a.xml", 15, 20)
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml", name="青溪发布")

    r = run_check(app, "acc")
    assert r.snapshot.outcome == "ok"
    assert {s.kind for s in r.signals} == {"stale"}
    assert open_kinds(app, "acc") == {"stale"}
    flush(app)
    assert sink.wait_for(1, timeout=5)
    assert "青溪发布" in sink_titles(sink)[0]

    # seen again an hour later: the same finding, no second message
    run_check(app, "acc", NOW + timedelta(hours=1))
    flush(app)
    assert len(sink.messages) == 1
    with Session(app.engine) as s:
        f = s.exec(select(Finding)).one()
        assert f.first_snapshot_id != f.last_snapshot_id

    # the unit posts: the finding resolves and the unit is told
    feed(platform, "/a.xml", 0.1, 15)
    run_check(app, "acc", NOW + timedelta(hours=2))
    assert open_kinds(app, "acc") == set()
    flush(app)
    assert sink.wait_for(2, timeout=5)
    assert "恢复" in sink_titles(sink)[1] or "解决" in sink_titles(sink)[1]
    with Session(app.engine) as s:
        events = [e.event for e in s.exec(select(FindingEvent).order_by(col(FindingEvent.id)))]
    assert events == ["opened", "resolved"]


def test_failed_fetch_is_never_stale_and_keeps_content_findings(app, platform) -> None:
    add_unit(app, "u1")
    feed(platform, "/a.xml", 15)
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    run_check(app, "acc")
    assert open_kinds(app, "acc") == {"stale"}

    platform.add("/a.xml", b"Service Unavailable", "text/plain", status=503)
    r = run_check(app, "acc", NOW + timedelta(hours=1))
    assert r.snapshot.outcome == "error"
    assert {s.kind for s in r.signals} == {"fetch_failed"}
    # the stale finding is neither resolved nor re-judged from a failed fetch
    assert open_kinds(app, "acc") == {"stale", "fetch_failed"}

    feed(platform, "/a.xml", 15)
    run_check(app, "acc", NOW + timedelta(hours=2))
    assert open_kinds(app, "acc") == {"stale"}


def test_warning_turns_into_breach_without_a_false_recovery(app, clock, platform, sink) -> None:
    add_unit(app, "u1", channels=[sink.url.replace("http", "json", 1)])
    feed(platform, "/a.xml", 8)
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    run_check(app, "acc")
    assert open_kinds(app, "acc") == {"stale_soon"}
    flush(app)
    assert sink.wait_for(1, timeout=5)
    for day in range(1, 7):  # the dispatcher runs in the seven days between the checks
        clock.at(NOW + timedelta(days=day))
        flush(app)
    run_check(app, "acc", NOW + timedelta(days=7))
    assert open_kinds(app, "acc") == {"stale"}
    flush(app)
    assert sink.wait_for(2, timeout=5)
    titles = sink_titles(sink)
    # the warning, a daily reminder of it while nobody acknowledges, then the breach; no
    # "recovered" in between
    assert len(titles) == 8
    assert "即将超期" in titles[0] and "已 15 天未更新" in titles[-1]
    assert all("仍未整改" in t for t in titles[1:-1])
    assert not any("恢复" in t for t in titles)


def test_unchanged_page_is_stored_once(app, platform) -> None:
    add_unit(app, "u1")
    feed(platform, "/a.xml", 1)
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    run_check(app, "acc")
    run_check(app, "acc", NOW + timedelta(hours=1))
    with Session(app.engine) as s:
        snaps = s.exec(select(Snapshot)).all()
    assert len(snaps) == 2
    assert snaps[0].artifacts[0]["sha256"] == snaps[1].artifacts[0]["sha256"]
    blobs = [p for p in app.blobs.root.rglob("*.gz")]
    assert len(blobs) == 1
    assert app.blobs.get(snaps[0].artifacts[0]["sha256"]).startswith(b"<?xml")


def test_unit_without_channel_falls_back_to_its_supervisor(app, clock, platform, sink) -> None:
    add_unit(app, "city", "云岭市人民政府办公室", channels=[sink.url.replace("http", "json", 1)])
    add_unit(app, "dept", "云岭市卫健委", parent="city")
    feed(platform, "/a.xml", 20)
    add_account(app, "acc", "dept", f"{platform.base_url}/a.xml")
    run_check(app, "acc")
    flush(app)
    assert sink.wait_for(1, timeout=5)
    with Session(app.engine) as s:
        n = s.exec(select(Notification)).one()
    assert n.unit_code == "city"


def test_messenger_failure_is_retried_then_delivered_once(app, clock, platform) -> None:
    with WebhookSink(fail_first=2, fail_status=503) as sink:
        add_unit(app, "u1", channels=[sink.url.replace("http", "json", 1)])
        feed(platform, "/a.xml", 20)
        add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
        run_check(app, "acc")
        for _ in range(100):  # the retry backoff is a second or less in these tests
            dispatch(app)
            with Session(app.engine) as s:
                if s.exec(select(Notification)).one().status == "sent":
                    break
            clock.advance(seconds=1)
            threading.Event().wait(0.05)
        with Session(app.engine) as s:
            n = s.exec(select(Notification)).one()
            attempts = s.exec(select(Delivery).order_by(col(Delivery.id))).all()
        assert n.status == "sent"
        assert [d.ok for d in attempts] == [False, False, True]
        ok_posts = [m for m in sink.messages if m.status == 200]
        assert len(ok_posts) == 1


def test_bad_channel_holds_its_messages_and_says_why(app, clock, platform) -> None:
    add_unit(app, "u1", channels=["@nowhere"])
    feed(platform, "/a.xml", 20)
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    run_check(app, "acc")
    flush(app)
    with Session(app.engine) as s:
        n = s.exec(select(Notification)).one()
    assert n.status == "held"  # kept until the channel is fixed, never dropped
    assert "@nowhere" in n.last_error


def test_two_dispatchers_never_send_the_same_message(app, clock, platform, sink) -> None:
    add_unit(app, "u1", channels=[sink.url.replace("http", "json", 1)])
    for i in range(12):
        feed(platform, f"/a{i}.xml", 20)
        add_account(app, f"acc{i}", "u1", f"{platform.base_url}/a{i}.xml")
        run_check(app, f"acc{i}")

    def worker() -> None:
        for _ in range(5):
            dispatch(app)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sink.wait_for(1, timeout=10)
    bodies = [m.json["message"] for m in sink.messages]
    assert len(bodies) == len(set(bodies))  # no message twice
    # the twelve findings went out grouped, each exactly once
    told = [int(x) for b in bodies for x in re.findall(r"问题(?:编号)?\**：?\s*#(\d+)", b)]
    with Session(app.engine) as s:
        ids = sorted(f.id for f in s.exec(select(Finding)).all())
    assert sorted(told) == ids
