"""Pages built to stall the HTML parser (issue 33): refused before parsing, told as
``unreadable`` ("页面结构异常…"), through every reader that parses HTML, and the patrol goes
on. ``timeout`` marks are hang guards, not timings (``bench/pages.py`` has the figures).

The hostile shapes are lexbor's costly paths (``probes/fetch/bounds.py`` says each one and
what it cost); their honest twins are pages people write: deep-ish, sloppy, long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from localserver import FIXTURES, LocalServer, Reply, Request
from simulator import NOW, Simulator

from probes.fetch import Tools
from probes.fetch.bounds import (
    MAX_DEPTH,
    TOO_DEEP,
    TOO_MANY_ATTRIBUTES,
    TOO_MANY_OPTIONS,
    TOO_MANY_REBUILT,
    TooComplex,
    judge,
    parse_html,
)
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Target
from probes.platforms import observe
from probes.platforms.webpage import extract_links, strip_html

FAST = HttpSettings(timeout_seconds=5.0, connect_timeout_seconds=1.0, retries=0)
HTML = "text/html; charset=utf-8"
LEVELS = 200_000  # the page: 2.2 MB of <div>, under the 5 MB body cap


def nested(levels: int = LEVELS, tag: str = "div") -> str:
    return f"<{tag}>" * levels + "深处" + f"</{tag}>" * levels


def observe_now(t: Target, routes: dict) -> Observation:
    with LocalServer(routes) as srv:
        t = replace(
            t,
            url=t.url.replace("BASE", srv.base),
            options={k: v.replace("BASE", srv.base) for k, v in t.options.items()},
            origins={k: v.replace("BASE", srv.base) for k, v in t.origins.items()},
        )

        async def main() -> Observation:
            async with Fetcher(FAST) as f:
                return await observe(t, Tools(f), now=NOW)

        return asyncio.run(main())


# -- the judge: each costly shape refused, pages people write read --------------------------


def _distinct(fmt: str, n: int) -> str:
    return "".join(fmt.format(i=i) for i in range(n))


HOSTILE: dict[str, tuple[Callable[[], str], str]] = {
    "nested divs": (lambda: nested(), TOO_DEEP),
    "unclosed divs": (lambda: "<div>" * LEVELS, TOO_DEEP),
    "lists in lists": (lambda: "<ul><li>" * 20_000, TOO_DEEP),
    "tables in cells": (lambda: "<table><tr><td>" * 20_000, TOO_DEEP),
    "span does not close a div": (lambda: "<span><div></span>" * 20_000, TOO_DEEP),
    # a block's end tag leaves each <b> open for the next text to rebuild: 5,000 took 19 s
    "rebuilt formatting": (lambda: _distinct("<div><b id={i}></div>", 5_000), TOO_DEEP),
    "rebuilt within the depth": (
        lambda: "<div>" + _distinct("<b id={i}>", 400) + "</div>" + "<p>x</p>" * 1_000,
        TOO_MANY_REBUILT,
    ),
    "a in a in b": (lambda: _distinct("<a><b id={i}>", 5_000), TOO_DEEP),
    "options in one select": (lambda: "<select>" + "<option>" * 10_000, TOO_MANY_OPTIONS),
    "attributes of one tag": (
        lambda: "<div" + _distinct(" a{i}", 20_000) + ">",
        TOO_MANY_ATTRIBUTES,
    ),
    "nesting hidden from a naive quote reader": (
        lambda: '<a title=x">' + "<div>" * 5_000 + '<i title=">',
        TOO_DEEP,
    ),
    "divs in an SVG title": (lambda: "<svg><title>" + "<div>" * 5_000, TOO_DEEP),
    "SVG self-closing with a slash in a value": (lambda: "<svg>" + "<g a=x/>" * 5_000, TOO_DEEP),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shape", HOSTILE)
def test_each_costly_shape_is_refused_before_parsing(shape: str) -> None:
    make, why = HOSTILE[shape]
    text = make()
    assert judge(text) == why
    with pytest.raises(TooComplex) as e:
        parse_html(text)
    assert e.value.detail == why


def _gov_list_page(items: int) -> str:
    """A 政务公开 column as old CMSs write it: table layout, unclosed <td> and <font>,
    <p> never closed, dates in spans, a script with markup in strings, a long <select> of
    counties (all 2,844 county-level divisions would fit)."""
    rows = "".join(
        f'<tr><td class="t"><font color="#333"><a href="/art/{i}.html" '
        f'title="关于第{i}项工作的通知">关于第{i}项工作的通知</a>'
        f'<td><span class="date">2026-11-{1 + i % 28:02d}</span>'
        for i in range(items)
    )
    script = "<script>var t = '" + "<div><b>" * 2_000 + "';</script>"
    counties = "".join(f"<option value={i}>县{i}" for i in range(2_900))
    return (
        "<html><head><title>通知公告</title>" + script + "</head><body>"
        + "<div class=wrap><div class=main>" + "<p>说明文字" * 300
        + '<table width="100%">' + rows + "</table>"
        + "<!-- " + "<div>" * 5_000 + " -->"
        + "<select name=county>" + counties + "</select>"
        + "<div>" * 200 + "页脚" + "</div>" * 200
        + "</div></div></body></html>"
    )  # fmt: skip


def test_pages_people_write_are_read_whole() -> None:
    """The honest twins: fixtures captured from government sites, a long sloppy list page,
    and nesting a designer might do (200 levels) all pass and parse as before."""
    pages = [p.read_bytes().decode("utf-8", "replace") for p in (FIXTURES / "pages").glob("*")]
    pages.append(_gov_list_page(3_000))
    pages.append(nested(MAX_DEPTH - 10))
    for text in pages:
        assert judge(text) == ""
        assert parse_html(text).css_first("body") is not None
    tree = parse_html(_gov_list_page(3_000))
    assert len(tree.css("a[href]")) == 3_000 and len(tree.css("option")) == 2_900


def test_fragments_go_through_the_same_door() -> None:
    """strip_html and extract_links (RSS descriptions, Weibo posts) refuse the same shapes."""
    for fn in (strip_html, lambda t: extract_links(t, "https://a.gov.cn/")):
        with pytest.raises(TooComplex):
            fn(nested(100_000))
    assert strip_html("<p>冬季<b>防火</b></p>") == "冬季 防火"


# -- every reader that parses HTML -------------------------------------------------------------


def _webpage_target() -> Target:
    return Target(
        account_id="web-1", platform="website", reader="webpage", url="BASE/list.html",
        options={"item": "ul.news li", "date": "span"},
    )  # fmt: skip


@pytest.mark.timeout(120)
def test_a_deep_list_page_is_unreadable_and_its_twin_is_read() -> None:
    deep = f'<ul class="news"><li><a href="/1">通知</a><span>2026-11-20</span></li></ul>{nested()}'
    obs = observe_now(
        _webpage_target(), {"/list.html": Reply(body=deep, headers={"Content-Type": HTML})}
    )
    assert (obs.outcome, obs.detail) == (Outcome.unreadable, TOO_DEEP)
    assert not obs.posts
    twin = deep.replace(nested(), nested(100))
    obs = observe_now(
        _webpage_target(), {"/list.html": Reply(body=twin, headers={"Content-Type": HTML})}
    )
    assert obs.outcome is Outcome.ok and [p.title for p in obs.posts] == ["通知"]


def _feed(description: str) -> bytes:
    day = (NOW - timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>示例发布</title><link>https://a.gov.cn/</link>"
        f"<item><title>冬季防火</title><link>https://a.gov.cn/1</link><pubDate>{day}</pubDate>"
        f"<description><![CDATA[{description}]]></description></item></channel></rss>"
    ).encode()


@pytest.mark.timeout(120)
def test_a_feed_item_nesting_deep_is_unreadable_and_its_twin_is_read() -> None:
    """The issue's item: 1.1 MB of nesting in one description cost 52.6 s in strip_html."""
    t = Target(account_id="rss-1", platform="weibo", reader="rss", url="BASE/feed.xml")
    rss = "application/rss+xml; charset=utf-8"
    obs = observe_now(t, {"/feed.xml": Reply(body=_feed(nested()), headers={"Content-Type": rss})})
    assert (obs.outcome, obs.detail) == (Outcome.unreadable, TOO_DEEP)
    obs = observe_now(
        t, {"/feed.xml": Reply(body=_feed(nested(50)), headers={"Content-Type": rss})}
    )
    assert obs.outcome is Outcome.ok and obs.posts[0].text == "深处"


