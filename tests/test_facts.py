"""Snapshot facts stored content-addressed: a check of an unchanged page adds no facts, every
reader gets the facts a check saw, and retention removes only rows nobody refers to."""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from monitor.app import App
from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
from monitor.service import retention
from monitor.store.engine import session_scope
from monitor.store.facts import (
    _Cache,
    clear_cache,
    content_of,
    load_facts,
    put_facts,
    snapshot_facts,
)
from monitor.store.history import snapshot_detail
from monitor.store.models import Facts, Snapshot
from monitor.store.snapshots import last_seen
from probes.model import Observation, Outcome, Post, Profile
from tests.conftest import add_account, add_unit
from tests.test_patrol import NOW, RSS, run_check

T0 = datetime(2026, 11, 1, 2, 0, 0, 123456, tzinfo=UTC)


def observation(at: datetime, *titles: str, elapsed_ms: int = 250) -> Observation:
    return Observation(
        account_id="a1", reader="rss", url="https://weibo.example/a1", fetched_at=at,
        outcome=Outcome.ok, status_code=200, elapsed_ms=elapsed_ms,
        profile=Profile(name="贵阳发布", bio="官方账号", followers=10),
        posts=[Post(f"p{i}", T0 - timedelta(days=i), title=t) for i, t in enumerate(titles)],
    )  # fmt: skip


@contextmanager
def statements(engine: Engine, table: str) -> Iterator[list[str]]:
    """The SQL statements sent that name ``table``."""
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if f" {table}" in statement or f'"{table}"' in statement:
            seen.append(statement.split()[0].upper())

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def acct(app: App) -> App:
    add_unit(app, "u1")
    add_account(app, "a1", "u1", "http://127.0.0.1:9/a1")
    return app


def rows(engine: Engine) -> dict[str, bytes]:
    with engine.connect() as c:
        return dict(c.execute(sa.text("SELECT sha256, data FROM facts")).all())


