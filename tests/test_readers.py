"""Readers against local servers serving feeds and pages in the shapes the real ones have."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from localserver import FIXTURES, LocalServer, Reply

from probes.checks import evaluate
from probes.checks.calendar import WorkCalendar
from probes.checks.rules import BUILTIN_RULESETS
from probes.fetch import Tools
from probes.fetch.http import Fetcher, FetchError, HttpSettings
from probes.model import Observation, Outcome, Sight, Target
from probes.platforms import READERS, get_reader, observe, outcome_for_status, register
from probes.platforms.dates import from_epoch_text, parse_cn_datetime

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, backoff_seconds=0.01)
RSS = "application/rss+xml; charset=utf-8"
CAL = WorkCalendar()


def bj(*args: int) -> datetime:
    """Beijing wall-clock time as aware UTC."""
    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)  # type: ignore[misc]


def target(url: str, reader: str = "rss", **options: str) -> Target:
    return Target(account_id="acc-1", platform="weibo", reader=reader, url=url, options=options)


def observe_now(t: Target, settings: HttpSettings = FAST, at: datetime = NOW) -> Observation:
    async def main() -> Observation:
        async with Fetcher(settings) as f:
            return await observe(t, Tools(http=f), now=at)

    return asyncio.run(main())


def kinds(obs: Observation) -> list[str]:
    sigs = evaluate(obs, ruleset=BUILTIN_RULESETS["national"], calendar=CAL, now=obs.fetched_at)
    return [s.kind for s in sigs]


# -- registry and observe() ----------------------------------------------------------------


def test_builtin_readers_are_registered() -> None:
    assert {"rss", "webpage"} <= set(READERS)
    assert get_reader("rss") is READERS["rss"] and get_reader("nope") is None


def test_unknown_reader_is_an_error_not_an_exception() -> None:
    obs = observe_now(target("http://127.0.0.1:9/", reader="douyin_app"))
    assert obs.outcome is Outcome.error
    assert obs.detail == "不支持的读取方式 'douyin_app'"
    assert obs.fetched_at == NOW and obs.account_id == "acc-1"


@pytest.fixture
def temp_reader() -> Iterator[str]:
    yield "test_broken"
    READERS.pop("test_broken", None)


def test_reader_crash_becomes_an_error_observation(temp_reader: str) -> None:
    @register(temp_reader)
    async def broken(t: Target, tools: Tools) -> Observation:
        raise KeyError("data")

    obs = observe_now(target("http://127.0.0.1:9/", reader=temp_reader))
    assert obs.outcome is Outcome.error and obs.detail == "读取时发生内部错误（KeyError）"


def test_fetch_error_message_becomes_the_detail(temp_reader: str) -> None:
    @register(temp_reader)
    async def timing_out(t: Target, tools: Tools) -> Observation:
        raise FetchError("timeout", "连接超时（20 秒）", t.url)

    obs = observe_now(target("http://127.0.0.1:9/", reader=temp_reader))
    assert (obs.outcome, obs.detail) == (Outcome.error, "连接超时（20 秒）")


@pytest.mark.parametrize("reader", ["douyin", "kuaishou"])
def test_a_browser_reader_without_a_browser_says_so(reader: str) -> None:
    """No pool in the tools: an error naming the missing [browser], not a default Chromium."""
    key = {"kuaishou": "live"}.get(reader, "www")
    t = Target("acc-1", reader, reader, handle="12345", origins={key: "http://127.0.0.1:9"})
    obs = observe_now(t)
    assert (obs.outcome, obs.detail) == (Outcome.error, "未配置浏览器（[browser]），无法读取该平台")
    assert obs.fetched_at == NOW and obs.artifacts == []


@pytest.mark.parametrize("reader", ["toutiao", "xiaohongshu"])
def test_an_http_first_reader_without_a_browser_tells_what_http_answered(reader: str) -> None:
    """Read over plain HTTP first (PlatformSpec.http_first): with no browser to fall back
    on, the check says what the HTTP request met — here a refused connection, our fetch's
    problem (暂时无法检查) — not that a browser is missing, and never "no posts"."""
    t = Target("acc-1", reader, reader, handle="12345", origins={"www": "http://127.0.0.1:9"})
    obs = observe_now(t)
    assert obs.outcome is Outcome.error
    assert obs.detail == "无法连接 127.0.0.1：服务器拒绝连接"
    assert obs.posts == []


def test_a_slow_feed_is_an_error_with_the_timeout_message() -> None:
    with LocalServer({"/feed": Reply(body="<rss/>", delay=5)}) as srv:
        slow = HttpSettings(timeout_seconds=0.2, retries=0)
        obs = observe_now(target(srv.url("/feed")), slow)
    assert obs.outcome is Outcome.error and "响应超时（0.2 秒）" in obs.detail
    assert obs.artifacts == []


def test_redirect_loop_observation_keeps_the_hops() -> None:
    routes = {"/feed": Reply.redirect("/login"), "/login": Reply.redirect("/feed")}
    with LocalServer(routes) as srv:
        obs = observe_now(target(srv.url("/feed")))
    assert obs.outcome is Outcome.error and obs.detail.startswith("重定向循环")
    assert [h.status for h in obs.redirects] == [302, 302]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, None), (204, None), (404, Outcome.not_found), (410, Outcome.not_found),
     (401, Outcome.blocked), (403, Outcome.blocked), (412, Outcome.blocked),
     (429, Outcome.blocked), (432, Outcome.blocked), (500, Outcome.error),
     (503, Outcome.error), (302, Outcome.error), (418, Outcome.error)],
)  # fmt: skip
def test_outcome_for_status(status: int, outcome: Outcome | None) -> None:
    assert outcome_for_status(status) is outcome


@pytest.mark.parametrize(
    ("status", "outcome", "hits"),
    [(404, Outcome.not_found, 1), (410, Outcome.not_found, 1), (403, Outcome.blocked, 1),
     (432, Outcome.blocked, 1), (500, Outcome.error, 1), (503, Outcome.error, 3)],
)  # fmt: skip
def test_http_statuses_map_to_outcomes(status: int, outcome: Outcome, hits: int) -> None:
    body = "<html><body>访问受限</body></html>"
    with LocalServer({"/feed": Reply(status, body, {"Content-Type": "text/html"})}) as srv:
        obs = observe_now(target(srv.url("/feed")))
        assert srv.hits["/feed"] == hits  # only 503 is retried
    assert obs.outcome is outcome
    assert obs.status_code == status and f"HTTP {status}" in obs.detail
    assert obs.artifacts[0].content == body.encode()  # the answer is evidence too


# -- rss -----------------------------------------------------------------------------------


def test_rsshub_weibo_feed() -> None:
    with LocalServer(
        {"/weibo/user/5432109876": Reply.fixture("feeds/weibo_rsshub.xml", RSS)}
    ) as srv:
        obs = observe_now(target(srv.url("/weibo/user/5432109876")))
    assert obs.outcome is Outcome.ok and obs.detail == ""
    assert obs.profile.name == "平安某市的微博"
    assert obs.profile.bio == "某市公安局官方微博"  # RSSHub's " - Powered by RSSHub" dropped
    assert obs.profile.avatar_url and obs.profile.avatar_url.startswith("https://tvax2.sinaimg.cn/")

    first, repost, ad = obs.posts
    assert first.id == "https://weibo.com/5432109876/P3xAbCdEf"
    assert first.url == first.id
    assert first.published_at == datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    assert first.text.startswith("#冬季防火# 【天干物燥 小心火烛】") and "<" not in first.text
    assert "https://www.mps.gov.cn/n2254314/n6409334/c9999999/content.html" in first.links
    assert first.links[0] == first.url
    assert not first.repost and not first.pinned

    assert repost.repost and repost.title.startswith("转发微博 - 转发 @中国警方在线")
    assert "https://weibo.cn/sinaurl?u=https%3A%2F%2Fwww.12321.cn%2F" in repost.links

    assert not ad.repost
    assert "https://s.click.taobao.com/t?e=m%3D2%26s%3DabcdEFgh" in ad.links
    assert ad.published_at == bj(2026, 11, 19, 1, 2, 44)


def test_feed_observation_keeps_evidence() -> None:
    routes = {
        "/u/1": Reply.redirect("/weibo/user/1", 301),
        "/weibo/user/1": Reply.fixture("feeds/weibo_rsshub.xml", RSS),
    }
    with LocalServer(routes) as srv:
        obs = observe_now(target(srv.url("/u/1")))
        assert obs.final_url == srv.url("/weibo/user/1")
        assert [(h.url, h.status) for h in obs.redirects] == [(srv.url("/u/1"), 301)]
    assert obs.status_code == 200 and obs.elapsed_ms >= 0 and obs.fetched_at == NOW
    (art,) = obs.artifacts
    assert art.kind == "feed" and art.media_type == "application/rss+xml"
    assert art.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_atom_feed_of_a_government_site() -> None:
    reply = Reply.fixture("feeds/gov_site.atom", "application/atom+xml")
    with LocalServer({"/zwdt/atom.xml": reply}) as srv:
        obs = observe_now(target(srv.url("/zwdt/atom.xml")))
    assert obs.outcome is Outcome.ok
    assert obs.profile.name == "某某县人民政府 - 政务动态"
    assert obs.profile.bio == "某某县人民政府门户网站 政务动态栏目"
    assert obs.profile.avatar_url == "https://www.mouxian.gov.cn/images/logo.png"
    meeting, notice, mailbox = obs.posts
    assert meeting.id == "tag:mouxian.gov.cn,2026:zwdt-1001"
    assert meeting.published_at == bj(2026, 11, 23, 9, 30)
    assert "研究部署冬季安全生产工作" in meeting.text  # content preferred over summary
    # relative link in the content resolved against the entry
    assert "https://www.mouxian.gov.cn/zwgk/202611/P020261123_1001.pdf" in meeting.links
    assert notice.published_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # updated only
    assert mailbox.published_at is None


def test_rss1_feed_with_dc_date() -> None:
    with LocalServer(
        {"/tzgg.rdf": Reply.fixture("feeds/gov_site.rdf", "application/rdf+xml")}
    ) as srv:
        obs = observe_now(target(srv.url("/tzgg.rdf")))
    (post,) = obs.posts
    assert post.title == "某某县2026年冬季征兵公告"
    assert post.published_at == bj(2026, 11, 22, 16, 20)


def test_cms_feed_declared_gb2312_with_zoneless_and_cst_dates() -> None:
    """Chinese CMS feeds: gb2312 declared but GBK used; local times without zone; "CST"."""
    with LocalServer({"/rss.xml": Reply.fixture("feeds/cms_gb2312.xml", "text/xml")}) as srv:
        obs = observe_now(target(srv.url("/rss.xml")))
    assert obs.outcome is Outcome.ok
    meeting, fire = obs.posts
    assert "副市长王堃出席并讲话" in meeting.text
    assert meeting.published_at == bj(2026, 11, 20, 9, 30)
    assert fire.published_at == bj(2026, 11, 9, 16, 0)  # CST = China Standard Time


def test_valid_feed_with_no_items_is_not_shown_never_stale() -> None:
    """RSSHub writes a well-formed channel named after the account even when its route could
    not read the platform (DIYgod/RSSHub#1786, tests/fixtures/feeds/SOURCES.md): an empty
    feed is not the platform's word."""
    with LocalServer({"/feed": Reply.fixture("feeds/empty_channel.xml", RSS)}) as srv:
        obs = observe_now(target(srv.url("/feed")))
    assert obs.outcome is Outcome.unreadable and obs.posts == []
    assert obs.detail == "订阅源没有任何条目（RSSHub 等转换服务未能读取该平台，不代表账号未更新）"
    assert obs.profile.name == "某某乡人民政府的微博"
    assert kinds(obs) == ["unreadable"]


def test_a_feed_whose_items_are_old_is_stale() -> None:
    """The honest twin: a feed with items is judged on them (one item, 30 days old)."""
    rdf = Reply.fixture("feeds/gov_site.rdf", "application/rdf+xml")
    with LocalServer({"/tzgg.rdf": rdf}) as srv:
        obs = observe_now(target(srv.url("/tzgg.rdf")), at=bj(2026, 12, 22, 16, 20))
    assert obs.outcome is Outcome.ok and len(obs.posts) == 1
    assert kinds(obs) == ["stale"]


@pytest.mark.parametrize(
    "reply",
    [
        Reply.fixture("feeds/truncated.xml", RSS),
        Reply.fixture("pages/tzgg_gbk_meta.html", "text/html"),
        Reply(body=b"\x00\x01\x02garbage\xff\xfe", headers={"Content-Type": "application/xml"}),
        Reply(body=b"", headers={"Content-Type": "application/xml"}),
        Reply(body='{"ok": -100, "url": "https://passport.weibo.com/"}'),
    ],
    ids=["truncated-before-items", "html-page", "garbage", "empty", "json"],
)
def test_body_that_is_not_a_feed_is_unreadable(reply: Reply) -> None:
    with LocalServer({"/feed": reply}) as srv:
        obs = observe_now(target(srv.url("/feed")))
    assert obs.outcome is Outcome.unreadable  # fetched, but no post could be read: not stale
    assert obs.detail == "不是有效的 RSS/Atom 订阅源"
    assert obs.status_code == 200


def test_feed_cut_inside_an_item_keeps_what_was_read() -> None:
    body = open_fixture("feeds/weibo_rsshub.xml")
    cut = body[: body.index(b"<pubDate>Sun, 22 Nov")]
    with LocalServer({"/feed": Reply(body=cut, headers={"Content-Type": RSS})}) as srv:
        obs = observe_now(target(srv.url("/feed")))
    assert obs.outcome is Outcome.ok and len(obs.posts) == 2
    assert obs.posts[0].published_at == datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    assert "不完整" in obs.detail


def open_fixture(relpath: str) -> bytes:
    return (FIXTURES / relpath).read_bytes()


# -- webpage -------------------------------------------------------------------------------

TZGG = {"item": "ul.news-list > li", "date": "span.date", "pinned": "span.top"}


def test_webpage_gbk_list_with_an_old_pinned_item() -> None:
    reply = Reply.fixture("pages/tzgg_gbk_meta.html", "text/html")
    with LocalServer({"/tzgg/": reply}) as srv:
        obs = observe_now(target(srv.url("/tzgg/"), reader="webpage", **TZGG))
        base = srv.base
    assert obs.outcome is Outcome.ok and obs.detail == ""
    pinned, fresh, older, undated = obs.posts
    assert pinned.pinned and pinned.published_at == bj(2025, 6, 1)
    assert pinned.title == "关于公布某某市政务新媒体账号名单的公告（长期有效）"  # full @title
    assert not fresh.pinned and fresh.published_at == bj(2026, 11, 23)
    assert fresh.url == f"{base}/tzgg/202611/t20261123_101.html"  # resolved against the page
    assert fresh.id == fresh.url
    assert older.title == "副市长王堃带队检查燃气安全"
    assert older.url == f"{base}/xxgk/202611/t20261120_99.html"
    assert undated.published_at is None and undated.url == "" and undated.id
    (art,) = obs.artifacts
    assert art.kind == "page" and art.media_type == "text/html"


def test_webpage_pinned_by_text_alone() -> None:
    reply = Reply.fixture("pages/tzgg_gbk_meta.html", "text/html")
    with LocalServer({"/tzgg/": reply}) as srv:
        obs = observe_now(target(srv.url("/tzgg/"), reader="webpage", item="ul.news-list li"))
    assert [p.pinned for p in obs.posts] == [True, False, False, False]


def test_webpage_without_charset_and_date_in_the_item_text() -> None:
    reply = Reply.fixture("pages/zwdt_gbk_nometa.html", "text/html")
    with LocalServer({"/zwdt/": reply}) as srv:
        obs = observe_now(target(srv.url("/zwdt/"), reader="webpage", item="table.list tr.row"))
    assert [p.published_at for p in obs.posts] == [
        bj(2026, 11, 23),
        bj(2026, 11, 19),
        bj(2026, 11, 12),
    ]
    assert obs.posts[0].title == "县委常委会召开会议传达学习上级会议精神"


def test_webpage_relative_dates_base_href_and_pinned_selector() -> None:
    reply = Reply.fixture("pages/xwzx_utf8.html", "text/html; charset=utf-8")
    options = {"item": "article.card", "date": ".meta time, .meta .when", "pinned": ".icon-top"}
    with LocalServer({"/xwzx/": reply}) as srv:
        obs = observe_now(target(srv.url("/xwzx/"), reader="webpage", **options))
    top, fresh, yesterday = obs.posts
    assert top.pinned and top.published_at == bj(2024, 3, 15, 8, 0)  # <time datetime>
    assert top.url == "https://www.mouqu.gov.cn/xwzx/qxdt/2024/0315/1.html"  # <base href>
    assert not fresh.pinned and fresh.published_at == datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert yesterday.published_at == bj(2026, 11, 23, 18, 0)
    assert yesterday.url == "https://mp.weixin.qq.com/s/AbCdEfGh123"


def test_webpage_date_format_option() -> None:
    page = """<ul><li><a href="/a/1.html">通知一</a> <em>23/11/2026</em></li>
              <li><a href="/a/2.html">通知二</a> <em>(02/11/2026)</em></li></ul>"""
    reply = Reply(body=page, headers={"Content-Type": "text/html; charset=utf-8"})
    with LocalServer({"/": reply}) as srv:
        obs = observe_now(
            target(srv.url("/"), reader="webpage", item="li", date="em", date_format="%d/%m/%Y")
        )
    assert [p.published_at for p in obs.posts] == [bj(2026, 11, 23), bj(2026, 11, 2)]


def test_webpage_broken_selector_is_unreadable_with_a_detail() -> None:
    reply = Reply.fixture("pages/tzgg_gbk_meta.html", "text/html")
    with LocalServer({"/tzgg/": reply}) as srv:
        obs = observe_now(target(srv.url("/tzgg/"), reader="webpage", item="div.newslist li"))
    assert obs.outcome is Outcome.unreadable and obs.posts == []
    assert obs.detail == "选择器 'div.newslist li' 未匹配任何条目"
    assert obs.artifacts  # the page is kept, so the operator can see what changed


def test_webpage_dates_in_unix_seconds_and_attributes() -> None:
    """Album-like lists: the time as unix seconds in the text, or only in a
    ``data-create_time`` attribute; links and titles in ``data-link``/``data-title``."""
    page = """<ul>
      <li data-link="/a/1.html" data-title="通知一"><span class="t">1795482000</span></li>
      <li data-link="/a/2.html" data-title="通知二" data-create_time="1794722400">
        <span class="t"></span></li>
      <li data-link="/a/3.html" data-title="通知三"><span class="t">1795482000000</span></li>
      <li data-link="/a/4.html" data-title="编号"><span class="t">2247485001</span></li></ul>"""
    reply = Reply(body=page, headers={"Content-Type": "text/html; charset=utf-8"})
    with LocalServer({"/": reply}) as srv:
        obs = observe_now(target(srv.url("/"), reader="webpage", item="li", date=".t"))
        base = srv.base
    assert [(p.title, p.published_at) for p in obs.posts] == [
        ("通知一", NOW - timedelta(hours=5)),
        ("通知二", NOW - timedelta(days=9)),
        ("通知三", NOW - timedelta(hours=5)),  # milliseconds
        ("编号", None),  # ten digits that would be 2041: an id, not a time
    ]
    assert obs.posts[0].url == f"{base}/a/1.html"


def test_webpage_empty_marker_is_the_sites_word() -> None:
    page = "<html><body><ul class='news'></ul><p>暂无数据</p></body></html>"
    with LocalServer({"/": Reply(body=page, headers={"Content-Type": "text/html"})}) as srv:
        obs = observe_now(target(srv.url("/"), reader="webpage", item="ul.news li"))
    assert obs.outcome is Outcome.ok and obs.sight is Sight.none and obs.posts == []
    assert kinds(obs) == ["stale"]


def test_webpage_items_without_any_date_are_flagged() -> None:
    page = "<ul><li><a href='/1'>一</a></li><li><a href='/2'>二</a></li></ul>"
    with LocalServer({"/": Reply(body=page, headers={"Content-Type": "text/html"})}) as srv:
        obs = observe_now(target(srv.url("/"), reader="webpage", item="li"))
    assert obs.outcome is Outcome.ok and len(obs.posts) == 2
    assert obs.detail == "选择器 'li' 匹配 2 个条目，但都读不出日期"


def test_webpage_missing_item_option_is_an_error_without_fetching() -> None:
    with LocalServer({"/": Reply(body="<p>x</p>")}) as srv:
        obs = observe_now(target(srv.url("/"), reader="webpage"))
        assert srv.hits == {}
    assert obs.outcome is Outcome.error and obs.detail == "网页读取缺少参数 item"


def test_webpage_invalid_selector_syntax_is_an_error() -> None:
    with LocalServer({"/": Reply(body="<p>x</p>")}) as srv:
        obs = observe_now(target(srv.url("/"), reader="webpage", item="li[[["))
    assert obs.outcome is Outcome.error and obs.detail == "选择器 'li[[[' 无效"


def test_webpage_not_found() -> None:
    with LocalServer() as srv:
        obs = observe_now(target(srv.url("/gone/"), reader="webpage", item="li"))
    assert obs.outcome is Outcome.not_found and obs.detail == "页面不存在（HTTP 404）"


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24", bj(2026, 11, 24)),
        ("2026/11/24", bj(2026, 11, 24)),
        ("2026.11.24", bj(2026, 11, 24)),
        ("2026年11月24日", bj(2026, 11, 24)),
        ("2026-11-24 09:30", bj(2026, 11, 24, 9, 30)),
        ("2026年11月24日 09:30:15", bj(2026, 11, 24, 9, 30, 15)),
        ("发布时间：2026-11-20T09:30:00+08:00", bj(2026, 11, 20, 9, 30)),
        ("2026-11-20T01:30:00Z", bj(2026, 11, 20, 9, 30)),
        ("２０２６－１１－２０　０９：３０", bj(2026, 11, 20, 9, 30)),  # full-width
        ("11-24", bj(2026, 11, 24)),
        ("11月20日 08:00", bj(2026, 11, 20, 8, 0)),
        ("12-25", bj(2025, 12, 25)),  # would be in the future: last year
        ("12月31日", bj(2025, 12, 31)),
        ("今天 09:30", bj(2026, 11, 24, 9, 30)),
        ("昨天 18:00", bj(2026, 11, 23, 18, 0)),
        ("前天 08:05", bj(2026, 11, 22, 8, 5)),
        ("3小时前", bj(2026, 11, 24, 11, 0)),
        ("5分钟前", bj(2026, 11, 24, 13, 55)),
        ("2天前", bj(2026, 11, 22, 14, 0)),
        ("刚刚", NOW),
        ("[置顶] 2024-01-01 关于印发方案的通知 2026-11-20", bj(2026, 11, 20)),  # last date wins
        ("2026-02-30", None),
        ("2026-11-24 25:00", None),
        ("刚刚，我市召开全市大会", None),  # a headline, not a date
        ("今天是个好日子", None),
        ("暂无日期", None),
        ("", None),
    ],
)
def test_parse_cn_datetime(text: str, expected: datetime | None) -> None:
    assert parse_cn_datetime(text, now=NOW) == expected


def test_unix_seconds_as_text() -> None:
    assert from_epoch_text("1795482000", now=NOW) == NOW - timedelta(hours=5)
    assert from_epoch_text(" 1795482000000 ", now=NOW) == NOW - timedelta(hours=5)
    for text in ("0946684799", "1795600000", "2247485001", "17954820", "1795482000.5", ""):
        assert from_epoch_text(text, now=NOW) is None, text  # before 2000, ahead, not a time


def test_parse_cn_datetime_year_rollover_in_january() -> None:
    jan = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
    assert parse_cn_datetime("12-30 20:00", now=jan) == bj(2026, 12, 30, 20, 0)
    assert parse_cn_datetime("01-01", now=jan) == bj(2027, 1, 1)


def test_parse_cn_datetime_other_zone() -> None:
    assert parse_cn_datetime("2026-11-24 09:30", now=NOW, tz="UTC") == datetime(
        2026, 11, 24, 9, 30, tzinfo=UTC
    )
