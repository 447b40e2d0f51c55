"""A page that did not change since the last look: answered 304 or with the same bytes, it
is not parsed or judged again, its snapshot refers to the earlier one instead of a copy —
and yet the findings are exactly what reading it in full would have given, day by day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from sqlalchemy import event
from sqlmodel import Session, col, func, select

from monitor.app import App
from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
from monitor.patrol.claims import Claims
from monitor.patrol.pipeline import check
from monitor.record.batch import CheckResult
from monitor.store.models import AccountState, Finding, Snapshot
from tests.conftest import add_account, add_unit

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
RSS = "application/rss+xml; charset=utf-8"


@pytest.fixture
def platform() -> Iterator[SimulatedPlatform]:
    p = SimulatedPlatform().start()
    yield p
    p.stop()


def feed(platform: SimulatedPlatform, path: str, items: list[Item], etag: str = "") -> None:
    platform.add(path, rss_feed("测试发布", "https://weibo.com/1", items), RSS, etag=etag)


def patrol(app: App, account: str, at: datetime, *, as_patrol: bool = True) -> CheckResult:
    """One check as ``xuncha run`` makes it: claimed (with the last look) and released."""

    async def go() -> CheckResult:
        async with app.probing() as tools:
            if not as_patrol:
                return await check(app, tools, account, now=at)
            claims = Claims(app.engine, app.settings.node_name, 30)
            claims.ensure_states(app.settings, at)
            # due by then: a first due time is within the jitter window, the next one an
            # interval (plus a minute at most) after a check
            due_by = at + timedelta(seconds=app.settings.patrol.jitter_seconds + 120)
            refresh = timedelta(hours=app.settings.patrol.evidence_refresh_hours)  # as the runner
            got = {c.account_id: c for c in claims.claim(due_by, 100, app.judged_with, refresh)}
            claim = got[account]
            return await check(
                app, tools, account, now=at, previous=claim.previous, claimed=True,
                account=claim.account, last=claim.last,
            )  # fmt: skip

    return anyio.run(go)


def count(app: App, table: str) -> int:
    with app.engine.connect() as c:
        from sqlalchemy import text

        return int(c.execute(text(f"select count(*) from {table}")).scalar_one())


def open_findings(app: App, account: str) -> dict[str, Finding]:
    with Session(app.engine) as s:
        rows = s.exec(
            select(Finding).where(Finding.account_id == account, Finding.status == "open")
        ).all()
        return {f.kind: f for f in rows}


def test_the_same_bytes_are_not_read_again(app: App, platform: SimulatedPlatform) -> None:
    add_unit(app, "u1")
    feed(platform, "/a.xml", [Item("今日要闻", NOW - timedelta(hours=3))])
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    first = patrol(app, "acc", NOW)
    assert not first.observation.unchanged and first.snapshot.post_count == 1
    later = [patrol(app, "acc", NOW + timedelta(hours=h)) for h in (1, 2, 3)]
    assert all(r.observation.unchanged for r in later)
    with Session(app.engine) as s:
        snaps = s.exec(select(Snapshot).order_by(col(Snapshot.id))).all()
    assert len(snaps) == 4
    for snap in snaps[1:]:  # when, what came back: its own; the page: the first one's
        assert snap.same_as == snaps[0].id
        assert snap.facts_hash == snaps[0].facts_hash
        assert snap.artifacts == snaps[0].artifacts
        assert snap.status_code == 200 and snap.outcome == "ok" and snap.post_count == 1
    assert [s.taken_at for s in snaps] == sorted(s.taken_at for s in snaps)
    assert count(app, "facts") == 1  # one copy of what was seen
    assert len(list(app.blobs.root.rglob("*.gz"))) == 1


def test_a_claimed_check_reads_neither_its_account_nor_its_state_again(
    app: App, platform: SimulatedPlatform
) -> None:
    """The claim returns the account's state and reads its registry row in its own
    transaction: from there to the recorded look, neither is read again (issue 28's hops)."""
    add_unit(app, "u1")
    feed(platform, "/a.xml", [Item("今日要闻", NOW - timedelta(hours=3))])
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    patrol(app, "acc", NOW)
    selects: list[str] = []

    def seen(conn, cursor, statement: str, *args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(" ".join(statement.split()))

    event.listen(app.engine, "before_cursor_execute", seen)
    try:
        again = patrol(app, "acc", NOW + timedelta(hours=1))
    finally:
        event.remove(app.engine, "before_cursor_execute", seen)
    assert again.observation.unchanged and again.snapshot.same_as is not None
    claims = [q for q in selects if "FROM account WHERE account.id IN" in q]
    assert len(claims) == 1, selects  # the claim's own read of the registry row
    assert not [q for q in selects if "FROM account_state" in q and "count" not in q], selects


def test_a_304_answer_is_an_unchanged_page(app: App, platform: SimulatedPlatform) -> None:
    add_unit(app, "u1")
    feed(platform, "/a.xml", [Item("今日要闻", NOW - timedelta(hours=3))], etag='"v1"')
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    patrol(app, "acc", NOW)
    again = patrol(app, "acc", NOW + timedelta(hours=1))
    assert platform.not_modified == 1
    assert again.observation.unchanged and again.snapshot.status_code == 304
    assert again.snapshot.same_as is not None
    with Session(app.engine) as s:
        state = s.get(AccountState, "acc")
        assert state is not None and state.etag == '"v1"'


def test_an_unchanged_page_is_judged_as_reading_it_would_judge_it(
    app: App, platform: SimulatedPlatform
) -> None:
    """Two accounts on the same feed, one read in full every day and one patrolled (its page
    found unchanged): over three weeks their findings — kinds, severities, titles,
    deadlines — are the same every day, the warning at day 7 and the veto at day 14
    included, though the patrolled account's page was read once."""
    add_unit(app, "u1")
    feed(platform, "/a.xml", [Item("最后一条", NOW - timedelta(days=2))])
    add_account(app, "full", "u1", f"{platform.base_url}/a.xml")
    add_account(app, "fast", "u1", f"{platform.base_url}/a.xml")
    kinds_seen = set()
    for day in range(21):
        at = NOW + timedelta(days=day, minutes=day * 7)
        patrol(app, "full", at, as_patrol=False)
        r = patrol(app, "fast", at)
        assert r.observation.unchanged == (day > 0)
        full, fast = open_findings(app, "full"), open_findings(app, "fast")
        shape = {k: (f.severity, f.title, f.deadline, f.detail) for k, f in full.items()}
        assert {k: (f.severity, f.title, f.deadline, f.detail) for k, f in fast.items()} == shape
        kinds_seen |= set(full)
    assert kinds_seen == {"stale_soon", "stale"}
    with Session(app.engine) as s:
        fast_facts = s.exec(
            select(func.count(func.distinct(Snapshot.facts_hash))).where(
                Snapshot.account_id == "fast"
            )
        ).one()
    assert fast_facts == 1


def test_what_was_not_judged_again_stays_as_the_page_showed_it(
    app: App, platform: SimulatedPlatform
) -> None:
    add_unit(app, "u1")
    ad = Item("限时秒杀，点击领券 https://s.click.taobao.com/abc", NOW - timedelta(hours=1))
    feed(platform, "/a.xml", [ad])
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    patrol(app, "acc", NOW)
    assert "commercial" in open_findings(app, "acc")
    last = patrol(app, "acc", NOW + timedelta(hours=1))
    assert last.observation.unchanged
    f = open_findings(app, "acc")["commercial"]
    assert f.last_snapshot_id == last.snapshot.id  # the newest look still shows it
    feed(platform, "/a.xml", [Item("今日要闻", NOW + timedelta(hours=1))])  # taken down
    changed = patrol(app, "acc", NOW + timedelta(hours=2))
    assert not changed.observation.unchanged
    assert "commercial" not in open_findings(app, "acc")


def test_new_rules_mean_reading_the_page_again(app: App, platform: SimulatedPlatform) -> None:
    add_unit(app, "u1")
    feed(platform, "/a.xml", [Item("今日要闻", NOW - timedelta(hours=3))])
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml", ruleset="strict")
    app.settings.rulesets = {"strict": {"rules": [{"kind": "max_gap_days", "days": 30}]}}
    app.__dict__.pop("rulesets", None)
    app.__dict__.pop("judged_with", None)
    patrol(app, "acc", NOW)
    assert patrol(app, "acc", NOW + timedelta(hours=1)).observation.unchanged
    app.settings.rulesets = {"strict": {"rules": [{"kind": "max_gap_days", "days": 1}]}}
    app.__dict__.pop("rulesets", None)
    app.__dict__.pop("judged_with", None)  # what App.reload does
    again = patrol(app, "acc", NOW + timedelta(hours=2))
    assert not again.observation.unchanged  # judged in full under the new rules
    assert count(app, "facts") == 1  # the same page: still one copy


def test_retention_keeps_the_look_the_next_check_refers_to(
    app: App, platform: SimulatedPlatform
) -> None:
    """A page whose bytes changed but whose content did not (a build date, whitespace) is
    read again when fresh evidence is due (here: at every change of bytes) and its snapshot
    is a plain unchanged one to thinning — yet the next 304 or same-bytes check refers to
    it: retention must keep it, and the patrol go on."""
    from monitor.service import retention

    app.settings.patrol.evidence_refresh_hours = 0  # every change of bytes read in full
    add_unit(app, "u1")
    items = [Item("今日要闻", NOW - timedelta(hours=3))]
    body = rss_feed("测试发布", "https://weibo.com/1", items)
    platform.add("/a.xml", body, RSS)
    add_account(app, "acc", "u1", f"{platform.base_url}/a.xml")
    patrol(app, "acc", NOW)
    platform.add("/a.xml", body + b"\n", RSS)  # other bytes, the same posts
    reread = patrol(app, "acc", NOW + timedelta(hours=1))
    assert not reread.observation.unchanged
    for h in (2, 3):
        assert patrol(app, "acc", NOW + timedelta(hours=h)).observation.unchanged
    settings = app.settings
    settings.retention.thin_after_days, settings.retention.keep_one_per_hours = 1, 0
    stats = retention.run_retention(app.engine, settings, app.blobs, now=NOW + timedelta(days=30))
    assert stats.deleted == 1  # a same-bytes check (the newest stays); never the look
    with Session(app.engine) as s:
        state = s.get(AccountState, "acc")
        assert state is not None and state.snapshot_id == reread.snapshot.id
        assert s.get(Snapshot, reread.snapshot.id) is not None
    after = patrol(app, "acc", NOW + timedelta(hours=4))
    assert after.observation.unchanged and after.snapshot.same_as == reread.snapshot.id
