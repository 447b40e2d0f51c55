"""The loop's pages in a real Chromium at a desktop's 1280 px, as the county and its city use
them: the signed 已整改 link opened without a login, filled in and submitted; the city's 复核
queue; the finding's page after the recheck passed, before and after side by side.

Screenshots go where tests/test_web_browser.py puts its own (``$TMPDIR/xuncha-web-screens``,
``XUNCHA_WEB_SHOTS``): ``loop-rectify-1280.png``, ``loop-rectify-done-1280.png``,
``loop-rectify-expired-1280.png``, ``loop-review-1280.png``, ``loop-finding-after-1280.png``.
Look at them: what people read is part of the product.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from PIL import Image

from monitor.store.engine import session_scope
from monitor.store.rectify import link_key, make_token
from monitor.web.auth import add_user
from tests.test_loop_e2e import ID_A, LINK, START, World, column, world  # noqa: F401
from tests.test_web import PASSWORD
from tests.test_web_browser import SHOTS, browser, serving, shoot, sign_in  # noqa: F401

T = TypeVar("T")


def off_loop(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a thread of its own: Playwright's sync API holds this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs chromium")


def test_the_loop_pages_in_a_browser(world: World, browser: object) -> None:  # noqa: F811
    w = world
    SHOTS.mkdir(parents=True, exist_ok=True)
    old = START - timedelta(days=20)
    w.site.html = column(
        ("/zwdt/5.html", f"城乡低保拟保障对象公示：户主张某某，身份证号{ID_A}", old),
        ("/zwdt/4.html", "青溪县召开秋冬季森林防火工作会议", old - timedelta(days=1)),
    )
    off_loop(w.patrol)
    stale, privacy = w.finding("stale"), w.finding("privacy")
    links = [m[1] for told in w.told(w.county) for m in LINK.finditer(told)]
    [link] = [x for x in links if x.startswith(f"/rectify/{stale.id}.")]  # grouped: one each
    with session_scope(w.app.engine) as s:
        add_user(s, "sup_ql", "supervisor", "ql", PASSWORD, w.clock())
    key = link_key(w.app.settings.session_key_file)
    expired = make_token(key, stale.id or 0, w.clock() - timedelta(days=30), 7)
    w.clock.advance(minutes=30)

    with serving(w.app, w.clock()) as base:
        ctx = browser.new_context(  # type: ignore[attr-defined]
            base_url=base, viewport={"width": 1280, "height": 800}, locale="zh-CN"
        )
        page = ctx.new_page()
        page.goto(link)
        assert page.get_by_role("heading", name=f"提交已整改：问题 #{stale.id}").is_visible()
        shot = shoot(page, "loop-rectify-1280")
        assert Image.open(shot).width == 1280
        page.get_by_label("整改说明（必填，最多 500 字）").fill(
            "已于今日发布森林防火最新动态，并删除低保公示中的身份证号"
        )
        page.get_by_role("button", name="提交").click()
        page.wait_for_url("**done=1")
        assert page.get_by_text("已收到整改说明").is_visible()
        shoot(page, "loop-rectify-done-1280")
        page.goto(f"/rectify/{expired}")
        assert page.get_by_text("链接已过期").is_visible()
        shoot(page, "loop-rectify-expired-1280")

        sign_in(page, "sup_ql")
        page.goto("/review")
        assert page.get_by_role("heading", name="待复核的问题（1）").is_visible()
        assert page.locator(f"#finding-{privacy.id}").is_visible()
        shoot(page, "loop-review-1280")
        ctx.close()

    w.site.html = column(
        ("/zwdt/6.html", "青溪县部署冬季安全生产大检查", w.clock() - timedelta(minutes=20)),
        ("/zwdt/4.html", "青溪县召开秋冬季森林防火工作会议", old - timedelta(days=1)),
    )
    assert off_loop(w.patrol) == ["web-qx"]
    assert w.finding("stale", status=None).status == "resolved"
    with serving(w.app, w.clock()) as base:
        ctx = browser.new_context(  # type: ignore[attr-defined]
            base_url=base, viewport={"width": 1280, "height": 800}, locale="zh-CN"
        )
        page = ctx.new_page()
        sign_in(page, "sup_ql")
        page.goto(f"/findings/{stale.id}")
        assert page.get_by_role("heading", name="整改前后对比").is_visible()
        shoot(page, "loop-finding-after-1280")
        ctx.close()
