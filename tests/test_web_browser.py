"""The console in a real Chromium, as a duty officer and a supervisor use it: log in, open an
account, a snapshot, compare two snapshots, acknowledge a finding, download the report.

One browser for the module; the server runs in-process (uvicorn in a thread) on a free
port of 127.0.0.1. Screenshots of the main pages go to ``$TMPDIR/xuncha-web-screens``.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlmodel import Session

from monitor.store.models import Finding
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.server import bind
from probes.fetch.browser import CHROMIUM_ARGS
from tests.conftest import make_settings, open_app
from tests.test_web import EVIL, FAST_HASHER, NOW, PASSWORD, World, build_world

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(
    os.environ.get("XUNCHA_WEB_SHOTS") or Path(tempfile.gettempdir()) / "xuncha-web-screens"
)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    xapp = open_app(make_settings(tmp_path_factory.mktemp("web")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", FAST_HASHER)  # hashing speed is not under test
        world = build_world(xapp)
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        create_app(xapp, clock=lambda: NOW), log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", world
    server.should_exit = True
    thread.join(10)
    sock.close()
    xapp.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), timeout=30_000)
        yield b
        b.close()


def test_a_day_at_the_console(served: tuple[str, World], browser: object) -> None:
    base, world = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(  # type: ignore[attr-defined]
        base_url=base, viewport={"width": 1280, "height": 900}, accept_downloads=True,
        locale="zh-CN",
    )  # fmt: skip
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        # log in (the first page asked for comes back after the login)
        page.goto("/accounts/gy-weibo")
        assert "/login" in page.url
        page.get_by_label("用户名").fill("duty_gy")
        page.get_by_label("密码").fill("wrong password")
        page.get_by_role("button", name="登录").click()
        assert page.get_by_role("alert").inner_text().startswith("用户名或密码错误")
        page.get_by_label("用户名").fill("duty_gy")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/accounts/gy-weibo")
        assert page.get_by_role("heading", level=1).inner_text().startswith("贵阳发布")
        assert page.locator("svg.chart rect").count() >= 2
        page.screenshot(path=str(SHOTS / "account.png"), full_page=True)

        # the overview
        page.get_by_role("link", name="总览").click()
        page.wait_for_url(f"{base}/")
        assert page.get_by_role("heading", name="总览").is_visible()
        assert page.get_by_text("遵义").count() == 0  # not this duty officer's unit

        # a snapshot: facts, the screenshot as an image, the hostile post as text
        page.goto("/accounts/gy-weibo")
        new = world.snaps["gy-weibo"][1]
        page.get_by_role("link", name=f"#{new}", exact=True).click()
        page.wait_for_url(f"**/snapshots/{new}")
        img = page.locator("img.shot")
        assert img.count() == 1
        assert img.evaluate("i => i.complete && i.naturalWidth") == 64
        assert page.get_by_text(EVIL).first.is_visible()  # shown as text, not run
        page.screenshot(path=str(SHOTS / "snapshot.png"), full_page=True)

        # compare two snapshots from the account page
        page.goto("/accounts/gy-weibo")
        page.get_by_role("button", name="比较所选两个快照").click()
        page.wait_for_url("**/diff?**")
        assert page.get_by_text("乙中新出现的内容").is_visible()
        page.screenshot(path=str(SHOTS / "diff.png"), full_page=True)

        # acknowledge a finding
        page.get_by_role("link", name="问题").first.click()
        fid = world.findings["gy-weibo"]
        row = page.locator(f"#finding-{fid}")
        row.get_by_label("确认说明").fill("已电话通知贵阳市网信办")
        row.get_by_role("button", name="确认").click()
        assert page.get_by_role("status").inner_text() == f"已确认问题 #{fid}。"
        assert "已确认" in page.locator(f"#finding-{fid}").inner_text()
        page.screenshot(path=str(SHOTS / "findings.png"), full_page=True)
        with Session(world.xapp.engine) as s:
            assert s.get(Finding, fid).acknowledged_by == "duty_gy"

        # someone else's snapshot: the same page as a missing one
        page.goto(f"/snapshots/{world.snaps['xz-weibo'][0]}")
        assert "未找到" in page.content()

        # log out, log in as the supervisor, download the quarter's report
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/login")
        page.get_by_label("用户名").fill("sup")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        # is_visible() does not wait: the overview may still be loading after the login
        page.get_by_role("link", name="遵义发布").wait_for(state="visible")  # due within 2 days
        page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
        page.get_by_role("link", name="报表").click()
        page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
        with page.expect_download() as info:
            page.get_by_role("button", name="下载").click()
        download = info.value
        assert download.suggested_filename == "xuncha-report-2026Q4-GZ.xlsx"
        target = SHOTS / download.suggested_filename
        download.save_as(str(target))
        assert target.read_bytes()[:2] == b"PK"

        assert dialogs == []  # no scraped script ever ran
        # the pages themselves live within their CSP (no inline script or style needed)
        assert not [e for e in console_errors if "Content Security Policy" in e]
    finally:
        ctx.close()
