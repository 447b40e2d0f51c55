"""Firewall walls, unreadable pages and undated posts: none of them is ever "stale".

Real local HTTP servers on 127.0.0.1 serve the shapes the WAFs in front of government sites
answer with; the clock is injected (``NOW``), never read.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from localserver import FIXTURES, LocalServer, Reply

from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.kinds import KINDS
from probes.checks.rules import BUILTIN_RULESETS
from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings, Response
from probes.fetch.waf import recognise
from probes.model import Observation, Outcome, Severity, Target
from probes.platforms import observe
from probes.platforms.dates import from_object_id
from probes.platforms.xiaohongshu import note_post as xhs_post

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, backoff_seconds=0.01)
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
NATIONAL = BUILTIN_RULESETS["national"]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def observe_now(url: str, reader: str, **options: str) -> Observation:
    t = Target(account_id="gov-1", platform="website", reader=reader, url=url, options=options)

    async def main() -> Observation:
        async with Fetcher(FAST) as f:
            return await observe(t, Tools(http=f), now=NOW)

    return asyncio.run(main())


def kinds_of(obs: Observation, cal: WorkCalendar) -> dict[str, Severity]:
    return {s.kind: s.severity for s in evaluate(obs, ruleset=NATIONAL, calendar=cal, now=NOW)}


# -- the walls --------------------------------------------------------------------------------

ALIYUN = (
    "<html><script>var arg1='3B1F6A5D2C';function setCookie(n,v){document.cookie=n+'='+v;}"
    "setCookie('acw_sc__v2', reload(arg1));location.reload();</script></html>"
)
JSL = (  # 加速乐's first answer: 521, an obfuscated cookie script, no content
    "<html><script>document.cookie=('_')+('_j')+('sl_clear')+('ance_s=1764884000.1|0|x');"
    "location.href=location.pathname+location.search</script></html>"
)
WZWS = (
    "<html><head><title>360网站卫士</title></head><body><p>您的访问被拦截</p>"
    "<p>wzws-ray: 1c2d3e4f</p></body></html>"
)
SAFEDOG = (
    "<html><head><title>网站防火墙</title></head><body><h3>您的请求带有不合法参数，已被网站管理员设置拦截！"
    "</h3><p>网站防火墙 · 安全狗</p><a href='http://www.safedog.cn'>safedog</a></body></html>"
)
SAFELINE = (
    "<html><head><title>请求已被拦截</title></head><body>"
    "<div id='safeline'>Protected by SafeLine 长亭雷池</div></body></html>"
)
CLOUDFLARE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<script>window._cf_chl_opt={cvId:'3'};</script>"
    "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script></body></html>"
)
TENCENT = (
    "<html><head><title>501 拦截</title></head><body>您的访问请求可能对网站造成安全威胁"
    "<img src='https://waf.tencent-cloud.com/images/block.png'></body></html>"
)
HUAWEI = "<html><body><h1>Access denied</h1><p>HWWAF request blocked, id 7f3c</p></body></html>"
CAPTCHA = (
    "<html><head><title>安全验证</title></head><body><form action='/check'>"
    "<p>请输入验证码后继续访问</p><img src='/code.jpg'><input name='code'></form></body></html>"
)

WALLS = [
    pytest.param(Reply(200, ALIYUN, HTML), "阿里云盾", id="aliyun-200"),
    pytest.param(Reply(521, JSL, {**HTML, "Set-Cookie": "__jsluid_s=ab12; path=/"}),
                 "cookie", id="jiasule-521-script"),
    pytest.param(Reply(403, WZWS, HTML), "360网站卫士", id="360wzws-403"),
    pytest.param(Reply(200, SAFEDOG, HTML), "安全狗", id="safedog-200"),
    pytest.param(Reply(468, SAFELINE, HTML), "长亭雷池", id="safeline-468"),
    pytest.param(Reply(403, CLOUDFLARE, HTML), "Cloudflare", id="cloudflare-403"),
    pytest.param(Reply(405, TENCENT, HTML), "腾讯云 WAF", id="tencent-405"),
    pytest.param(Reply(418, HUAWEI, HTML), "华为云 WAF", id="huawei-418"),
    pytest.param(Reply(200, CAPTCHA, HTML), "安全验证", id="captcha-form-200"),
]  # fmt: skip


@pytest.mark.parametrize("reader", ["webpage", "rss"])
@pytest.mark.parametrize(("reply", "named"), WALLS)
def test_a_firewall_page_is_blocked_never_stale(
    reader: str, reply: Reply, named: str, cal: WorkCalendar
) -> None:
    with LocalServer({"/list/": reply}) as srv:
        obs = observe_now(srv.url("/list/"), reader, item="ul.news li")
    assert obs.outcome is Outcome.blocked, obs.detail
    assert obs.detail.startswith("网站防火墙拦截（安全验证页面）") and named in obs.detail
    assert obs.artifacts[0].content  # the wall is evidence
    assert kinds_of(obs, cal) == {"blocked": Severity.warning}


@pytest.mark.parametrize("reader", ["webpage", "rss"])
def test_a_redirect_to_a_verification_page_is_blocked(reader: str, cal: WorkCalendar) -> None:
    routes = {
        "/xwdt/": Reply.redirect("/waf/security-check?return=%2Fxwdt%2F"),
        "/waf/security-check": Reply(200, "<html><body>正在检查浏览器环境…</body></html>", HTML),
    }
    with LocalServer(routes) as srv:
        obs = observe_now(srv.url("/xwdt/"), reader, item="ul.news li")
    assert obs.outcome is Outcome.blocked
    assert obs.detail.startswith("网站防火墙拦截（跳转到安全验证页面")
    assert "/waf/security-check" in obs.detail and obs.redirects
    assert kinds_of(obs, cal) == {"blocked": Severity.warning}


NEWS_WITH_CAPTCHA_FOOTER = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>政务动态_某某县人民政府</title></head><body>
<ul class="news">
<li><a href="/a/1.html">县政府召开常务会议</a><span>2026-11-23</span></li>
<li><a href="/a/2.html">关于开展网络安全验证工作的通知</a><span>2026-11-20</span></li>
<li><a href="/a/3.html">冬季供暖保障工作部署</a><span>2026-11-18</span></li>
</ul>
<div class="footer"><form>留言请输入验证码：<input name="code"><img src="/captcha.jpg"></form>
主办：某某县人民政府办公室</div></body></html>"""


