"""No page may cost more than a bounded time (issue 19): every detector is linear in what it
is given, an observation keeps at most ``MAX_POSTS`` posts (and says what it left out), and
a judgement that runs past its budget in the writer is cut off, visibly, without the rest
of its batch. Each test feeds the worst shapes; ``timeout`` is a hang guard, not a timing
(timings are ``bench/detectors.py``'s)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import anyio
import pytest
from localserver import LocalServer, Reply
from sqlmodel import Session, select
from structlog.testing import capture_logs

from monitor.app import App
from monitor.patrol.pipeline import check
from monitor.record.batch import Record, write_batch
from monitor.record.judge import JudgeTimeout, time_budget
from monitor.record.writer import ProcessWriter
from monitor.show.labels import capped_note
from monitor.store.facts import content_of
from monitor.store.history import snapshot_detail
from monitor.store.models import Account, Finding, Snapshot
from probes.checks import DETECTORS, Context, evaluate, merge_posts
from probes.checks.calendar import WorkCalendar
from probes.checks.commercial import judge_post
from probes.checks.links import links_in_text, resolve_short_links
from probes.checks.rules import BUILTIN_RULESETS
from probes.checks.staleness import digest_posts, evaluate_staleness, posts_from_digest
from probes.checks.theft import theft_signs
from probes.model import (
    MAX_LINKS,
    MAX_POSTS,
    MAX_TEXT_CHARS,
    Observation,
    Outcome,
    Post,
    Profile,
    cap_posts,
)
from probes.platforms.rss import trim
from tests.conftest import add_account, add_unit, make_settings, open_app
from tests.localfeeds import flood_feed

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
AT = NOW - timedelta(hours=3)  # the second all 26,000 items were published in
NATIONAL = BUILTIN_RULESETS["national"]
CAL = WorkCalendar()
FLOOD = 26_000
REPO = Path(__file__).resolve().parents[1]


def flood(n: int = FLOOD, at: datetime = AT, prefix: str = "f") -> list[Post]:
    return [
        Post(f"{prefix}{k}", at, text="通知", url=f"https://a.gov.cn/{prefix}{k}") for k in range(n)
    ]


def obs_of(posts: list[Post], account: str = "acc", **kw: object) -> Observation:
    return Observation(account, "rss", "https://a.gov.cn/feed", NOW, Outcome.ok, posts=posts, **kw)


# -- (b) the cap --------------------------------------------------------------------------------


def test_an_observation_keeps_the_newest_posts_and_says_how_many_it_had() -> None:
    old = [Post(f"o{k}", AT - timedelta(days=30 + k)) for k in range(10)]
    newer = Post("new", AT + timedelta(minutes=1))
    undated = Post("undated", None)
    posts = [*flood(), undated, *old, newer]
    obs = cap_posts(obs_of(posts))
    assert len(obs.posts) == MAX_POSTS
    assert obs.posts[-1].id == "new"  # the newest is kept, the page's order is too
    assert [p.id for p in obs.posts[:-1]] == [f"f{k}" for k in range(MAX_POSTS - 1)]
    assert obs.capped == {"posts_total": FLOOD + 12, "posts_kept": MAX_POSTS}
    facts = obs.facts()
    assert (facts["posts_total"], facts["posts_kept"]) == (FLOOD + 12, MAX_POSTS)
    assert capped_note(facts) == f"共 {FLOOD + 12} 条，保留最新 {MAX_POSTS} 条"
    assert cap_posts(obs).capped == obs.capped  # idempotent
    # a page within the caps is stored as it always was: no new keys, the same content key
    small = obs_of(flood(3))
    before = content_of(small.facts())
    assert "posts_total" not in cap_posts(small).facts() and content_of(small.facts()) == before
    # texts and links are bounded too
    big = obs_of([Post("b", AT, text="字" * (MAX_TEXT_CHARS * 3), links=["https://x.cn/"] * 999)])
    cap_posts(big)
    assert len(big.posts[0].text) == MAX_TEXT_CHARS and len(big.posts[0].links) == MAX_LINKS
    assert big.capped == {"texts_cut": 1, "links_cut": 1}
    assert capped_note(big.facts()) == "1 条正文过长已截断；1 条链接过多已截断"


@pytest.mark.timeout(60)
def test_a_huge_feed_is_cut_before_feedparser_reads_it() -> None:
    body = flood_feed(FLOOD, AT).decode()
    date = f"{AT:%a, %d %b %Y %H:%M:%S} GMT"
    cut = body.rindex(date)  # the last item is an hour newer than the others
    late = body[:cut] + f"{AT + timedelta(hours=1):%a, %d %b %Y %H:%M:%S} GMT" + body[cut + 29 :]
    text, total = trim(late)
    assert total == FLOOD and text.count("<item>") == MAX_POSTS
    assert "第0号通知" in text and "第498号通知" in text and "第499号通知" not in text
    assert "第25999号通知" in text and text.count("\n") == MAX_POSTS - 1
    assert text.startswith(late[: late.index("<item>")]) and text.endswith("</channel></rss>")
    # items inside CDATA are text; nested items are not cut by hand (feedparser reads all)
    odd = late.replace("<item>", "<item><![CDATA[<item>]]>", 1)
    kept, total = trim(odd)  # (CDATA is text: its "<item>" is no item)
    assert total == FLOOD and kept.count("<item>") == MAX_POSTS + 1
    nested = late.replace("<item>", "<item><item>", 1)
    assert trim(nested) == (nested, 0)


# -- (a) every detector on the worst shapes -------------------------------------------------------


@pytest.mark.timeout(60)
def test_every_detector_is_linear_in_a_flood_of_posts_in_one_second() -> None:
    """26,000 posts with one time, uncapped (detectors must cope whatever they are given),
    and a previous look of 26,000 others: the theft detector's old posts were a set rebuilt
    for each post (quadratic)."""
    start = AT - timedelta(days=60)  # the previous look's posts: one a minute, for 18 days
    prev = obs_of([Post(f"p{k}", start - timedelta(minutes=k)) for k in range(FLOOD)])
    prev.fetched_at = NOW - timedelta(days=1)
    prev.profile = Profile(name="平安某县")
    cur = obs_of(flood(), profile=Profile(name="平安某县"))
    merged = merge_posts(cur.posts, prev.posts)
    assert len(merged) == 2 * FLOOD
    ctx = Context(ruleset=NATIONAL, calendar=CAL, now=NOW, posts=merged, previous=prev)
    signs = {s.code: s for s in theft_signs(cur, ctx)}
    assert signs["burst"].evidence["burst_24h"] == FLOOD
    assert signs["dormant_then_active"].evidence["gap_days"] == 60
    assert evaluate_staleness(merged, NATIONAL, CAL, NOW) == []  # posted three hours ago
    kinds = [
        s.kind
        for s in evaluate(cur, ruleset=NATIONAL, calendar=CAL, now=NOW, history_posts=prev.posts)
    ]
    assert kinds == ["theft"]  # 26,000 posts after 60 days of silence; posted, not stale
    digest = digest_posts(merged)
    back = posts_from_digest(digest)
    assert back is not None and len(back) == 2 * FLOOD
    assert evaluate_staleness(back, NATIONAL, CAL, NOW) == []
    assert content_of(cur.facts())[0] == content_of(cur.facts())[0]


@pytest.mark.timeout(60)
def test_commercial_judging_is_linear_on_very_long_texts() -> None:
    n = 200_000  # characters: ten times the cap an observation keeps
    shapes = {
        # a quantifier pair that split a run of spaces every way (quadratic in the run)
        "contact": ("加微信" + " " * n, None),
        "qq": ("QQ" + " " * n + "号", None),
        # unclosed tags, scanned to the end from each of them
        "anchors": ("<a " * (n // 3) + "https://a.gov.cn/", None),
        "miniprogram": ("<mp-miniprogram data-x='1' " * (n // 30) + "http://a", None),
        "word": ("x" * n + '="https://a.gov.cn/"', None),
        "urls": ("http://" * (n // 7), None),
        # and still found where they are
        "bait_far": ("通知" * (n // 2) + " 兼职刷单日结，加微信 sd88888", "commercial"),
    }
    for name, (text, level) in shapes.items():
        assert judge_post(Post(name, AT, text=text)).level == level, name
    disguised = "<a " * 10_000 + '<a href="https://shop.example.com/x">www.gov.cn 政务服务</a>'
    v = judge_post(Post("d", AT, text=disguised))
    assert v.level == "commercial" and "链接伪装为其他域名" in v.reasons[0]
    assert judge_post(Post("h", AT, links=["https://" + "a." * 50_000 + "taobao.com/"])).links


@pytest.mark.timeout(60)
def test_many_links_in_one_post_are_judged_and_resolved_linearly() -> None:
    links = [f"https://site{k}.example.org/p" for k in range(20_000)]
    v = judge_post(
        Post("many", AT, text="活动报名", links=[*links, "https://s.click.taobao.com/x"])
    )
    assert v.level == "commercial" and len(v.links) == 20_001
    assert len(links_in_text(" ".join(links))) == 20_000

    class Landing:
        async def get(self, url: str, **kw: object) -> SimpleNamespace:
            return SimpleNamespace(
                final_url=url.replace("t.cn/", "shop.example.com/"), redirects=[]
            )

    short = [f"https://t.cn/A{k}" for k in range(20_000)]
    post = Post("short", AT, links=list(short))
    got = anyio.run(resolve_short_links, obs_of([post]), Landing())
    assert len(got) == 20_000 and len(post.links) == 40_000
    assert post.links[20_000] == "https://shop.example.com/A0"


# -- (c) a judgement past its budget ---------------------------------------------------------------


def _hang(obs: Observation, ctx: Context) -> list:
    while obs.account_id == "slow":  # a detector that never ends, for this account
        pass
    return []


def _open_with_hang(settings):  # the writer process's wiring, with the hanging detector
    DETECTORS["hang"] = _hang
    return App.for_writer(settings)


def _records(app: App) -> list[Record]:
    add_unit(app, "u1")
    for a in ("slow", "fine"):
        add_account(app, a, "u1", f"https://a.gov.cn/{a}.xml")
    with Session(app.engine) as s:
        accounts = {a.id: a for a in s.exec(select(Account)).all()}
        for a in accounts.values():
            s.expunge(a)
    return [
        Record(accounts[a], obs_of(flood(3, prefix=a), account=a), NOW) for a in ("slow", "fine")
    ]


def _assert_cut_off(app: App, slow: Snapshot, fine: Snapshot) -> None:
    assert slow.outcome == "error" and slow.detail.startswith("判定超时（1 秒）")
    assert slow.post_count == 3  # what the page showed is kept as evidence
    assert fine.outcome == "ok"
    with Session(app.engine) as s:
        kinds = {(f.account_id, f.kind) for f in s.exec(select(Finding)).all()}
    assert ("slow", "fetch_failed") in kinds
    assert not any(a == "fine" and k == "fetch_failed" for a, k in kinds)


@pytest.mark.timeout(60)
def test_a_judgement_past_its_budget_is_cut_off_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = open_app(make_settings(tmp_path, patrol={"judge_timeout_seconds": 1}))
    try:
        monkeypatch.setitem(DETECTORS, "hang", _hang)
        with capture_logs() as logs:
            outcomes, transactions = write_batch(app, _records(app))
        slow, fine = outcomes
        assert not isinstance(slow, BaseException) and not isinstance(fine, BaseException)
        assert transactions == 1
        _assert_cut_off(app, slow.snapshot, fine.snapshot)
        assert [e["account"] for e in logs if e["event"] == "judge_timeout"] == ["slow"]
        assert [s.kind for s in slow.signals] == ["fetch_failed"]
    finally:
        app.close()


@pytest.mark.timeout(120)
def test_the_writer_process_cuts_off_a_judgement_and_writes_the_rest(tmp_path: Path) -> None:
    app = open_app(make_settings(tmp_path, patrol={"judge_timeout_seconds": 1}))
    writer = ProcessWriter(app.settings, _open_with_hang)
    try:
        outcomes, _ = writer.write(_records(app))
        slow, fine = outcomes
        assert not isinstance(slow, BaseException) and not isinstance(fine, BaseException)
        _assert_cut_off(app, slow.snapshot, fine.snapshot)
        assert writer.started == 1  # the same process goes on
    finally:
        writer.close()
        app.close()


def test_the_budget_leaves_an_outer_alarm_as_it_was() -> None:
    with pytest.raises(JudgeTimeout), time_budget(0.2):
        while True:
            pass
    with time_budget(5):
        pass  # pytest-timeout's own alarm (300 s) is set again afterwards
    import signal

    left, _ = signal.getitimer(signal.ITIMER_REAL)
    assert left > 0


# -- (d) end to end: a 26,000-item feed over HTTP, checked through the real path -------------------


@pytest.mark.timeout(120)
def test_a_feed_of_26000_items_in_one_second_is_checked_and_the_snapshot_states_the_cap(
    tmp_path: Path,
) -> None:
    body = flood_feed(FLOOD, AT)
    assert len(body) > 4_800_000
    feed = Reply(body=body, headers={"Content-Type": "application/rss+xml; charset=utf-8"})
    app = open_app(make_settings(tmp_path))
    try:
        with LocalServer({"/flood.xml": feed}) as srv:
            add_unit(app, "u1")
            add_account(app, "flood", "u1", srv.url("/flood.xml"))

            async def go():
                async with app.probing() as tools:
                    return await check(app, tools, "flood", now=NOW)

            result = anyio.run(go)
        snap = result.snapshot
        assert snap.outcome == "ok" and snap.post_count == MAX_POSTS
        with Session(app.engine) as s:
            d = snapshot_detail(s, snap.id)
        assert d is not None
        assert (d.facts["posts_total"], d.facts["posts_kept"]) == (FLOOD, MAX_POSTS)
        # 26,000 posts in 24 hours: a burst, but no theft without a previous look to differ
        assert "stale" not in {x.kind for x in result.signals}
        cfg = tmp_path / "xuncha.toml"
        cfg.write_text(f'data_dir = "{tmp_path}"\n[logging]\nlevel = "warning"\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
        shown = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(cfg), "snapshot", str(snap.id)],
            capture_output=True, text=True, env=env, timeout=100, cwd=REPO,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert f"共 {FLOOD} 条，保留最新 {MAX_POSTS} 条" in shown.stdout
    finally:
        app.close()


def test_a_record_made_elsewhere_is_capped_by_the_writer(tmp_path: Path) -> None:
    app = open_app(make_settings(tmp_path))
    try:
        [rec, _] = _records(app)
        rec = replace(rec, obs=obs_of(flood(MAX_POSTS + 7, prefix="slow"), account="slow"))
        [result], _ = write_batch(app, [rec])
        assert not isinstance(result, BaseException)
        assert result.snapshot.post_count == MAX_POSTS
    finally:
        app.close()
