"""A page whose bytes change on every request while it says the same (a CSRF token, a visit
counter, Weibo's follower count) is a look at the page seen before: recorded as unchanged,
referring to the earlier look, judged as reading it would judge it, its counters kept as
numbers — and read in full when its posts change, when its post counter grows (an update
the list may not show) and when fresh evidence is due (``[patrol] evidence_refresh_hours``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from sqlmodel import Session, col, select

from monitor.app import App
from monitor.config import PlatformConfig
from monitor.patrol.claims import Claims
from monitor.patrol.pipeline import check
from monitor.record.batch import CheckResult
from monitor.store.facts import snapshot_facts
from monitor.store.models import Finding, Snapshot
from tests.conftest import add_account, add_unit
from tests.localserver import LocalServer, Reply, Request
from tests.simulator import Simulator, js

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
LIST = {"item": "ul.news-list > li", "date": "span.date"}


def patrol(app: App, account: str, at: datetime) -> CheckResult:
    """One check as ``xuncha run`` makes it: claimed with its last look (and the evidence
    interval the runner passes), then released."""

    async def go() -> CheckResult:
        async with app.probing() as tools:
            claims = Claims(app.engine, app.settings.node_name, 30)
            claims.ensure_states(app.settings, at)
            due_by = at + timedelta(seconds=app.settings.patrol.jitter_seconds + 120)
            refresh = timedelta(hours=app.settings.patrol.evidence_refresh_hours)
            got = {c.account_id: c for c in claims.claim(due_by, 100, app.judged_with, refresh)}
            prev = got[account].previous
            return await check(app, tools, account, now=at, previous=prev, claimed=True)

    return anyio.run(go)


@dataclass
class NoisyList:
    """A unit's 通知公告 list with a new CSRF token and visit count on every request."""

    titles: list[tuple[str, str]]  # (title, date)
    served: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __call__(self, req: Request) -> Reply:
        n = next(self.served)
        rows = "".join(
            f'<li><a href="/tz/{i}.html">{t}</a><span class="date">{d}</span></li>'
            for i, (t, d) in enumerate(self.titles)
        )
        body = (
            f'<html><head><meta name="csrf-token" content="t{n:08x}"></head><body>'
            f'<ul class="news-list">{rows}</ul><div class="pv">访问量：{100000 + n}</div>'
            "</body></html>"
        )
        return Reply(body=body, headers={"Content-Type": "text/html; charset=utf-8"})


@pytest.fixture
def noisy() -> Iterator[tuple[LocalServer, NoisyList]]:
    page = NoisyList([("关于做好冬季防火工作的通知", "2026-11-01")])
    with LocalServer({"/tzgg/": page}) as srv:
        yield srv, page


def open_kinds(app: App, account: str) -> dict[str, tuple[int, str]]:
    with Session(app.engine) as s:
        rows = s.exec(
            select(Finding).where(Finding.account_id == account, Finding.status == "open")
        ).all()
        return {f.kind: (f.id or 0, f.title) for f in rows}


def snapshots(app: App, account: str) -> list[Snapshot]:
    with Session(app.engine) as s:
        return list(
            s.exec(
                select(Snapshot).where(Snapshot.account_id == account).order_by(col(Snapshot.id))
            ).all()
        )


def test_a_noisy_page_checked_again_is_a_look_at_the_earlier_one(
    app: App, noisy: tuple[LocalServer, NoisyList]
) -> None:
    srv, _ = noisy
    add_unit(app, "u1")
    add_account(app, "web", "u1", srv.url("/tzgg/"), platform="website", reader="webpage",
                options=LIST)  # fmt: skip
    first = patrol(app, "web", NOW)
    assert not first.observation.unchanged and first.snapshot.post_count == 1
    stale = open_kinds(app, "web")
    assert "stale" in stale  # 23 days without an update: what reading the page says
    later = patrol(app, "web", NOW + timedelta(hours=1))
    assert later.observation.unchanged  # other bytes (token, counter), the same posts
    snap = later.snapshot
    assert snap.same_as == first.snapshot.id and snap.facts_hash == first.snapshot.facts_hash
    assert snap.artifacts == first.snapshot.artifacts  # the page's evidence not stored again
    assert snap.post_count == 1 and snap.status_code == 200
    assert open_kinds(app, "web") == stale  # judged the same: the same finding, still open
    # a day later the time-dependent rules are judged again on what the page showed
    day = patrol(app, "web", NOW + timedelta(hours=20))
    assert day.observation.unchanged
    assert [s.kind for s in day.signals] == [s.kind for s in first.signals]


