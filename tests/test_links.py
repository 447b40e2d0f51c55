"""Link collection and short-link resolution (against a local server: no traffic outside)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import quote

import httpx
from localserver import LocalServer, Reply

from probes.checks.commercial import classify_link, judge_post
from probes.checks.links import (
    links_in_json,
    links_in_text,
    miniprogram_link,
    post_links,
    resolve_short_links,
    unwrap,
)
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Post

T = TypeVar("T")
NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, retries=0)
BIG = 20_000_000  # bytes a landing page would send if its body were read


def big() -> Reply:
    return Reply(
        stream=lambda: (b"x" * 4096 for _ in range(BIG // 4096)),
        chunk_delay=0.001,
        headers={"Content-Type": "text/html"},
    )


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


def obs(*texts: str) -> Observation:
    posts = [Post(id=f"p{i}", published_at=NOW, text=t) for i, t in enumerate(texts)]
    return Observation("a", "weibo", "", NOW, Outcome.ok, posts=posts)


def test_text_html_and_wrappers() -> None:
    wrapped = "https://weibo.cn/sinaurl?u=" + quote(
        "https://item.taobao.com/item.htm?id=1", safe=""
    )
    text = (
        f'看<a href="{wrapped}">网页链接</a> 以及 www.example.com/a，'
        "还有 t.cn/A6abc 和 https://www.gov.cn/zhengce/。"
    )
    links = links_in_text(text)
    assert "https://item.taobao.com/item.htm?id=1" in links
    assert "http://www.example.com/a" in links
    assert "https://t.cn/A6abc" in links
    assert "https://www.gov.cn/zhengce/" in links  # the full stop is not part of it


def test_nested_wrapper_and_html_entities() -> None:
    inner = "https://weibo.cn/sinaurl?u=" + quote("https://jd.com/x", safe="")
    outer = "https://weibo.cn/sinaurl/blocked?u=" + quote(inner, safe="")
    assert unwrap(outer) == "https://jd.com/x"
    assert links_in_text('<a href="https://a.example/?x=1&amp;y=2">x</a>') == [
        "https://a.example/?x=1&y=2"
    ]


def test_json_fields_read_more_and_miniprogram_cards() -> None:
    article = {
        "msg_source_url": "https://uland.taobao.com/coupon?e=1",
        "content": '<mp-miniprogram data-miniprogram-appid="wxabc" '
        'data-miniprogram-nickname="好物商城"></mp-miniprogram>'
        '<a href="weixin://dl/business/?t=xyz">打开</a> https://wxaurl.cn/AbC',
        "url_struct": [{"long_url": "https://www.gov.cn/a", "short_url": "http://t.cn/A6x"}],
        "card": {"appid": "wx82d43fee89cdc7df", "nickname": "国家政务服务平台", "path": "p/a"},
    }
    links = links_in_json(article)
    assert "https://uland.taobao.com/coupon?e=1" in links
    assert miniprogram_link("wxabc", "好物商城") in links
    assert "weixin://dl/business/?t=xyz" in links
    assert "https://wxaurl.cn/AbC" in links
    assert "https://www.gov.cn/a" in links and "http://t.cn/A6x" in links
    assert miniprogram_link("wx82d43fee89cdc7df", "国家政务服务平台", "p/a") in links
    assert classify_link(miniprogram_link("wx82d43fee89cdc7df", "国家政务服务平台"))[0] == (
        "miniprogram_official"
    )
    assert classify_link("weixin://dl/business/?t=xyz")[0] == "weixin_business"


def test_post_links_dedupes_and_keeps_reader_links_first() -> None:
    p = Post(id="1", published_at=NOW, text="见 https://a.example/x", links=["https://b.example/"])
    assert post_links(p) == ["https://b.example/", "https://a.example/x"]


def test_resolve_with_httpx_stops_at_landing_host_and_reads_no_body() -> None:
    routes = {
        "/s/abc": Reply.redirect("/s/hop"),
        "/s/hop": Reply.redirect("https://detail.tmall.com/item.htm?id=9"),
    }
    with LocalServer(routes) as srv:
        o = obs(f"领券 {srv.url('/s/abc')}")

        async def go() -> dict:
            async with httpx.AsyncClient(trust_env=False) as client:
                return await resolve_short_links(o, client, short_hosts=frozenset({"127.0.0.1"}))

        res = run(go())
    r = res[srv.url("/s/abc")]
    assert r.final == "https://detail.tmall.com/item.htm?id=9"
    assert len(r.hops) == 2
    assert "https://detail.tmall.com/item.htm?id=9" in o.posts[0].links
    # the detector now judges the landing host, not the short link
    assert judge_post(o.posts[0]).level == "commercial"


def test_resolve_with_httpx_bounded_hops_and_body_unread() -> None:
    loop = {f"/r{i}": Reply.redirect(f"/r{i + 1}") for i in range(10)}
    with LocalServer({**loop, "/big": big()}) as srv:
        o = obs(srv.url("/r0"), srv.url("/big"))

        async def go() -> dict:
            async with httpx.AsyncClient(trust_env=False) as client:
                return await resolve_short_links(
                    o, client, max_hops=3, short_hosts=frozenset({"127.0.0.1"})
                )

        res = run(go())
        assert res[srv.url("/r0")].final is None and "3" in res[srv.url("/r0")].error
        assert res[srv.url("/big")].final == srv.url("/big")  # no redirect: itself
        assert srv.sent.get("/big", 0) < BIG // 4  # body never read to the end


def test_resolve_with_project_fetcher() -> None:
    routes = {
        "/s/xyz": Reply.redirect("/land"),
        "/land": big(),
    }
    with LocalServer(routes) as srv:
        o = obs(srv.url("/s/xyz"))

        async def go() -> dict:
            async with Fetcher(FAST) as f:
                return await resolve_short_links(o, f, short_hosts=frozenset({"127.0.0.1"}))

        res = run(go())
        assert res[srv.url("/s/xyz")].final == srv.url("/land")
        assert srv.sent.get("/land", 0) < BIG // 4


def test_unreachable_short_link_is_recorded_not_raised() -> None:
    o = obs("http://127.0.0.1:9/s/dead")

    async def go() -> dict:
        async with httpx.AsyncClient(trust_env=False, timeout=1) as client:
            return await resolve_short_links(o, client, short_hosts=frozenset({"127.0.0.1"}))

    res = run(go())
    assert res["http://127.0.0.1:9/s/dead"].final is None
    assert res["http://127.0.0.1:9/s/dead"].error


def test_a_posts_links_are_worked_out_once_and_stay_what_a_fresh_look_gives() -> None:
    """The patrol resolves short links and the detectors judge links: one working-out,
    handed on with the post (to the writer process too), never out of date."""
    import pickle

    from probes.checks.links import post_links
    from probes.model import Post

    def fresh(p: Post) -> list[str]:
        return post_links(Post(p.id, p.published_at, p.title, p.text, p.url, links=list(p.links)))

    text = "详见 https://www.gov.cn/zhengce/ 和 t.cn/A6abc 以及 <a href='//example.com/x'>链接</a>"
    post = Post("1", None, title="通知 www.example.org", text=text, links=["https://a.gov.cn/1"])
    first = post_links(post)
    assert "https://t.cn/A6abc" in first and "https://www.gov.cn/zhengce/" in first
    post.links += ["https://t.cn/A6abc", "https://shop.example.com/item?id=1"]  # resolved
    assert post_links(post) == fresh(post)
    assert "https://shop.example.com/item?id=1" in post_links(post)
    moved = pickle.loads(pickle.dumps(post))  # as the record reaches the writer
    assert post_links(moved) == fresh(post)
    post.text = "改写后的正文 https://other.gov.cn/"  # changed after: worked out again
    assert post_links(post) == fresh(post) and "https://other.gov.cn/" in post_links(post)
    del post.links[1:]
    assert post_links(post) == fresh(post)
