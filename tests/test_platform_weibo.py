"""Weibo reader against the local simulator: real field names, real ``created_at`` format."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from localserver import LocalServer
from simulator import NOW, Simulator, weibo_time

from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import BUILTIN_RULESETS
from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Post, Sight, Target
from probes.platforms import observe
from probes.platforms.weibo import parse_created_at, weibo_uid

FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, retries=0)
NATIONAL = BUILTIN_RULESETS["national"]
CAL = WorkCalendar()


def bj(*args: int) -> datetime:
    """Beijing wall-clock time as aware UTC."""
    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)  # type: ignore[misc]


def target(base: str, uid: str = "1000", **kw: str) -> Target:
    return Target(
        account_id="wb-1",
        platform="weibo",
        reader="weibo",
        url=f"https://weibo.com/u/{uid}",
        origins={"m": base, "www": base, "passport": base},
        **kw,
    )


def run(sim: Simulator, uid: str = "1000") -> tuple[Observation, LocalServer]:
    with LocalServer(sim.routes()) as srv:

        async def main() -> Observation:
            async with Fetcher(FAST) as f:
                return await observe(target(srv.base, uid), Tools(f), now=NOW)

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


def test_visitor_cookie_flow_then_the_account_reads() -> None:
    """302 to the visitor page, genvisitor POST, incarnate sets SUB, then the API answers."""
    obs, srv = run(Simulator(weibo_visitor=True))
    assert obs.outcome is Outcome.ok, obs.detail
    assert len(obs.posts) == 3 and obs.profile.verified is True
    assert srv.hits["/visitor/genvisitor"] == 1  # the cookie then serves every later request
    gen = next(r for r in srv.requests if r.path == "/visitor/genvisitor")
    assert gen.method == "POST"
    incarnate = [r for r in srv.requests if "a=incarnate" in r.query]
    assert len(incarnate) == 1 and "&w=3&c=095&gc=&cb=cross_domain&from=weibo" in (
        incarnate[0].query
    )
    api = [r for r in srv.requests if r.path in ("/api/container/getIndex", "/ajax/profile/info")]
    assert "SUB=" not in api[0].headers.get("cookie", "")
    assert all("SUB=_2AkMV" in r.headers.get("cookie", "") for r in api[1:])
    assert obs.redirects[0].url.endswith("type=uid&value=1000")  # the bounce is evidence


def test_visitor_system_that_refuses_is_blocked_not_stale_or_gone() -> None:
    obs, srv = run(Simulator(weibo_visitor=True, weibo_visitor_passes=False))
    assert obs.outcome is Outcome.blocked
    assert "访客" in obs.detail and "retcode=50111299" in obs.detail
    assert obs.redirects and "/visitor/visitor" in obs.final_url
    assert srv.hits["/visitor/genvisitor"] == 1 and not obs.posts


# -- the visitor flow on the real host names, across accounts ------------------------------

HOSTS = {
    "m": "http://m.weibo.cn",
    "www": "http://weibo.com",
    "passport": "http://passport.weibo.com",
}


def named(uid: str) -> Target:
    """A target on Weibo's real host names; the simulator is the HTTP proxy (loopback only)."""
    return Target(f"wb-{uid}", "weibo", "weibo", handle=uid, origins=dict(HOSTS))


def test_first_account_runs_the_flow_and_later_accounts_reuse_the_cookies() -> None:
    sim = Simulator(weibo_visitor=True, weibo_passport=HOSTS["passport"])
    with LocalServer(sim.routes()) as srv:

        async def main() -> tuple[list[Observation], list[Observation], set[str], Fetcher]:
            async with Fetcher(HttpSettings(**{**FAST.__dict__, "proxy": srv.base})) as f:
                first = [await observe(named("1000"), Tools(f), now=NOW)]
                later = await asyncio.gather(
                    *(observe(named(str(2000 + i)), Tools(f), now=NOW) for i in range(20))
                )
                domains = {c.domain for c in f.jar("weibo").cookies.jar if c.name == "SUB"}
                return first, list(later), domains, f

        first, later, domains, f = asyncio.run(main())
        assert srv.hits["/visitor/genvisitor"] == 1
        assert len(sim.weibo_subs) == 1
        hosts = {r.headers["host"] for r in srv.requests}
    assert all(o.outcome is Outcome.ok and len(o.posts) == 3 for o in first + later)
    assert domains == {".weibo.com", ".weibo.cn"}  # incarnate's, and the cross-domain copy
    assert hosts == {"m.weibo.cn", "weibo.com", "passport.weibo.com"}
    assert f.jar("douyin").cookies.jar is not f.jar("weibo").cookies.jar
    assert len(f.jar("douyin")) == 0  # other platforms never got Weibo's visitor cookies