def test_posts_changed_under_the_same_noise_are_read_in_full(
    app: App, noisy: tuple[LocalServer, NoisyList]
) -> None:
    srv, page = noisy
    add_unit(app, "u1")
    add_account(app, "web", "u1", srv.url("/tzgg/"), platform="website", reader="webpage",
                options=LIST)  # fmt: skip
    first = patrol(app, "web", NOW)
    assert "stale" in open_kinds(app, "web")
    page.titles.insert(0, ("关于开展消防安全检查的通知", "2026-11-24"))
    reread = patrol(app, "web", NOW + timedelta(hours=1))
    assert not reread.observation.unchanged and reread.snapshot.same_as is None
    assert reread.snapshot.post_count == 2
    assert reread.snapshot.facts_hash != first.snapshot.facts_hash
    assert "stale" not in open_kinds(app, "web")  # the new post closed it


def test_fresh_evidence_is_read_in_full_at_the_configured_interval(
    app: App, noisy: tuple[LocalServer, NoisyList]
) -> None:
    srv, _ = noisy
    app.settings.patrol.evidence_refresh_hours = 6
    add_unit(app, "u1")
    add_account(app, "web", "u1", srv.url("/tzgg/"), platform="website", reader="webpage",
                options=LIST)  # fmt: skip
    first = patrol(app, "web", NOW)
    looks = [patrol(app, "web", NOW + timedelta(hours=h)) for h in (1, 5)]
    assert all(r.observation.unchanged for r in looks)
    fresh = patrol(app, "web", NOW + timedelta(hours=7))
    assert not fresh.observation.unchanged and fresh.snapshot.same_as is None
    assert fresh.snapshot.artifacts[0]["sha256"] != first.snapshot.artifacts[0]["sha256"]
    after = patrol(app, "web", NOW + timedelta(hours=8))
    assert after.observation.unchanged and after.snapshot.same_as == fresh.snapshot.id


@dataclass
class CountingWeibo(Simulator):
    """Weibo whose follower count moves on every look, as the real one's does, and whose
    post counter the test sets (the visible list stays the same three posts)."""

    statuses: int = 8765
    followers: itertools.count = field(default_factory=lambda: itertools.count(123456, 7))

    def _weibo_user(self, uid: str) -> dict[str, Any]:
        return super()._weibo_user(uid) | {"statuses_count": self.statuses}

    def weibo_info(self, req: Request) -> Reply:
        user = self._weibo_user("2000000001") | {"followers_count": next(self.followers)}
        return js({"ok": 1, "data": {"user": user}})


@pytest.fixture
def weibo(app: App) -> Iterator[CountingWeibo]:
    sim = CountingWeibo(now=NOW - timedelta(hours=1))
    with LocalServer(sim.routes()) as srv:
        app.settings.platforms["weibo"] = PlatformConfig(origins={"m": srv.base, "www": srv.base})
        add_unit(app, "u1")
        add_account(app, "wb", "u1", "", platform="weibo", reader="", handle="2000000001")
        yield sim


def test_follower_counts_are_kept_on_the_look_not_judged_as_a_change(
    app: App, weibo: CountingWeibo
) -> None:
    first = patrol(app, "wb", NOW)
    assert not first.observation.unchanged and first.observation.posts
    later = [patrol(app, "wb", NOW + timedelta(hours=h)) for h in (1, 2)]
    assert all(r.observation.unchanged for r in later)
    assert [r.snapshot.same_as for r in later] == [first.snapshot.id] * 2
    assert not any(r.snapshot.profile_changed for r in later)
    with Session(app.engine) as s:
        snaps = s.exec(select(Snapshot).order_by(col(Snapshot.id))).all()
        followers = [f["profile"]["followers"] for f in snapshot_facts(s, snaps)]
    assert followers == [123456, 123463, 123470]  # each look's own count, as read
    assert [sn.counters for sn in snaps][1:] == [
        {"followers": 123463, "posts_count": 8765},
        {"followers": 123470, "posts_count": 8765},
    ]


def test_a_post_counter_that_grew_under_noise_is_an_update(app: App, weibo: CountingWeibo) -> None:
    patrol(app, "wb", NOW)
    assert patrol(app, "wb", NOW + timedelta(hours=1)).observation.unchanged
    weibo.statuses = 8766  # posted, and the list shows the same three posts
    grown = patrol(app, "wb", NOW + timedelta(hours=2))
    assert not grown.observation.unchanged  # read in full: a counter that grew is news
    unseen = [p for p in grown.observation.posts if p.id.startswith("unseen:")]
    assert len(unseen) == 1 and unseen[0].published_at == NOW + timedelta(hours=2)
    assert "8765" in unseen[0].title and "8766" in unseen[0].title
    # the same count again: a look at the page that carries that update
    again = patrol(app, "wb", NOW + timedelta(hours=3))
    assert again.observation.unchanged and again.snapshot.same_as == grown.snapshot.id
