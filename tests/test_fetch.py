"""The HTTP client against real local servers: hostile answers, retries, evidence of hops."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import zlib
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from localserver import FIXTURES, LocalServer, Reply, Request, self_signed_cert

from probes.fetch.http import (
    Fetcher,
    FetchError,
    HttpSettings,
    Response,
    decode_text,
    normalize_charset,
    parse_retry_after,
)

T = TypeVar("T")

FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, backoff_seconds=0.01)


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


async def fetch(url: str, settings: HttpSettings = FAST, **kw: object) -> Response:
    async with Fetcher(settings) as f:
        return await f.get(url, **kw)  # type: ignore[arg-type]


def fetch_error(url: str, settings: HttpSettings = FAST) -> FetchError:
    with pytest.raises(FetchError) as info:
        run(fetch(url, settings))
    return info.value


def settings(**kw: object) -> HttpSettings:
    return HttpSettings(**{**FAST.__dict__, **kw})  # type: ignore[arg-type]


# -- charsets ------------------------------------------------------------------------------


def test_header_charset_decodes_utf8() -> None:
    body = "<p>政务公开</p>".encode()
    with LocalServer(
        {"/": Reply(body=body, headers={"Content-Type": "text/html; charset=UTF-8"})}
    ) as srv:
        r = run(fetch(srv.url("/")))
    assert (r.status, r.encoding, r.text) == (200, "utf-8", "<p>政务公开</p>")
    assert r.headers["content-type"] == "text/html; charset=UTF-8"  # keys lower-case


def test_gbk_page_with_meta_charset_and_no_header_charset() -> None:
    reply = Reply.fixture("pages/tzgg_gbk_meta.html", "text/html")
    with LocalServer({"/tzgg/": reply}) as srv:
        r = run(fetch(srv.url("/tzgg/")))
    assert r.encoding == "gb18030"
    assert "通知公告_某某市人民政府" in r.text
    assert "王堃" in r.text  # 堃 is GBK but not GB2312: decoding must use the superset


def test_gbk_page_with_no_charset_anywhere_is_detected() -> None:
    reply = Reply.fixture("pages/zwdt_gbk_nometa.html", "text/html")
    with LocalServer({"/zwdt/": reply}) as srv:
        r = run(fetch(srv.url("/zwdt/")))
    assert r.encoding == "gb18030"
    assert "县委常委会召开会议传达学习上级会议精神" in r.text


def test_wrong_header_charset_falls_through_to_the_page_declaration() -> None:
    body = (FIXTURES / "pages/tzgg_gbk_meta.html").read_bytes()
    text, codec = decode_text(body, "text/html; charset=utf-8")  # a lie Chinese servers tell
    assert codec == "gb18030" and "森林防火" in text


def test_short_gbk_text_prefers_gb18030_over_lookalikes() -> None:
    text, codec = decode_text("<p>政务公开</p>".encode("gbk"), "text/html")
    assert (text, codec) == ("<p>政务公开</p>", "gb18030")


def test_xml_declaration_is_read_for_feeds() -> None:
    body = (FIXTURES / "feeds/cms_gb2312.xml").read_bytes()
    text, codec = decode_text(body, "text/xml")
    assert codec == "gb18030" and "副市长王堃" in text


@pytest.mark.parametrize(
    ("declared", "codec"),
    [("GBK", "gb18030"), ("gb2312", "gb18030"), ("x-gbk", "gb18030"), ("utf8", "utf-8"),
     ("us-ascii", "utf-8"), ("big5", "big5"), ("no-such-charset", None)],
)  # fmt: skip
def test_normalize_charset(declared: str, codec: str | None) -> None:
    assert normalize_charset(declared) == codec


def test_binary_media_types_are_not_decoded() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    with LocalServer({"/logo.png": Reply(body=png, headers={"Content-Type": "image/png"})}) as srv:
        r = run(fetch(srv.url("/logo.png")))
    assert r.content == png and r.text == "" and r.encoding == ""


# -- size cap ------------------------------------------------------------------------------


def test_body_over_the_cap_stops_the_stream() -> None:
    total = 40 * 1024 * 1024

    def endless() -> Iterator[bytes]:
        piece = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
        for _ in range(total // len(piece)):
            yield piece

    with LocalServer(
        {"/huge": Reply(stream=endless, headers={"Content-Type": "text/html"})}
    ) as srv:
        err = fetch_error(srv.url("/huge"), settings(max_body_bytes=200_000))
        time.sleep(0.2)  # let the server notice the hang-up
        sent = srv.sent["/huge"]
    assert err.kind == "too_large"
    assert err.message == "页面超过 200 KB 上限"
    assert sent < total  # the client hung up instead of draining 40 MB


def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    with LocalServer({"/big": Reply(body=b"a" * 300_000)}) as srv:
        err = fetch_error(srv.url("/big"), settings(max_body_bytes=100_000))
    assert err.kind == "too_large"


def test_default_cap_message_is_in_megabytes() -> None:
    with LocalServer({"/big": Reply(body=b"a" * 10, headers={"Content-Length": "6000000"})}) as srv:
        err = fetch_error(srv.url("/big"))
    assert (err.kind, err.message) == ("too_large", "页面超过 5 MB 上限")


def test_gzip_bomb_is_cut_at_the_cap_while_inflating() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire
    headers = {"Content-Encoding": "gzip", "Content-Type": "text/html"}
    with LocalServer({"/bomb": Reply(body=bomb, headers=headers)}) as srv:
        err = fetch_error(srv.url("/bomb"), settings(max_body_bytes=1_000_000))
    assert err.kind == "too_large"


@pytest.mark.parametrize("flavour", ["gzip", "zlib", "raw"])
def test_compressed_bodies_are_inflated(flavour: str) -> None:
    text = "政务动态 " * 2000
    data = text.encode()
    if flavour == "gzip":
        body, coding = gzip.compress(data), "gzip"
    elif flavour == "zlib":
        body, coding = zlib.compress(data), "deflate"
    else:
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body, coding = c.compress(data) + c.flush(), "deflate"
    headers = {"Content-Encoding": coding, "Content-Type": "text/plain; charset=utf-8"}
    with LocalServer({"/z": Reply(body=body, headers=headers, chunk_size=1000)}) as srv:
        r = run(fetch(srv.url("/z")))
    assert r.text == text


def test_body_cut_short_by_the_server_is_kept_and_marked_truncated() -> None:
    body = b"<html><body>" + b"a" * 5000 + b"</body></html>"
    with LocalServer({"/cut": Reply(body=body, cut_at=1000)}) as srv:
        r = run(fetch(srv.url("/cut")))
    assert r.truncated and r.content == body[:1000]


# -- redirects -----------------------------------------------------------------------------


def test_redirect_chain_is_recorded_hop_by_hop() -> None:
    routes = {
        "/app/download": Reply.redirect("/r/2", 302),
        "/r/2": Reply.redirect("../r/3", 301),  # relative Location
        "/r/3": Reply.redirect("/files/app.html", 307),
        "/files/app.html": Reply(body="<p>ok</p>", headers={"Content-Type": "text/html"}),
    }
    with LocalServer(routes) as srv:
        r = run(fetch(srv.url("/app/download")))
        hops = [(h.url.removeprefix(srv.base), h.status) for h in r.redirects]
        assert r.final_url == srv.url("/files/app.html")
        assert r.url == srv.url("/app/download")
    assert hops == [("/app/download", 302), ("/r/2", 301), ("/r/3", 307)]
    assert r.status == 200 and r.text == "<p>ok</p>"


def test_redirect_loop_is_detected() -> None:
    routes = {"/a": Reply.redirect("/b"), "/b": Reply.redirect("/c"), "/c": Reply.redirect("/a")}
    with LocalServer(routes) as srv:
        err = fetch_error(srv.url("/a"))
        assert srv.hits == {"/a": 1, "/b": 1, "/c": 1}  # stopped at the first repeat
    assert err.kind == "redirect_loop" and "重定向循环" in err.message
    assert [h.status for h in err.redirects] == [302, 302, 302]  # the chain is still evidence


def test_too_many_redirects() -> None:
    routes: dict[str, Reply] = {f"/{i}": Reply.redirect(f"/{i + 1}") for i in range(10)}
    with LocalServer(routes) as srv:
        err = fetch_error(srv.url("/0"), settings(max_redirects=3))
    assert (err.kind, err.message) == ("too_many_redirects", "重定向超过 3 次")


def test_visitor_cookie_bounce_is_not_a_loop() -> None:
    """Weibo-style: the page sends a visitor to get a cookie, then back to itself."""

    def page(req: Request) -> Reply:
        if "sub=visitor" in req.headers.get("cookie", ""):
            return Reply(body="<p>内容</p>", headers={"Content-Type": "text/html; charset=utf-8"})
        return Reply.redirect("/visitor")

    visitor = Reply(302, headers={"Location": "/page", "Set-Cookie": "sub=visitor; Path=/"})
    with LocalServer({"/page": page, "/visitor": visitor}) as srv:
        r = run(fetch(srv.url("/page")))
    assert r.status == 200 and r.text == "<p>内容</p>"
    assert [h.status for h in r.redirects] == [302, 302]


# -- timeouts and retries ------------------------------------------------------------------


def test_slow_server_times_out_and_timeouts_are_retried() -> None:
    with LocalServer({"/slow": Reply(body="late", delay=10)}) as srv:
        err = fetch_error(srv.url("/slow"), settings(timeout_seconds=0.3, retries=1))
        assert srv.hits["/slow"] == 2
    assert err.kind == "timeout"
    assert err.message == "127.0.0.1 响应超时（0.3 秒）"


def test_trickling_body_hits_the_overall_deadline() -> None:
    """Each chunk arrives well within a read timeout; the whole never does."""
    reply = Reply(body=b"x" * 100, chunk_size=1, chunk_delay=0.05)
    with LocalServer({"/trickle": reply}) as srv:
        err = fetch_error(srv.url("/trickle"), settings(timeout_seconds=0.5, retries=0))
    assert err.kind == "timeout"


def test_503_then_200_is_retried() -> None:
    replies = [Reply(503, "busy"), Reply(200, "<p>好了</p>", {"Content-Type": "text/html"})]
    with LocalServer({"/": replies}) as srv:
        r = run(fetch(srv.url("/")))
        assert srv.hits["/"] == 2
    assert r.status == 200 and "好了" in r.text


def test_persistent_503_is_returned_not_raised() -> None:
    with LocalServer({"/": Reply(503, "busy")}) as srv:
        r = run(fetch(srv.url("/"), settings(retries=2)))
        assert srv.hits["/"] == 3
    assert r.status == 503


@pytest.mark.parametrize("status", [404, 403, 410, 432, 500])
def test_answers_that_are_not_transient_are_not_retried(status: int) -> None:
    with LocalServer({"/": Reply(status, "no")}) as srv:
        r = run(fetch(srv.url("/")))
        assert srv.hits["/"] == 1
    assert r.status == status


def test_429_retry_after_is_honoured_within_bound() -> None:
    replies = [Reply(429, headers={"Retry-After": "0"}), Reply(200, "ok")]
    with LocalServer({"/": replies}) as srv:
        r = run(fetch(srv.url("/")))
        assert srv.hits["/"] == 2
    assert r.status == 200


def test_429_with_a_long_retry_after_is_returned_at_once() -> None:
    with LocalServer({"/": Reply(429, headers={"Retry-After": "3600"})}) as srv:
        r = run(fetch(srv.url("/")))
        assert srv.hits["/"] == 1
    assert r.status == 429


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert parse_retry_after("soon") is None


def test_refused_connection_is_a_connect_error_after_retries() -> None:
    with LocalServer() as srv:
        port = srv.base.rsplit(":", 1)[1]
    err = fetch_error(f"http://127.0.0.1:{port}/", settings(retries=1))
    assert err.kind == "connect" and "拒绝连接" in err.message


def test_non_web_url_is_refused() -> None:
    err = fetch_error("weixin://dl/business/?t=abc")
    assert err.kind == "protocol"


def test_unsupported_content_encoding_is_a_protocol_error() -> None:
    headers = {"Content-Encoding": "br", "Content-Type": "text/html"}
    with LocalServer({"/": Reply(body=b"\x0b\x00\x80", headers=headers)}) as srv:
        err = fetch_error(srv.url("/"))
    assert err.kind == "protocol"


def test_self_signed_certificate_is_a_tls_error(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    with LocalServer({"/": Reply(body="secret")}, tls=(cert, key)) as srv:
        err = fetch_error(srv.url("/"))
        r = run(fetch(srv.url("/"), settings(verify_tls=False)))
    assert err.kind == "tls" and "证书" in err.message
    assert r.text == "secret"


# -- limits --------------------------------------------------------------------------------


def test_per_host_limit_bounds_concurrent_requests() -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def slow(req: Request) -> Reply:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.1)
        with lock:
            state["now"] -= 1
        return Reply(body="ok")

    async def many(url: str) -> list[Response]:
        async with Fetcher(settings(per_host=2)) as f:
            return await asyncio.gather(*(f.get(url) for _ in range(6)))

    with LocalServer({"/": slow}) as srv:
        results = run(many(srv.url("/")))
    assert [r.status for r in results] == [200] * 6
    assert state["max"] <= 2


def test_the_global_limit_is_reached() -> None:
    """``max_connections`` requests at once to one host, none waiting for a connection."""
    want = 20
    arrived = threading.Condition()
    state = {"now": 0, "max": 0}

    def held(req: Request) -> Reply:
        with arrived:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            arrived.notify_all()
            arrived.wait_for(lambda: state["max"] >= want, timeout=10)
            state["now"] -= 1
        return Reply(body="ok")

    async def many(url: str) -> list[Response]:
        async with Fetcher(settings(max_connections=want, per_host=want)) as f:
            return await asyncio.gather(*(f.get(url) for _ in range(want * 3)))

    with LocalServer({"/": held}) as srv:
        results = run(many(srv.url("/")))
    assert [r.status for r in results] == [200] * (want * 3)
    assert state["max"] == want


def test_user_agent_and_extra_headers_are_sent() -> None:
    with LocalServer({"/": Reply(body="ok")}) as srv:
        run(fetch(srv.url("/"), headers={"Referer": "https://m.weibo.cn/"}))
        sent = srv.requests[0].headers
    assert sent["user-agent"].startswith("Mozilla/5.0") and "xuncha/0.1" in sent["user-agent"]
    assert sent["referer"] == "https://m.weibo.cn/"


def test_fetcher_outside_its_context_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        run(Fetcher(FAST).get("http://127.0.0.1:9/"))


# -- per-platform cookie jars --------------------------------------------------------------


def _echo_cookie(req: Request) -> Reply:
    body = f"{req.headers.get('host', '')}|{req.headers.get('cookie', '')}"
    return Reply(body=body, headers={"Content-Type": "text/plain; charset=utf-8"})


def _set_cookie(name: str, domain: str = "") -> Reply:
    attr = f"; Domain={domain}" if domain else ""
    return Reply(body="ok", headers={"Set-Cookie": f"{name}=v-{name}; Path=/{attr}"})


def test_each_platform_has_its_own_jar_on_the_same_host() -> None:
    """All platforms behind one mirror host: a platform's cookies still stay its own."""
    routes: dict[str, object] = {"/echo": _echo_cookie}
    for name in ("SUB", "ttwid", "buvid3"):
        routes[f"/set/{name}"] = _set_cookie(name)
    with LocalServer(routes) as srv:  # type: ignore[arg-type]

        async def main() -> dict[str, str]:
            async with Fetcher(FAST) as f:
                for platform, name in (
                    ("weibo", "SUB"),
                    ("douyin", "ttwid"),
                    ("bilibili", "buvid3"),
                ):
                    await f.get(srv.url(f"/set/{name}"), platform=platform)
                seen = {p: (await f.get(srv.url("/echo"), platform=p)).text for p in
                        ("weibo", "douyin", "bilibili", "")}  # fmt: skip
                f.clear_cookies("weibo")  # after a "blocked" answer, say
                seen["weibo-cleared"] = (await f.get(srv.url("/echo"), platform="weibo")).text
                seen["douyin-after"] = (await f.get(srv.url("/echo"), platform="douyin")).text
                return seen

        seen = run(main())
    cookies = {k: v.split("|", 1)[1] for k, v in seen.items()}
    assert cookies == {
        "weibo": "SUB=v-SUB",
        "douyin": "ttwid=v-ttwid",
        "bilibili": "buvid3=v-buvid3",
        "": "",  # a reader that names no platform sees none of theirs
        "weibo-cleared": "",
        "douyin-after": "ttwid=v-ttwid",  # clearing one platform leaves the others alone
    }