@pytest.mark.timeout(120)
def test_a_deep_wechat_article_is_unreadable_alone_or_behind_a_list() -> None:
    """mp.weixin.qq.com/s/… as the simulator serves it (tests/simulator), its body nested."""
    sim = Simulator()
    routes = sim.routes()
    real = routes["/s/AbCdEf123"](Request("GET", "/s/AbCdEf123", "", {}, 1))
    page = real.body.replace("<p>冬季防火，人人有责。</p>", nested())
    routes["/s/AbCdEf123"] = Reply(body=page, headers={"Content-Type": HTML})
    single = Target(
        account_id="wx-1", platform="wechat", reader="wechat",
        url="https://mp.weixin.qq.com/s/AbCdEf123", origins={"mp": "BASE"},
    )  # fmt: skip
    obs = observe_now(single, dict(routes))
    assert (obs.outcome, obs.detail) == (Outcome.unreadable, TOO_DEEP)
    listed = Target(
        account_id="wx-1", platform="wechat", reader="wechat", url="",
        options={"list_url": "BASE/wx/feed.xml"}, origins={"mp": "BASE"},
    )  # fmt: skip
    obs = observe_now(listed, dict(routes))
    assert (obs.outcome, obs.detail) == (Outcome.unreadable, TOO_DEEP)