def test_cold_start_with_many_accounts_at_once_runs_the_flow_once() -> None:
    sim = Simulator(weibo_visitor=True, weibo_passport=HOSTS["passport"])
    with LocalServer(sim.routes()) as srv:

        async def main() -> list[Observation]:
            async with Fetcher(HttpSettings(**{**FAST.__dict__, "proxy": srv.base})) as f:
                return list(
                    await asyncio.gather(
                        *(observe(named(str(3000 + i)), Tools(f)) for i in range(10))
                    )
                )

        obs = asyncio.run(main())
        assert srv.hits["/visitor/genvisitor"] == 1
    assert all(o.outcome is Outcome.ok for o in obs), [o.detail for o in obs]


def test_expired_visitor_cookie_runs_the_flow_again() -> None:
    sim = Simulator(weibo_visitor=True, weibo_passport=HOSTS["passport"])
    with LocalServer(sim.routes()) as srv:

        async def main() -> tuple[Observation, Observation, int]:
            async with Fetcher(HttpSettings(**{**FAST.__dict__, "proxy": srv.base})) as f:
                a = await observe(named("1000"), Tools(f), now=NOW)
                sub = f.jar("weibo").value("SUB")
                sim.expire_weibo_visitors()  # Weibo stops honouring it: HTTP 432
                b = await observe(named("1001"), Tools(f), now=NOW)
                return a, b, int(sub != f.jar("weibo").value("SUB"))

        a, b, renewed = asyncio.run(main())
        assert srv.hits["/visitor/genvisitor"] == 2
        api = [r for r in srv.requests if r.path == "/api/container/getIndex"]
    assert a.outcome is Outcome.ok and b.outcome is Outcome.ok, b.detail
    assert renewed == 1
    assert [r.query.endswith("value=1001") for r in api].count(True) == 2  # 432, then retry


def test_broken_genvisitor_is_blocked_for_every_account() -> None:
    sim = Simulator(weibo_visitor=True, weibo_visitor_passes=False)
    sim.weibo_passport = HOSTS["passport"]
    with LocalServer(sim.routes()) as srv:

        async def main() -> list[Observation]:
            async with Fetcher(HttpSettings(**{**FAST.__dict__, "proxy": srv.base})) as f:
                return [await observe(named(u), Tools(f), now=NOW) for u in ("1000", "1001")]

        obs = asyncio.run(main())
        assert srv.hits["/visitor/genvisitor"] == 1  # not asked again for every account
    for o in obs:
        assert o.outcome is Outcome.blocked and "访客" in o.detail, o.detail
        assert not o.posts


def test_anti_bot_statuses_and_login_are_blocked() -> None:
    for uid, word in (("1432", "432"), ("1412", "412"), ("1100", "登录")):
        obs, _ = run(Simulator(), uid)
        assert obs.outcome is Outcome.blocked, uid
        assert word in obs.detail


def test_a_banned_account_is_not_found() -> None:
    obs, _ = run(Simulator(), "1405")
    assert obs.outcome is Outcome.not_found and "无法查看" in obs.detail


# -- empty lists: the platform's word only with a count of 0 (fixtures/platforms/weibo) ------


def kinds(obs: Observation) -> list[str]:
    return [s.kind for s in evaluate(obs, ruleset=NATIONAL, calendar=CAL, now=obs.fetched_at)]


