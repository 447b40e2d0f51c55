"""Browser readers and the pool, with real Chromium loading simulator pages whose script
fetches the platform JSON as the real sites do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from localserver import LocalServer, Reply
from simulator import NOW, Simulator

from probes.fetch import Tools
from probes.fetch.browser import (
    DEFAULT_EXECUTABLE,
    BrowserError,
    BrowserPool,
    BrowserSettings,
    chromium_pids,
)
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Target
from probes.platforms import observe

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_EXECUTABLE).exists(), reason=f"{DEFAULT_EXECUTABLE} is not installed"
)
FAST = BrowserSettings(page_timeout_seconds=10, settle_ms=50, max_pages=2)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(Simulator().routes()) as srv:
        yield srv


def run_many(targets: list[Target], settings: BrowserSettings = FAST) -> list[Observation]:
    async def main() -> list[Observation]:
        async with BrowserPool(settings) as pool, Fetcher(HttpSettings(retries=0)) as f:
            tools = Tools(http=f, browser=pool)
            return list(await asyncio.gather(*(observe(t, tools, now=NOW) for t in targets)))

    return asyncio.run(main())


def t(reader: str, handle: str, base: str) -> Target:
    return Target("acc", reader, reader, handle=handle, origins={"www": base})


def test_douyin_profile_and_posts_are_captured(server: LocalServer) -> None:
    (obs,) = run_many([t("douyin", "MS4wLjABAAAAok", server.base)])
    assert obs.outcome is Outcome.ok, obs.detail
    p = obs.profile
    assert (p.name, p.ip_location, p.followers) == ("示例市融媒体中心", "山东", 56789)
    assert p.verified and p.verified_type == "gov_media_vip"
    assert p.verified_reason == "示例市融媒体中心官方账号"
    pin, fresh = obs.posts
    assert pin.pinned and pin.published_at == NOW - timedelta(days=90)
    assert not fresh.pinned and fresh.published_at == NOW - timedelta(hours=2)
    kinds = [a.kind for a in obs.artifacts]
    # the page's HTML is the evidence; its picture is drawn later, when the content changed
    assert kinds.count("json") == 2 and "page" in kinds and "screenshot" not in kinds


def test_douyin_gone_and_captcha(server: LocalServer) -> None:
    """(Bilibili is read over HTTP since: tests/test_platform_bilibili.py.)"""
    b = server.base
    gone, captcha = run_many(
        [t("douyin", "MS4wLjABAAAAgone", b), t("douyin", "MS4wLjABAAAAcaptcha", b)],
        BrowserSettings(page_timeout_seconds=3, settle_ms=50, max_pages=3),
    )
    assert gone.outcome is Outcome.not_found and "已注销" in gone.detail
    assert captcha.outcome is Outcome.blocked, captcha.detail


def test_pool_is_lazy_recycles_and_leaves_no_process(server: LocalServer) -> None:
    async def main() -> tuple[bool, int, int, int]:
        pool = BrowserPool(BrowserSettings(recycle_after_pages=3, settle_ms=0, max_pages=2))
        lazy = not pool.running and not chromium_pids()
        url = server.url("/10001")
        cap = [r"/x/space/wbi/arc/search"]
        try:
            results = await asyncio.gather(
                *(pool.visit("bilibili", url, capture=cap, screenshot=False) for _ in range(7))
            )
            assert all(r.first(cap[0]) for r in results)
        finally:
            await pool.close()
        return lazy, pool.launches, pool.pages_served, len(chromium_pids())

    lazy, launches, served, left = asyncio.run(main())
    assert lazy and served == 7
    assert launches >= 2  # recycled after 3 pages
    assert left == 0


def test_pages_in_use_counts_the_pages_open_now() -> None:
    """What the metrics scrape reads (``track_browser_pool``): a page open shows as in use."""
    slow = {"/slow": Reply(body="<html><body>慢</body></html>", delay=1.5)}
    with LocalServer(slow) as srv:

        async def main() -> tuple[int, int, int]:
            async with BrowserPool(BrowserSettings(max_pages=3, settle_ms=0)) as pool:
                idle = pool.pages_in_use
                visit = asyncio.create_task(
                    pool.visit("t", srv.url("/slow"), capture=(), screenshot=False)
                )
                while pool.pages_in_use == 0 and not visit.done():
                    await asyncio.sleep(0.01)
                busy = pool.pages_in_use
                await visit
                return idle, busy, pool.pages_in_use

        assert asyncio.run(main()) == (0, 1, 0)


def test_missing_browser_is_a_chinese_error() -> None:
    async def main() -> None:
        async with BrowserPool(BrowserSettings(executable_path="/nonexistent/chromium")) as p:
            await p.visit("douyin", "http://127.0.0.1:9/")

    with pytest.raises(BrowserError, match="无法启动浏览器"):
        asyncio.run(main())


def test_toutiao_kuaishou_xiaohongshu(server: LocalServer) -> None:
    """Today's shapes side by side in one pool (each platform in detail: test_platform_*.py)."""
    b = server.base
    tt, ks, xhs, xhs_gone, xhs_captcha = run_many(
        [
            t("toutiao", "MS4wLjABAAAAtt", b),
            t("kuaishou", "3xks000001", b),
            t("xiaohongshu", "5f0000000000000000000001", b),
            t("xiaohongshu", "5f0000000000000000000404", b),
            t("xiaohongshu", "5f0000000000000000000403", b),
        ],
        BrowserSettings(page_timeout_seconds=5, settle_ms=50, max_pages=3),
    )
    assert tt.outcome is Outcome.ok, tt.detail
    assert tt.profile.name == "示例发布" and tt.profile.verified
    assert [p.pinned for p in tt.posts] == [True, False, False, False]  # is_stick
    assert tt.posts[1].published_at == NOW - timedelta(hours=6)  # a 微头条
    assert ks.outcome is Outcome.ok, ks.detail
    assert (ks.profile.name, ks.profile.followers, ks.profile.posts_count) == (
        "示例警方",
        32015,
        56,
    )
    assert ks.posts[0].pinned and ks.posts[1].published_at == NOW - timedelta(hours=20)
    # anonymous visitors meet the login wall: not shown to us, and a session would show it
    assert (xhs.outcome, xhs.login_required) == (Outcome.blocked, True), xhs.detail
    assert xhs.posts == []
    assert xhs_gone.outcome is Outcome.not_found
    assert (xhs_captcha.outcome, xhs_captcha.login_required) == (Outcome.blocked, False)