def test_a_news_list_mentioning_captcha_stays_ok(cal: WorkCalendar) -> None:
    reply = Reply(200, NEWS_WITH_CAPTCHA_FOOTER, HTML)
    with LocalServer({"/zwdt/": reply}) as srv:
        obs = observe_now(srv.url("/zwdt/"), "webpage", item="ul.news li", date="span")
    assert obs.outcome is Outcome.ok, obs.detail
    assert len(obs.posts) == 3 and obs.posts[0].title == "县政府召开常务会议"
    assert "blocked" not in kinds_of(obs, cal)


def test_a_feed_whose_item_mentions_verification_stays_ok() -> None:
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>某某县</title>'
        "<link>https://www.example.gov.cn/</link><item><title>关于开展网络安全验证工作的通知</title>"
        "<link>https://www.example.gov.cn/a/9.html</link>"
        "<pubDate>Mon, 23 Nov 2026 02:00:00 GMT</pubDate></item></channel></rss>"
    )
    with LocalServer({"/feed": Reply(200, feed, RSS)}) as srv:
        obs = observe_now(srv.url("/feed"), "rss")
    assert obs.outcome is Outcome.ok and len(obs.posts) == 1


# -- unreadable --------------------------------------------------------------------------------


def test_a_feed_nested_200000_levels_is_unreadable_not_stale(cal: WorkCalendar) -> None:
    depth = 200_000
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>深</title>'
        + "<x>" * depth
        + "</x>" * depth
        + "</channel></rss>"
    )
    with LocalServer({"/feed": Reply(200, feed, RSS)}) as srv:
        obs = observe_now(srv.url("/feed"), "rss")
    assert obs.outcome is Outcome.unreadable, obs.detail
    assert obs.posts == [] and "嵌套超过 64 层" in obs.detail
    assert kinds_of(obs, cal) == {"unreadable": Severity.warning}


def test_a_selector_matching_nothing_is_unreadable(cal: WorkCalendar) -> None:
    reply = Reply(200, NEWS_WITH_CAPTCHA_FOOTER, HTML)
    with LocalServer({"/zwdt/": reply}) as srv:
        obs = observe_now(srv.url("/zwdt/"), "webpage", item="div.list-new li")
    assert obs.outcome is Outcome.unreadable
    assert obs.detail == "选择器 'div.list-new li' 未匹配任何条目"
    signals = evaluate(obs, ruleset=NATIONAL, calendar=cal, now=NOW)
    assert [(s.kind, s.title) for s in signals] == [("unreadable", "无法读取内容")]
    assert signals[0].evidence["reason"] == obs.detail
    assert KINDS["unreadable"].category_label == "暂时无法检查"