@dataclass
class _DeepWeibo(Simulator):
    """The simulator's Weibo, one post of whose ``text`` (HTML, as the container API sends
    it) nests 200,000 levels."""

    def _weibo_cards(self, uid: str) -> list[dict]:
        cards = super()._weibo_cards(uid)
        cards[1]["mblog"]["text"] = nested()
        return cards


@pytest.mark.timeout(120)
def test_a_deep_weibo_post_is_unreadable() -> None:
    t = Target(
        account_id="wb-1", platform="weibo", reader="weibo", url="https://weibo.com/u/1000",
        origins={"m": "BASE", "www": "BASE", "passport": "BASE"},
    )  # fmt: skip
    obs = observe_now(t, _DeepWeibo().routes())
    assert (obs.outcome, obs.detail) == (Outcome.unreadable, TOO_DEEP)
    obs = observe_now(t, Simulator().routes())
    assert obs.outcome is Outcome.ok and len(obs.posts) == 3


# -- under `xuncha run`: the patrol goes on -----------------------------------------------------


@pytest.mark.timeout(240)
def test_the_patrol_checks_every_other_account_while_a_hostile_page_is_refused(
    tmp_path: Path,
) -> None:
    """Under ``xuncha run`` the hostile page is one unreadable check among many: every other
    account is checked and recorded, and the daemon stops cleanly (before, the parse held
    the probe loop for minutes)."""
    from monitor.demo.platform import Item, SimulatedPlatform, rss_feed
    from monitor.demo.receivers import WebhookSink
    from tests.conftest import add_account, add_unit, make_settings, open_app
    from tests.test_daemon import query, start, stop, wait_until, write_config

    platform = SimulatedPlatform().start()
    try:
        with WebhookSink() as sink:
            now = datetime.now(UTC)
            app = open_app(make_settings(tmp_path))
            add_unit(app, "u1", "青溪县人民政府办公室", channels=["@duty"])
            platform.add("/deep.html", nested().encode(), HTML)
            platform.add("/deep.xml", _feed(nested()), "application/rss+xml")
            add_account(
                app,
                "deep-page",
                "u1",
                f"{platform.base_url}/deep.html",
                platform="website",
                reader="webpage",
                options={"item": "li"},
            )
            add_account(app, "deep-feed", "u1", f"{platform.base_url}/deep.xml")  # fmt: skip
            for i in range(12):
                items = [Item(f"第{i}号账号的消息", now - timedelta(hours=1))]
                platform.add(f"/f{i}.xml", rss_feed(f"账号{i}", f"https://weibo.com/{i}", items),
                             "application/rss+xml")  # fmt: skip
                add_account(app, f"acc{i:02d}", "u1", f"{platform.base_url}/f{i}.xml")
            app.close()
            cfg = write_config(tmp_path, sink.url.replace("http://", "json://", 1))
            db = tmp_path / "xuncha.db"
            proc = start(cfg, tmp_path / "run.log")
            try:
                seen = "select count(distinct account_id) from snapshot"
                wait_until(lambda: query(db, seen)[0][0] >= 14, 180, "every account checked", proc)
            finally:
                assert stop(proc) == 0
    finally:
        platform.stop()
    seen = query(db, "select account_id, outcome, detail from snapshot order by id")
    rows = {account: outcome for account, outcome, _ in seen}  # each account's last look
    assert rows.pop("deep-page") == rows.pop("deep-feed") == "unreadable"
    assert set(rows.values()) == {"ok"} and len(rows) == 12, seen
    details = {d for (d,) in query(db, "select detail from snapshot where outcome='unreadable'")}
    assert details == {TOO_DEEP}
    assert "Traceback" not in (tmp_path / "run.log").read_text(encoding="utf-8", errors="replace")