def test_hung_page_is_an_error_and_missing_page_is_not_found() -> None:
    routes = {"/user/slow": Reply(body="<html></html>", delay=5)}
    with LocalServer(routes) as srv:
        slow, missing = run_many(
            [t("douyin", "slow", srv.base), t("douyin", "nobody", srv.base)],
            BrowserSettings(page_timeout_seconds=1, settle_ms=0, close_timeout_seconds=2),
        )
    assert slow.outcome is Outcome.error and "浏览器打开页面失败" in slow.detail
    assert missing.outcome is Outcome.not_found and "404" in missing.detail


LEAN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<style>@font-face { font-family: X; src: url(/font.woff2); } body { font-family: X; }</style>
</head><body><p>账号主页</p><img src="/cover.jpg"><video src="/clip.mp4" autoplay></video>
<script>
fetch('/api/list').then(r => r.json());
</script><script src="/slow.js"></script><img src="/late.jpg"></body></html>"""


def test_a_browser_check_reads_what_it_needs_and_nothing_more() -> None:
    """Three checks of one platform: each reads the list the page fetched, in the platform's one
    context (the cookie the first visit was given goes with the next ones, as a visitor's
    would); no image, video or font is ever fetched, no picture is taken per check, and the
    page is stopped once the list is in (a slow script after it never runs)."""
    routes = {
        "/user": Reply(
            body=LEAN_PAGE,
            headers={"Content-Type": "text/html; charset=utf-8", "Set-Cookie": "visitor=v1"},
        ),
        "/api/list": Reply(body='{"items": [1, 2]}', headers={"Content-Type": "application/json"}),
        # a slow script after the list: once the list is in, it is never waited for nor run
        "/slow.js": Reply(
            body="fetch('/api/after')", headers={"Content-Type": "text/javascript"}, delay=2
        ),
        "/api/after": Reply(body="{}", headers={"Content-Type": "application/json"}),
        "/cover.jpg": Reply(body="x", headers={"Content-Type": "image/jpeg"}),
        "/late.jpg": Reply(body="x", headers={"Content-Type": "image/jpeg"}, delay=1),
        "/clip.mp4": Reply(body="x", headers={"Content-Type": "video/mp4"}),
        "/font.woff2": Reply(body="x", headers={"Content-Type": "font/woff2"}),
    }
    with LocalServer(routes) as srv:

        async def main() -> list[Any]:
            async with BrowserPool(BrowserSettings(settle_ms=0, max_pages=1)) as pool:
                out = []
                for _ in range(3):
                    out.append(await pool.visit("p", srv.url("/user"), capture=["/api/list"]))
                await asyncio.sleep(2.5)  # past the slow script: nothing more arrives
                return out

        pages = asyncio.run(main())
        assert [p.first("/api/list").data for p in pages] == [{"items": [1, 2]}] * 3
        assert all(p.screenshot is None and "账号主页" in p.html for p in pages)
        fetched = [r.path for r in srv.requests]
        assert fetched.count("/user") == 3 and fetched.count("/api/list") == 3
        assert not {"/cover.jpg", "/late.jpg", "/clip.mp4", "/font.woff2"} & set(fetched)
        assert "/api/after" not in fetched
        cookies = [r.headers.get("cookie", "") for r in srv.requests if r.path == "/user"]
        assert cookies == ["", "visitor=v1", "visitor=v1"]


def test_chromiums_memory_is_read_every_few_seconds_not_per_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading it walks /proc and every renderer's page tables (~35 ms of CPU): once per
    ``MEMORY_CHECK_SECONDS``, whatever the pages served in between."""
    from probes.fetch import browser

    readings: list[float] = []
    clock = [1000.0]
    monkeypatch.setattr(browser, "chromium_memory_mb", lambda: readings.append(1) or 300.0)
    monkeypatch.setattr(browser.time, "monotonic", lambda: clock[0])

    async def main() -> None:
        pool = BrowserPool(BrowserSettings(memory_ceiling_mb=200))
        for _ in range(5):  # no browser running: nothing to recycle, the reading is what counts
            await pool._maybe_recycle()
        assert len(readings) == 1 and pool.peak_mb == 300.0
        clock[0] += browser.MEMORY_CHECK_SECONDS
        await pool._maybe_recycle()
        assert len(readings) == 2

    asyncio.run(main())
