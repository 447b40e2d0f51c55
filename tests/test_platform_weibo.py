"""Weibo reader against the local simulator: real field names, real ``created_at`` format."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from localserver import LocalServer
from simulator import NOW, Simulator, weibo_time

from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Target
from probes.platforms import observe
from probes.platforms.weibo import parse_created_at, weibo_uid

FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, retries=0)


def target(base: str, uid: str = "1000", **kw: str) -> Target:
    return Target(
        account_id="wb-1",
        platform="weibo",
        reader="weibo",
        url=f"https://weibo.com/u/{uid}",
        origins={"m": base, "www": base},
        **kw,
    )


def run(sim: Simulator, uid: str = "1000") -> tuple[Observation, LocalServer]:
    with LocalServer(sim.routes()) as srv:

        async def main() -> Observation:
            async with Fetcher(FAST) as f:
                return await observe(target(srv.base, uid), f, now=NOW)

        return asyncio.run(main()), srv


def test_created_at_is_beijing_time_made_utc() -> None:
    assert parse_created_at("Sun Nov 22 14:05:00 +0800 2026") == datetime(
        2026, 11, 22, 6, 5, tzinfo=UTC
    )
    assert parse_created_at("yesterday") is None
    assert weibo_time(NOW) == "Tue Nov 24 14:00:00 +0800 2026"


def test_uid_from_handle_or_url() -> None:
    base = Target("a", "weibo", "weibo")
    assert weibo_uid(Target("a", "weibo", "weibo", handle="123456")) == "123456"
    assert weibo_uid(Target("a", "weibo", "weibo", url="https://m.weibo.cn/u/7654321")) == "7654321"
    assert weibo_uid(Target("a", "weibo", "weibo", url="https://weibo.com/2803301701")) == (
        "2803301701"
    )
    assert weibo_uid(base) == ""


def test_account_profile_posts_pinned_repost_links_client() -> None:
    obs, srv = run(Simulator())
    assert obs.outcome is Outcome.ok, obs.detail
    p = obs.profile
    assert (p.name, p.verified, p.verified_type) == ("平安示例", True, "1")
    assert p.verified_reason == "示例市公安局官方微博"
    assert (p.followers, p.posts_count, p.ip_location) == (123456, 8765, "山东")
    posts = {q.id: q for q in obs.posts}
    assert len(posts) == 3
    pin = posts["4900000000000001"]
    assert pin.pinned and not pin.repost
    assert pin.published_at == NOW - timedelta(days=200)
    fresh = posts["4900000000000003"]
    assert not fresh.pinned and fresh.client == "iPhone 15 Pro"
    assert fresh.published_at == NOW - timedelta(hours=3)
    assert fresh.links == ["https://item.taobao.com/item.htm?id=1"]  # sinaurl unwrapped
    assert fresh.url == "https://weibo.com/1000/Fresh3"
    rt = posts["4900000000000002"]
    assert rt.repost and rt.client == "微博网页版" and "https://www.gov.cn/zhengce/" in rt.links
    assert all(q.published_at and q.published_at.tzinfo is UTC for q in obs.posts)
    assert [a.kind for a in obs.artifacts] == ["json", "json", "json"]
    assert srv.hits["/api/container/getIndex"] == 2


def test_visitor_cookie_bounce_is_followed() -> None:
    obs, srv = run(Simulator(weibo_visitor=True))
    assert obs.outcome is Outcome.ok, obs.detail
    assert len(obs.posts) == 3 and obs.profile.verified is True
    assert srv.hits["/visitor/visitor"] == 1  # the cookie then serves every later request
    assert obs.redirects[0].url.endswith("type=uid&value=1000")


def test_visitor_page_that_does_not_let_us_through_is_blocked() -> None:
    obs, _ = run(Simulator(weibo_visitor=True, weibo_visitor_passes=False))
    assert obs.outcome is Outcome.blocked
    assert "访客" in obs.detail and obs.redirects and obs.final_url
    assert "/visitor/visitor" in obs.final_url


def test_anti_bot_statuses_and_login_are_blocked() -> None:
    for uid, word in (("1432", "432"), ("1412", "412"), ("1100", "登录")):
        obs, _ = run(Simulator(), uid)
        assert obs.outcome is Outcome.blocked, uid
        assert word in obs.detail


def test_gone_and_banned_accounts_are_not_found() -> None:
    obs, _ = run(Simulator(), "1404")
    assert obs.outcome is Outcome.not_found and "这里还没有内容" in obs.detail
    obs, _ = run(Simulator(), "1405")
    assert obs.outcome is Outcome.not_found and "无法查看" in obs.detail


def test_missing_uid_is_an_error() -> None:
    async def main() -> Observation:
        async with Fetcher(FAST) as f:
            return await observe(Target("a", "weibo", "weibo", url="https://weibo.com/"), f)

    obs = asyncio.run(main())
    assert obs.outcome is Outcome.error and "uid" in obs.detail