def test_an_explicitly_empty_column_is_stale_as_before(cal: WorkCalendar) -> None:
    page = "<html><body><ul class='news'></ul><div class='empty'>暂无内容</div></body></html>"
    with LocalServer({"/tzgg/": Reply(200, page, HTML)}) as srv:
        obs = observe_now(srv.url("/tzgg/"), "webpage", item="ul.news li")
    assert obs.outcome is Outcome.ok and obs.posts == []
    assert "暂无内容" in obs.detail
    assert kinds_of(obs, cal) == {"stale": Severity.veto}


def test_a_well_formed_empty_feed_is_not_shown_never_a_veto(cal: WorkCalendar) -> None:
    """An RSSHub channel without items is what its route writes when it could not read the
    platform: not the platform's word (the column above is the site's own)."""
    reply = Reply.fixture("feeds/empty_channel.xml", RSS["Content-Type"])
    with LocalServer({"/feed": reply}) as srv:
        obs = observe_now(srv.url("/feed"), "rss")
    assert obs.outcome is Outcome.unreadable and obs.posts == []
    assert "不代表账号未更新" in obs.detail
    assert kinds_of(obs, cal) == {"unreadable": Severity.warning}


# -- undated posts -----------------------------------------------------------------------------


def test_a_list_without_dates_is_undated_never_a_veto(cal: WorkCalendar) -> None:
    page = "<ul>" + "".join(f"<li><a href='/{i}'>第{i}条</a></li>" for i in range(3)) + "</ul>"
    with LocalServer({"/": Reply(200, page, HTML)}) as srv:
        obs = observe_now(srv.url("/"), "webpage", item="li")
    assert obs.outcome is Outcome.ok and len(obs.posts) == 3
    assert kinds_of(obs, cal) == {"undated": Severity.warning}
    assert KINDS["undated"].label == "无法判断更新时间"


def test_xiaohongshu_notes_without_time_are_dated_from_their_ids(cal: WorkCalendar) -> None:
    made = NOW - timedelta(days=1)
    oid = f"{int(made.timestamp()):08x}0000000000000001"
    cards = [
        {"noteCard": {"noteId": oid, "displayTitle": "初雪", "interactInfo": {"sticky": False}}},
        {"noteCard": {"noteId": f"{int(made.timestamp()) - 86400:08x}0000000000000002"}},
    ]
    posts = [xhs_post(c, NOW) for c in cards]
    assert posts[0].published_at == made.replace(microsecond=0)
    assert posts[1].published_at == made.replace(microsecond=0) - timedelta(days=1)
    obs = Observation("xhs-1", "xiaohongshu", "", NOW, Outcome.ok, posts=posts)
    assert kinds_of(obs, cal) == {}  # a day old: no finding, and certainly no veto


def test_xiaohongshu_ids_that_carry_no_time_stay_undated() -> None:
    shown = xhs_post({"noteCard": {"noteId": "not-an-object-id", "time": 1764000000000}}, NOW)
    assert shown.published_at == datetime.fromtimestamp(1764000000, UTC)  # the card's own time
    assert xhs_post({"noteCard": {"noteId": "not-an-object-id"}}, NOW).published_at is None
    assert from_object_id("00000001" + "0" * 16, now=NOW) is None  # 1970: not a real id
    ahead = f"{int((NOW + timedelta(days=3)).timestamp()):08x}" + "0" * 16
    assert from_object_id(ahead, now=NOW) is None  # from the future


@pytest.mark.parametrize(
    "relpath",
    sorted(
        str(p.relative_to(FIXTURES))
        for d in ("pages", "feeds")
        for p in (FIXTURES / d).iterdir()
        if p.is_file()
    ),
)
def test_no_fixture_page_or_feed_is_taken_for_a_wall(relpath: str) -> None:
    body = (FIXTURES / relpath).read_bytes()
    kind = "text/html" if relpath.startswith("pages") else "application/xml"
    resp = Response("http://127.0.0.1/x", "http://127.0.0.1/x", 200, {"content-type": kind}, body)
    assert recognise(resp) is None
