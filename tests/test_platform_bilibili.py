"""Bilibili over HTTP: WBI-signed 动态 and videos, against the simulator's real-shaped answers
(tests/fixtures/platforms/bilibili/SOURCES.md), with every signature checked by the server."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import pytest
from localserver import LocalServer
from simulator import NOW, Simulator

from monitor.patrol.pipeline import check
from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import BUILTIN_RULESETS
from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Sight, Target
from probes.platforms import PLATFORMS, observe
from probes.platforms.bilibili import wbi
from tests.conftest import add_account, add_unit, make_settings, open_app

FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, retries=0)
NATIONAL = BUILTIN_RULESETS["national"]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def target(base: str, mid: str) -> Target:
    return Target(f"bl-{mid}", "bilibili", "bilibili", handle=mid,
                  origins={"api": base, "space": base})  # fmt: skip


def read(sim: Simulator, *mids: str, at: datetime = NOW) -> tuple[list[Observation], LocalServer]:
    """Each mid read in turn through one fetcher (its cookies and keys shared)."""
    with LocalServer(sim.routes()) as srv:

        async def main() -> list[Observation]:
            async with Fetcher(FAST) as f:
                return [await observe(target(srv.base, m), Tools(f), now=at) for m in mids]

        return asyncio.run(main()), srv


def kinds(obs: Observation, cal: WorkCalendar) -> list[str]:
    return [s.kind for s in evaluate(obs, ruleset=NATIONAL, calendar=cal, now=obs.fetched_at)]


# -- the signature -------------------------------------------------------------------------


def test_wbi_signature_matches_the_published_examples() -> None:
    """bilibili-API-collect docs/misc/sign/wbi.md: its keys, mixin key and signed query."""
    mixin = wbi.mixin_key("7cd084941338484aae1ad9425b84077c", "4932caff0ff746eab6f01bf08b70ac45")
    assert mixin == "ea1db124af3c7062474693fa704f4ff8"
    signed = wbi.sign({"foo": "114", "bar": "514", "zab": 1919810}, mixin, 1702204169)
    assert signed == (
        "bar=514&foo=114&wts=1702204169&zab=1919810&w_rid=8f6f2b5b3d485fe1886cec6a0be8c5d4"
    )
    assert wbi.encode({"foo": "one one four", "bar": "五一四", "baz": 1919810}) == (
        "bar=%E4%BA%94%E4%B8%80%E5%9B%9B&baz=1919810&foo=one%20one%20four"
    )
    assert wbi.encode({"q": "it's (ok)!*"}) == "q=its%20ok"  # !'()* dropped
    assert wbi.key_of("https://i0.hdslb.com/bfs/wbi/7cd0849.png") == "7cd0849"
    assert wbi.mixin_key("short", "keys") == ""


def test_the_platform_is_declared_off_the_browser() -> None:
    spec = PLATFORMS["bilibili"]
    assert spec.browser is False and spec.reader == "bilibili"
    assert dict(spec.origins) == {
        "api": "https://api.bilibili.com",
        "space": "https://space.bilibili.com",
    }


# -- an account --------------------------------------------------------------------------


def test_dynamics_and_videos_are_posts_read_without_a_browser(cal: WorkCalendar) -> None:
    """The case that was vetoed: a 2-day-old 动态 and a 40-day-old video is an active account."""
    sim = Simulator()
    (obs,), _ = read(sim, "10001")
    assert obs.outcome is Outcome.ok and obs.sight is Sight.posts, obs.detail
    p = obs.profile
    assert (p.name, p.bio, p.verified, p.verified_type) == (
        "示例市政府", "示例市人民政府官方账号", True, "3",
    )  # fmt: skip
    assert p.verified_reason == "示例市人民政府官方账号" and p.posts_count == 1
    posts = {q.id: q for q in obs.posts}
    assert list(posts) == [
        "1063487284684259332",
        "1062695803784527872",
        "1061000000000000001",
        "BV1xx411c7mD",
    ]  # fmt: skip  (the 动态 announcing the video is the video: one post, not two)
    pin = posts["1063487284684259332"]
    assert pin.pinned and pin.published_at == NOW - timedelta(days=200)
    assert pin.title == "政务服务指南" and pin.url == "https://t.bilibili.com/1063487284684259332"
    fresh = posts["1062695803784527872"]
    assert not fresh.pinned and fresh.published_at == NOW - timedelta(days=2)
    assert fresh.links == ["https://www.example.gov.cn/zwgk/2026/1122/gnfw.html"]
    repost = posts["1061000000000000001"]
    assert repost.repost and repost.links == [
        "https://s.click.taobao.com/t?e=m%3D2%26s%3DhRVW5Ol4GrZw"  # the quoted post's goods
    ]
    video = posts["BV1xx411c7mD"]
    assert video.published_at == NOW - timedelta(days=40) and video.title == "冬季防火宣传片"
    assert [a.kind for a in obs.artifacts] == ["json", "json", "json"]
    # judged on the 动态 too: not stale; the goods link of the quoted post is seen
    assert kinds(obs, cal) == ["commercial"]


def test_every_request_is_signed_and_the_server_checked_it() -> None:
    sim = Simulator()
    obs, srv = read(sim, "10001", "10002", "10003")
    assert all(o.outcome is not Outcome.error for o in obs)
    assert len(sim.bili.checked) == 9 and all(ok for _, ok in sim.bili.checked)
    # visitor cookies and the day's keys once for all the accounts
    assert srv.hits["/x/frontend/finger/spi"] == 1 and srv.hits["/x/web-interface/nav"] == 1
    lists = [r for r in srv.requests if r.path.startswith("/x/polymer")]
    assert all("buvid3=D9656DA8" in r.headers.get("cookie", "") for r in lists)
    assert all("dm_img_str=" in r.query and "wts=" in r.query for r in lists)
    assert all(r.headers.get("referer", "").endswith("/dynamic") for r in lists)


def test_a_wrong_signature_is_refused_by_the_simulator() -> None:
    """The check is live: the same query with another w_rid is answered with a voucher."""
    sim = Simulator()
    with LocalServer(sim.routes()) as srv:

        async def main() -> str:
            async with Fetcher(FAST) as f:
                q = wbi.sign({"mid": "10001"}, "0" * 32, 1795500000)
                return (await f.get(f"{srv.base}/x/space/wbi/acc/info?{q}")).text

        assert '"v_voucher"' in asyncio.run(main())
    assert sim.bili.checked == [("/x/space/wbi/acc/info", False)]


def test_keys_changed_since_the_last_check_are_fetched_again() -> None:
    sim = Simulator()
    with LocalServer(sim.routes()) as srv:

        async def main() -> tuple[Observation, Observation, Observation]:
            async with Fetcher(FAST) as f:
                first = await observe(target(srv.base, "10001"), Tools(f), now=NOW)
                sim.bili.rotate_keys()  # the next day's keys
                later = NOW + timedelta(hours=2)
                again = await observe(target(srv.base, "10001"), Tools(f), now=later)
                sim.bili.rotate_keys()  # and again, a moment after they were fetched
                refused = await observe(target(srv.base, "10001"), Tools(f), now=later)
                return first, again, refused

        first, again, refused = asyncio.run(main())
        assert srv.hits["/x/web-interface/nav"] == 2  # not asked again for fresh keys
    assert first.outcome is Outcome.ok and again.outcome is Outcome.ok, again.detail
    # keys fetched a moment ago and refused all the same: risk control, not stale keys
    assert refused.outcome is Outcome.blocked and "v_voucher" in refused.detail


# -- seen, withheld, and their honest twins -------------------------------------------------


def test_a_real_empty_account_is_the_platforms_word_and_is_stale(cal: WorkCalendar) -> None:
    (obs,), _ = read(Simulator(), "10002")
    assert obs.outcome is Outcome.ok and obs.sight is Sight.none and obs.posts == []
    assert obs.profile.posts_count == 0
    assert kinds(obs, cal) == ["stale"]


def test_an_empty_dynamics_list_beside_videos_is_withheld_not_stale(cal: WorkCalendar) -> None:
    (obs,), _ = read(Simulator(), "10003")
    assert obs.outcome is Outcome.unreadable
    assert obs.detail == "B站未向本次访问展示动态列表（投稿视频 1 个）"
    assert kinds(obs, cal) == ["unreadable"]


def test_a_fresh_pin_over_old_posts_is_still_stale(cal: WorkCalendar) -> None:
    (obs,), _ = read(Simulator(), "10004")
    assert obs.outcome is Outcome.ok
    pin = next(p for p in obs.posts if p.pinned)
    assert pin.published_at == NOW - timedelta(days=1)
    assert kinds(obs, cal) == ["stale", "commercial"]


def test_risk_control_login_and_gone(cal: WorkCalendar) -> None:
    risk, login, s412, gone = read(Simulator(), "10352", "10101", "10412", "10404")[0]
    assert risk.outcome is Outcome.blocked and risk.detail == "B站动态列表被风控拦截（code -352）"
    assert login.outcome is Outcome.blocked and login.login_required
    assert login.detail == "B站要求登录后查看动态列表（code -101）"
    assert s412.outcome is Outcome.blocked and "HTTP 412" in s412.detail
    assert gone.outcome is Outcome.not_found and "-404" in gone.detail
    assert [kinds(o, cal) for o in (risk, login, s412)] == [["blocked"]] * 3


def test_a_refused_video_list_leaves_the_dynamics_judged(cal: WorkCalendar) -> None:
    (obs,), _ = read(Simulator(), "10353")
    assert obs.outcome is Outcome.ok and "投稿视频列表被风控拦截" in obs.detail
    assert obs.profile.posts_count is None
    announced = next(p for p in obs.posts if p.id == "1050000000000000003")
    assert announced.title == "冬季防火宣传片"  # the video, known from its 动态
    assert kinds(obs, cal) == ["commercial"]  # not stale


def test_a_video_list_that_times_out_leaves_the_dynamics_judged() -> None:
    (obs,), _ = read(Simulator(), "10354")  # FAST waits 2 s; the list answers after 3
    assert obs.outcome is Outcome.ok and obs.detail.startswith("投稿视频未读取："), obs.detail
    assert any(p.published_at == NOW - timedelta(days=2) for p in obs.posts)


def test_missing_mid_is_an_error() -> None:
    (obs,), srv = read(Simulator(), "")
    assert obs.outcome is Outcome.error and "mid" in obs.detail and srv.hits == {}


# -- through the pipeline ------------------------------------------------------------------


def test_an_account_through_the_pipeline_launches_no_browser(tmp_path: Path) -> None:
    with LocalServer(Simulator().routes()) as srv:
        origins = {"api": srv.base, "space": srv.base}
        app = open_app(make_settings(tmp_path, platforms={"bilibili": {"origins": origins}}))
        try:
            add_unit(app, "u1", "示例市委网信办")
            add_account(app, "bl", "u1", "", name="示例市政府", platform="bilibili",
                        reader="", handle="10001")  # fmt: skip

            async def go():
                async with app.probing() as tools:
                    r = await check(app, tools, "bl", now=NOW)
                    return r, tools.browser is None or not tools.browser.running

            r, no_browser = anyio.run(go)
        finally:
            app.close()
    assert r.snapshot.outcome == "ok" and r.snapshot.reader == "bilibili", r.snapshot.detail
    assert r.snapshot.sight == "posts"
    assert [s.kind for s in r.signals] == ["commercial"]  # and not stale
    assert no_browser