def test_platform_cookies_never_reach_another_platforms_hosts() -> None:
    """Named hosts (the server acts as the HTTP proxy, nothing leaves loopback)."""
    routes: dict[str, object] = {
        "/echo": _echo_cookie,
        "/set/wb": _set_cookie("SUB", ".weibo.com"),
        "/set/dy": _set_cookie("ttwid", ".douyin.com"),
        "/set/bili": _set_cookie("buvid3", ".bilibili.com"),
    }
    with LocalServer(routes) as srv:  # type: ignore[arg-type]
        proxied = settings(proxy=srv.base)

        async def main() -> dict[tuple[str, str], str]:
            async with Fetcher(proxied) as f:
                await f.get("http://passport.weibo.com/set/wb", platform="weibo")
                await f.get("http://www.douyin.com/set/dy", platform="douyin")
                await f.get("http://space.bilibili.com/set/bili", platform="bilibili")
                out = {}
                for host in ("weibo.com", "www.douyin.com", "api.bilibili.com"):
                    for p in ("weibo", "douyin", "bilibili"):
                        r = await f.get(f"http://{host}/echo", platform=p)
                        out[(host, p)] = r.text.split("|", 1)[1]
                return out

        out = run(main())
        hosts = {r.headers["host"] for r in srv.requests}
    assert hosts == {"passport.weibo.com", "www.douyin.com", "space.bilibili.com", "weibo.com",
                     "api.bilibili.com"}  # fmt: skip
    sent = {k: v for k, v in out.items() if v}
    assert sent == {
        ("weibo.com", "weibo"): "SUB=v-SUB",
        ("www.douyin.com", "douyin"): "ttwid=v-ttwid",
        ("api.bilibili.com", "bilibili"): "buvid3=v-buvid3",
    }