def test_the_content_leaves_out_the_checks_own_time_and_duration() -> None:
    a = observation(T0, "通知").facts()
    b = observation(T0 + timedelta(hours=1), "通知", elapsed_ms=999).facts()
    sha, data = content_of(a)
    assert content_of(b) == (sha, data)  # the same page seen again: the same content
    content = json.loads(data)
    assert "fetched_at" not in content and "elapsed_ms" not in content
    assert content["posts"][0]["title"] == "通知"
    assert (
        data
        == json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert content_of(observation(T0, "另一条").facts())[0] != sha


def test_put_facts_stores_each_content_once_in_one_statement(app: App) -> None:
    first, again, other = (
        observation(T0, "通知").facts(),
        observation(T0 + timedelta(hours=1), "通知").facts(),
        observation(T0, "新通知").facts(),
    )
    with statements(app.engine, "facts") as sent, session_scope(app.engine) as s:
        keys = put_facts(s, [first, again, other])
    assert sent == ["INSERT"]
    assert keys[0] == keys[1] != keys[2]
    assert set(rows(app.engine)) == set(keys)
    # stored already: no second row, no error, still one statement
    with statements(app.engine, "facts") as sent, session_scope(app.engine) as s:
        assert put_facts(s, [again, other]) == keys[1:]
    assert sent == ["INSERT"] and len(rows(app.engine)) == 2
    # the row is the zlib of the canonical JSON, and says its size
    with Session(app.engine) as s:
        row = s.get(Facts, keys[0])
        assert row is not None
        assert zlib.decompress(row.data) == content_of(first)[1]
        assert row.size == len(content_of(first)[1])


def test_load_facts_reads_only_what_the_cache_lacks(app: App) -> None:
    facts = [observation(T0, t).facts() for t in ("一", "二")]
    with session_scope(app.engine) as s:
        keys = put_facts(s, facts)
    clear_cache()
    with Session(app.engine) as s, statements(app.engine, "facts") as sent:
        got = load_facts(s, [*keys, keys[0], "0" * 64, ""])
        assert sent == ["SELECT"]  # both from the table, in one query; unknown keys left out
        assert set(got) == set(keys)
        assert load_facts(s, keys) == got
        assert sent == ["SELECT"]  # the second time from the cache
    # every reader gets a dict of its own: changing one does not change the next
    got[keys[0]]["posts"].clear()
    with Session(app.engine) as s:
        assert load_facts(s, [keys[0]])[keys[0]]["posts"]


def test_the_cache_is_bounded_in_entries_and_bytes() -> None:
    c = _Cache(entries=2, size=10)
    c.put("a", b"1234")
    c.put("b", b"1234")
    assert c.get("a") == b"1234"  # a is now the most recent
    c.put("c", b"12")
    assert (c.get("a"), c.get("b"), c.get("c")) == (b"1234", None, b"12")
    c.put("d", b"123456789")  # 4 + 2 + 9 > 10 bytes: the least recent go
    assert (c.get("a"), c.get("c"), c.get("d")) == (None, None, b"123456789")
    c.put("e", b"x" * 11)  # larger than the whole cache: not kept
    assert c.get("e") is None and len(c) == 1


@pytest.mark.usefixtures("acct")
def test_a_snapshot_reads_back_the_facts_its_check_saw(app: App) -> None:
    obs = observation(T0, "通知", "公告")
    with session_scope(app.engine) as s:
        [key] = put_facts(s, [obs.facts()])
        s.add(Snapshot(account_id="a1", taken_at=T0, outcome="ok", elapsed_ms=250, facts_hash=key))
    clear_cache()
    with Session(app.engine) as s:
        snap = s.exec(select(Snapshot)).one()
        [facts] = snapshot_facts(s, [snap])
    assert facts == obs.facts()
    # in the order a check gave them: the console lists the profile's fields that way
    assert list(facts) == list(obs.facts())
    assert list(facts["profile"]) == list(obs.facts()["profile"])
    assert list(facts["posts"][0]) == list(obs.facts()["posts"][0])


def test_a_snapshot_without_facts_reads_as_none(app: App) -> None:
    with Session(app.engine) as s:
        none = Snapshot(account_id="x", taken_at=T0, outcome="error", facts_hash="")
        unknown = Snapshot(account_id="x", taken_at=T0, outcome="error", facts_hash="A")
        assert snapshot_facts(s, [none, unknown]) == [{}, {}]


def test_checks_of_an_unchanged_page_share_one_facts_row(app: App) -> None:
    platform = SimulatedPlatform().start()
    try:
        items = [Item("第1条", NOW - timedelta(days=1))]
        platform.add("/f.xml", rss_feed("测试发布", "https://weibo.com/1", items), RSS)
        add_unit(app, "u1")
        add_account(app, "a1", "u1", f"{platform.base_url}/f.xml")
        results = [run_check(app, "a1", NOW + timedelta(hours=h)) for h in range(3)]
        keys = {r.snapshot.facts_hash for r in results}
        assert len(keys) == 1 and set(rows(app.engine)) == keys
        clear_cache()  # what the table holds, not what this process remembers
        with Session(app.engine) as s:
            for r in results:
                detail = snapshot_detail(s, r.snapshot.id)
                assert detail is not None and detail.facts == r.observation.facts()
            assert last_seen(s, ["a1"])["a1"].facts == results[-1].observation.facts()

        items.insert(0, Item("第2条", NOW))  # something changed: a second row
        platform.add("/f.xml", rss_feed("测试发布", "https://weibo.com/1", items), RSS)
        changed = run_check(app, "a1", NOW + timedelta(hours=3))
        assert changed.snapshot.facts_hash not in keys
        assert set(rows(app.engine)) == keys | {changed.snapshot.facts_hash}
        clear_cache()
        with Session(app.engine) as s:
            assert last_seen(s, ["a1"])["a1"].facts == changed.observation.facts()
    finally:
        platform.stop()


# -- retention --------------------------------------------------------------------------------


def _stored(app: App, *titles: str, age: timedelta = timedelta(days=1)) -> list[str]:
    """Facts rows for these titles, stored ``age`` ago."""
    with session_scope(app.engine) as s:
        keys = put_facts(s, [observation(T0, t).facts() for t in titles])
    with app.engine.begin() as c:
        c.execute(
            sa.update(Facts.__table__)  # type: ignore[attr-defined]
            .where(sa.column("sha256").in_(keys))
            .values(created_at=datetime.now(UTC) - age)
        )
    return keys


def _refer(session: Session, key: str) -> None:
    session.add(Snapshot(account_id="a1", taken_at=T0, outcome="ok", facts_hash=key))


@pytest.mark.usefixtures("acct")
def test_collect_facts_removes_only_rows_no_snapshot_refers_to(app: App) -> None:
    used, _orphan = _stored(app, "用", "弃")
    [fresh] = _stored(app, "新", age=timedelta(0))
    with session_scope(app.engine) as s:
        _refer(s, used)
    # a row younger than the grace may belong to a check in flight
    assert retention.collect_facts(app.engine, grace=timedelta(hours=6)) == 1
    assert set(rows(app.engine)) == {used, fresh}
    assert retention.collect_facts(app.engine, grace=timedelta(0)) == 1
    assert set(rows(app.engine)) == {used}


@pytest.mark.usefixtures("acct")
def test_collect_facts_keeps_a_row_referred_to_while_it_ran(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check refers to a stored row again between the search and the delete."""
    wanted, orphan = _stored(app, "再用", "弃")
    search = retention._unreferenced

    def then_a_check(engine: Engine, created_before: datetime) -> list[str]:
        found = search(engine, created_before)
        assert set(found) == {wanted, orphan}
        with session_scope(app.engine) as s:
            put_facts(s, [observation(T0, "再用").facts()])
            _refer(s, wanted)
        return found

    monkeypatch.setattr(retention, "_unreferenced", then_a_check)
    assert retention.collect_facts(app.engine, grace=timedelta(0)) == 1
    assert set(rows(app.engine)) == {wanted}


@pytest.mark.usefixtures("acct")
def test_collect_facts_waits_for_a_check_in_flight(app: App) -> None:
    """A check that refers to an old row again and has not committed yet: retention waits
    for it (PostgreSQL: the facts table's lock; SQLite: the one writer) and keeps the row."""
    [key] = _stored(app, "再用")
    removed: list[int] = []
    # connections ready in the pool: a new SQLite connection's pragmas would wait for the
    # writer too, and hide whether retention itself waits
    ready = [app.engine.connect() for _ in range(4)]
    for c in ready:
        c.exec_driver_sql("SELECT 1")
        c.close()
    with session_scope(app.engine) as s:
        put_facts(s, [observation(T0, "再用").facts()])  # as a check's transaction does
        _refer(s, key)
        s.flush()
        t = threading.Thread(
            target=lambda: removed.append(retention.collect_facts(app.engine, grace=timedelta(0)))
        )
        t.start()
        t.join(1.0)
        assert t.is_alive()  # held off until the check commits
    t.join(30)
    assert removed == [0] and set(rows(app.engine)) == {key}


@pytest.mark.usefixtures("acct")
def test_thinning_never_leaves_facts_nobody_refers_to(app: App) -> None:
    """Retention keeps the first snapshot of every run of equal facts: every stored content
    stays referred to, so thinning alone leaves collection nothing to take."""
    settings = app.settings
    settings.retention.thin_after_days, settings.retention.keep_one_per_hours = 1, 0
    a, b = _stored(app, "甲", "乙")
    with session_scope(app.engine) as s:
        for i, key in enumerate([a, a, a, b, b, a, a]):
            s.add(
                Snapshot(
                    account_id="a1", taken_at=T0 + timedelta(hours=i), outcome="ok",
                    facts_hash=key,
                )
            )  # fmt: skip
    stats = retention.run_retention(app.engine, settings, app.blobs, now=T0 + timedelta(days=30))
    assert stats.deleted == 3 and stats.facts_deleted == 0
    assert set(rows(app.engine)) == {a, b}