@pytest.mark.parametrize(
    ("uid", "said"), [("1404", "接口返回“这里还没有内容”"), ("1401", "列表为空")]
)
def test_an_empty_list_while_the_profile_counts_posts_is_withheld(uid: str, said: str) -> None:
    """ "这里还没有内容" after the profile answered is not "gone"; with 8765 posts counted it
    is a list not shown to us: unreadable, told to ops, never stale."""
    obs, _ = run(Simulator(), uid)
    assert obs.outcome is Outcome.unreadable and obs.posts == []
    assert obs.detail == f"微博未向本次访问展示微博列表（资料显示有 8765 条微博，{said}）"
    assert obs.profile.name == "平安示例"  # the profile was read
    assert kinds(obs) == ["unreadable"]


@pytest.mark.parametrize("uid", ["1400", "1402"])
def test_an_empty_list_with_a_count_of_0_is_a_real_empty_account(uid: str) -> None:
    obs, _ = run(Simulator(), uid)
    assert obs.outcome is Outcome.ok and obs.sight is Sight.none and obs.posts == []
    assert obs.profile.posts_count == 0
    assert kinds(obs) == ["stale"]  # an account that never posted is stale: judged


def test_nothing_here_instead_of_the_profile_is_unreadable_not_gone() -> None:
    obs, _ = run(Simulator(), "1403")
    assert obs.outcome is Outcome.unreadable
    assert obs.detail == "微博未返回账号资料（接口返回“这里还没有内容”，不代表账号已注销）"


# -- walls ---------------------------------------------------------------------------------


def test_the_visitor_system_page_in_place_of_the_api_is_blocked() -> None:
    """The bot check's HTML (200, "Sina Visitor System"): the visitor flow runs once, and
    when the page comes back all the same it is blocked — not an error, not gone."""
    obs, srv = run(Simulator(), "1407")
    assert obs.outcome is Outcome.blocked and "访客" in obs.detail, obs.detail
    assert srv.hits["/visitor/genvisitor"] == 1 and not obs.login_required


@pytest.mark.parametrize("uid", ["1100", "1101"])
def test_a_login_wall_is_blocked_and_says_a_login_is_needed(uid: str) -> None:
    obs, _ = run(Simulator(), uid)
    assert obs.outcome is Outcome.blocked and "登录" in obs.detail
    assert obs.login_required
    assert kinds(obs) == ["blocked"]


# -- dates and pins as the list prints them ------------------------------------------------


def test_short_dates_read_against_the_observation_clock_and_pin_markers() -> None:
    obs, _ = run(Simulator(), "1408")
    assert obs.outcome is Outcome.ok, obs.detail
    got = {p.text: (p.published_at, p.pinned) for p in obs.posts}
    assert got == {
        "【置顶】办事指南": (bj(2025, 12, 1), True),  # mblogtype 2
        "置顶：防汛提示": (bj(2026, 11, 20), True),  # title.text 置顶
        "今日天气预报": (NOW, False),  # 刚刚
        "交通管制通告": (NOW - timedelta(minutes=5), False),
        "停水通知": (NOW - timedelta(hours=3), False),
        "文明城市创建": (bj(2026, 11, 23, 18), False),  # 昨天 18:00
    }
    assert kinds(obs) == []  # posted just now; the pins do not count either way


def test_a_fresh_pin_over_old_posts_is_still_stale() -> None:
    """The honest twin: a pinned post from yesterday does not make an old account fresh."""
    pin = Post("p", NOW - timedelta(days=1), text="置顶", pinned=True)
    old = Post("o", NOW - timedelta(days=30), text="旧")
    obs = Observation("wb-1", "weibo", "", NOW, Outcome.ok, posts=[pin, old])
    assert kinds(obs) == ["stale"]


def test_missing_uid_is_an_error() -> None:
    async def main() -> Observation:
        async with Fetcher(FAST) as f:
            return await observe(Target("a", "weibo", "weibo", url="https://weibo.com/"), Tools(f))

    obs = asyncio.run(main())
    assert obs.outcome is Outcome.error and "uid" in obs.detail