# -- POST ----------------------------------------------------------------------------------

CLOSE = {"Connection": "close"}  # the local server does not read request bodies


def test_post_sends_a_form_and_keeps_the_platforms_cookies() -> None:
    def form(req: Request) -> Reply:
        body = f"{req.method}|{req.headers.get('content-type')}|{req.headers.get('content-length')}"
        return Reply(body=body, headers={"Set-Cookie": "tid=abc; Path=/", **CLOSE})

    with LocalServer({"/gen": form, "/echo": _echo_cookie}) as srv:

        async def main() -> tuple[Response, str]:
            async with Fetcher(FAST) as f:
                r = await f.post(srv.url("/gen"), data={"cb": "gen_callback", "fp": "{}"},
                                 platform="weibo")  # fmt: skip
                return r, (await f.get(srv.url("/echo"), platform="weibo")).text

        r, echoed = run(main())
    method, ctype, length = r.text.split("|")
    assert (method, ctype) == ("POST", "application/x-www-form-urlencoded")
    assert int(length) == len("cb=gen_callback&fp=%7B%7D")
    assert echoed.endswith("|tid=abc")


def test_post_answered_with_303_is_followed_by_a_get() -> None:
    routes = {
        "/form": Reply(303, headers={"Location": "/done", **CLOSE}),
        "/done": lambda req: Reply(body=req.method),
    }
    with LocalServer(routes) as srv:  # type: ignore[arg-type]

        async def main() -> Response:
            async with Fetcher(FAST) as f:
                return await f.post(srv.url("/form"), data={"a": "1"})

        r = run(main())
    assert r.text == "GET" and [h.status for h in r.redirects] == [303]


