"""What the writer keeps of sight: the snapshot says what was seen, a counted update is carried.

Through the real recorder and database (SQLite and the local PostgreSQL): a withheld list is
written as ``unreadable`` and opens a patrol problem, never a stale finding; a counter that grew
while no new post showed is kept in the facts, so the next looks count it too, until the
account has been silent past the rule from that update on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
from sqlmodel import Session, col, select

from monitor.app import App
from monitor.record.batch import Record
from monitor.store.facts import load_facts
from monitor.store.models import Account, Finding, Snapshot
from probes.model import Observation, Outcome, Post, Profile, Sight
from probes.sight import UNSEEN
from tests.conftest import add_account, add_unit

START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
OLD = Post(id="7301", published_at=START - timedelta(days=2), title="旧作品")


def record(app: App, at: datetime, posts: list[Post], count: int | None, **kw: object) -> None:
    with Session(app.engine) as s:
        account = s.get(Account, "dy1")
        assert account is not None
        s.expunge(account)
    obs = Observation(
        "dy1", "douyin", "https://www.douyin.com/user/MS4w", at, Outcome.ok,
        posts=[Post(p.id, p.published_at, title=p.title) for p in posts],
        profile=Profile(name="某县融媒", posts_count=count), **kw,  # type: ignore[arg-type]
    )  # fmt: skip

    async def go() -> None:
        await app.recorder.record(Record(account, obs, at))

    anyio.run(go)


def register(app: App) -> None:
    add_unit(app, "qx", "青溪县融媒体中心")
    url = "https://www.douyin.com/user/MS4w"
    add_account(app, "dy1", "qx", url, platform="douyin", name="某县融媒")


def open_kinds(app: App) -> list[str]:
    with Session(app.engine) as s:
        rows = s.exec(select(Finding).where(col(Finding.status) == "open")).all()
        return sorted(f.kind for f in rows)


def newest(app: App) -> Snapshot:
    with Session(app.engine) as s:
        snap = s.exec(select(Snapshot).order_by(col(Snapshot.id).desc())).first()
        assert snap is not None
        return snap


def test_a_withheld_list_is_written_as_unreadable_and_accuses_nobody(app: App) -> None:
    register(app)
    record(app, START, [], 1288)
    snap = newest(app)
    assert snap.outcome == "unreadable" and snap.sight is None
    assert "1288 条内容" in snap.detail
    assert open_kinds(app) == ["unreadable"]


def test_honest_twin_the_platforms_own_empty_word_is_a_veto(app: App) -> None:
    register(app)
    record(app, START, [], 0, sight=Sight.none)
    snap = newest(app)
    assert snap.outcome == "ok" and snap.sight == "none"
    with Session(app.engine) as s:
        stale = s.exec(select(Finding).where(col(Finding.kind) == "stale")).one()
    assert stale.severity == "veto"


def test_a_counted_update_is_carried_by_the_facts_until_it_is_old(app: App) -> None:
    register(app)
    record(app, START, [OLD], 40)
    assert newest(app).sight == "posts" and "stale" not in open_kinds(app)
    grown = START + timedelta(days=10)
    record(app, grown, [OLD], 41)  # the counter grew; the list still shows the old post
    snap = newest(app)
    assert snap.latest_post_at == grown
    with Session(app.engine) as s:
        ids = [p["id"] for p in load_facts(s, [snap.facts_hash])[snap.facts_hash]["posts"]]
    assert ids == ["7301", f"{UNSEEN}41"]
    assert "stale" not in open_kinds(app)  # 12 days after the visible post: no veto
    # the counter no longer grows: the counted update is carried, so day 16 is no veto
    record(app, START + timedelta(days=16), [OLD], 41)
    assert "stale" not in open_kinds(app)
    assert newest(app).latest_post_at == grown
    # 14 days after the counted update, nothing newer: now it is silent past the rule
    record(app, grown + timedelta(days=14, hours=1), [OLD], 41)
    assert "stale" in open_kinds(app)