@pytest.mark.parametrize(("idempotent", "attempts"), [(False, 1), (True, 2)])
def test_post_is_resent_after_a_read_timeout_only_if_idempotent(
    idempotent: bool, attempts: int
) -> None:
    """The server may have acted on a POST it never answered: do not do it twice."""
    with LocalServer({"/slow": Reply(body="late", delay=10, headers=CLOSE)}) as srv:

        async def main() -> None:
            async with Fetcher(settings(timeout_seconds=0.3, retries=1)) as f:
                await f.post(srv.url("/slow"), data={"a": "1"}, idempotent=idempotent)

        with pytest.raises(FetchError) as info:
            run(main())
        assert srv.hits["/slow"] == attempts
    assert info.value.kind == "timeout"


def test_post_is_retried_on_503_but_not_on_502() -> None:
    routes = {
        "/busy": [Reply(503, "busy", CLOSE), Reply(200, "好了", CLOSE)],
        "/gateway": [Reply(502, "bad gateway", CLOSE), Reply(200, "好了", CLOSE)],
    }
    with LocalServer(routes) as srv:  # type: ignore[arg-type]

        async def main() -> tuple[int, int]:
            async with Fetcher(FAST) as f:
                a = await f.post(srv.url("/busy"), data={"a": "1"})
                b = await f.post(srv.url("/gateway"), data={"a": "1"})
                return a.status, b.status

        assert run(main()) == (200, 502)
        assert srv.hits == {"/busy": 2, "/gateway": 1}


def test_refused_post_is_marked_unsent_so_it_may_be_retried() -> None:
    with LocalServer({}) as srv:
        url = srv.url("/x")  # closed again: the port now refuses

    async def main() -> None:
        async with Fetcher(settings(retries=1)) as f:
            await f.post(url, data={"a": "1"})

    with pytest.raises(FetchError) as info:
        run(main())
    assert info.value.kind == "connect" and info.value.sent is False


def test_a_kept_connection_the_server_closed_is_not_reused() -> None:
    """The pool asks each idle connection's socket whether the server hung up
    (``probes.fetch.transport`` keeps that socket): a connection the server closed after
    its answer is dropped, and the next request, with no retry, gets a new one."""
    connections: list[int] = []

    async def main() -> tuple[int, int]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(1)
            await reader.readuntil(b"\r\n\r\n")
            body = b"<p>ok</p>"
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            writer.write(head + body)  # keep-alive by HTTP/1.1's default, then hang up
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, Fetcher(settings(retries=0)) as f:
            first = await f.get(f"http://127.0.0.1:{port}/")
            await asyncio.sleep(0.2)  # the close has reached the client's socket
            second = await f.get(f"http://127.0.0.1:{port}/")
        return first.status, second.status

    assert run(main()) == (200, 200)
    assert len(connections) == 2
