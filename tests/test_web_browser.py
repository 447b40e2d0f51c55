"""The console in a real Chromium, as a duty officer and a supervisor use it: log in, open an
account, a snapshot, compare two snapshots, acknowledge a finding, download the report; every
page at a desktop's 1280 px and a phone's 390 px; the demo's own data.

One browser for the module; each server runs in-process (uvicorn in a thread) on a free
port of 127.0.0.1. Screenshots go to ``$TMPDIR/xuncha-web-screens`` (``XUNCHA_WEB_SHOTS``
to put them elsewhere): ``<page>-1280.png`` and ``<page>-390.png`` for the overview,
accounts, findings, account, snapshot, diff and report pages, ``demo-account-*.png`` for
the demo's account page. Look at them: what people read is part of the product.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from PIL import Image
from sqlmodel import Session

from monitor.app import App
from monitor.config import load_settings
from monitor.store.engine import session_scope
from monitor.store.models import Finding
from monitor.web import auth
from monitor.web.app import create_app
from monitor.web.server import bind
from probes.fetch.browser import CHROMIUM_ARGS
from tests.conftest import make_settings, open_app
from tests.test_web import EVIL, FAST_HASHER, NOW, PASSWORD, World, build_world
from tests.test_web_console import Province, build_province

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(
    os.environ.get("XUNCHA_WEB_SHOTS") or Path(tempfile.gettempdir()) / "xuncha-web-screens"
)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")


@contextmanager
def serving(xapp: App, now: datetime) -> Iterator[str]:
    """The console of ``xapp`` on a free port of 127.0.0.1, its clock stopped at ``now``."""
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        create_app(xapp, clock=lambda: now), log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    xapp = open_app(make_settings(tmp_path_factory.mktemp("web")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", FAST_HASHER)  # hashing speed is not under test
        world = build_world(xapp)
    with serving(xapp, NOW) as base:
        yield base, world
    xapp.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), timeout=30_000)
        # the first page a fresh Chromium draws may show Chinese as empty boxes while it
        # finds a CJK font: draw one first, so no screenshot catches that
        warm = b.new_page()
        warm.set_content('<p lang="zh-CN">巡查控制台</p>')
        warm.evaluate("document.fonts.ready.then(() => true)")
        warm.screenshot()
        warm.close()
        yield b
        b.close()


def shoot(page: Any, name: str) -> Path:
    """A full-page screenshot, once the page's fonts are ready."""
    page.evaluate("document.fonts.ready.then(() => true)")
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, name: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")


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

        # compare two snapshots from the account page
        page.goto("/accounts/gy-weibo")
        page.get_by_role("button", name="比较所选两个快照").click()
        page.wait_for_url("**/diff?**")
        assert page.get_by_text("乙中新出现的内容").is_visible()

        # acknowledge a finding
        page.get_by_role("link", name="问题").first.click()
        fid = world.findings["gy-weibo"]
        row = page.locator(f"#finding-{fid}")
        row.get_by_label("确认说明").fill("已电话通知贵阳市网信办")
        row.get_by_role("button", name="确认").click()
        assert page.get_by_role("status").inner_text() == f"已确认问题 #{fid}。"
        assert "已确认" in page.locator(f"#finding-{fid}").inner_text()
        shoot(page, "flow-acknowledged")
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
        page.get_by_role("link", name="报表").click()
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


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Province]]:
    xapp = open_app(make_settings(tmp_path_factory.mktemp("province")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", FAST_HASHER)
        world = build_province(xapp)
    with serving(xapp, NOW) as base:
        yield base, world
    xapp.close()


# what is on each page, as a reader finds it: the heading, and a phrase of what it must show
def _pages(w: Province) -> dict[str, tuple[str, str, str]]:
    ok, failed = w.snaps["c2-douyin"]
    return {
        "overview": ("/", "总览", "本季度合格率"),
        "accounts": ("/accounts?sort=silent", "账号（64 个，第 1–50 个）", "59 天"),
        "findings": ("/findings?status=all", "问题（共 4 条）", "已超期 3 天"),
        "finding": (f"/findings/{w.findings['veto']}", f"问题 #{w.findings['veto']}", "经过"),
        "account": ("/accounts/p-site", "黔中省政府网站", "秋季农田水利建设"),
        "snapshot": (f"/snapshots/{w.snaps['p-site'][0]}", f"快照 #{w.snaps['p-site'][0]}",
                     "网页源码"),
        "diff": (f"/diff?a={ok}&b={failed}", f"比较快照 #{ok} → #{failed}",
                 "抓取失败不等于内容被删除"),
        "report": ("/reports", "报表下载", "统计周期"),
    }  # fmt: skip


def test_every_page_fits_a_desktop_and_a_phone(
    province: tuple[str, Province], browser: Any
) -> None:
    """The eight pages at 1280 and 390 px: no page scrolls sideways, the menu keeps whole
    words, list rows become labelled cards on the phone. Screenshots for a person to look
    at: ``<page>-1280.png``, ``<page>-390.png``."""
    base, w = province
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        ctx = browser.new_context(
            base_url=base, viewport={"width": width, "height": 900}, locale="zh-CN"
        )
        page = ctx.new_page()
        try:
            sign_in(page, "sup_p")
            for name, (path, heading, phrase) in _pages(w).items():
                page.goto(path)
                assert page.get_by_role("heading", level=1).inner_text().startswith(heading)
                assert page.get_by_text(phrase).first.is_visible(), (name, width, phrase)
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"{name} at {width} px scrolls sideways ({scroll} px)"
                # the menu: each entry on one line, not one character per line
                for link in page.locator("header nav a").all():
                    box = link.bounding_box()
                    assert box is not None and box["height"] < 30 and box["width"] > 20
                if width == 390 and page.locator("table.stack").count():
                    table = page.locator("table.stack").first
                    assert table.locator("thead").is_hidden()  # cards, each cell labelled
                if name == "overview":  # every figure of the pass rates on screen, as cards
                    for label in ("已检查", "不合格"):
                        cell = page.locator(f'#rates td[data-label="{label}"]').first
                        box = cell.bounding_box()
                        assert box is not None and box["x"] + box["width"] <= width, label
                    links = page.locator("p.sort-by").first  # sorting without the header
                    assert links.is_visible() == (width == 390)
                # a button's word on one line: "确认", never 确 over 认
                for button in page.locator("main button").all():
                    box = button.bounding_box()
                    assert box is not None and box["height"] < 40, (name, width)
                shoot(page, f"{name}-{width}")
        finally:
            ctx.close()
    for name in _pages(w):
        for width in (1280, 390):
            with Image.open(SHOTS / f"{name}-{width}.png") as shot:
                assert shot.width == width  # nothing made the page wider than the screen


def test_the_demos_account_page_shows_its_posts_and_evidence(
    tmp_path: Path, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``xuncha demo`` as a newcomer runs it, then its account page in the console: the
    posts the patrol saw, counted in the chart, and the evidence file of each snapshot."""
    instant = datetime.fromisoformat("2026-12-07T09:11:00+08:00")  # a Monday morning
    r = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--dir", str(tmp_path / "demo")],
        env={**os.environ, "XUNCHA_CLOCK": instant.isoformat(), "COLUMNS": "200"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)
    xapp = App.open(load_settings(tmp_path / "demo" / "xuncha.toml"))
    with session_scope(xapp.engine) as s:
        auth.add_user(s, "newcomer", "admin", None, PASSWORD, instant)
    try:
        with serving(xapp, instant) as base:
            for width in (1280, 390):
                ctx = browser.new_context(
                    base_url=base, viewport={"width": width, "height": 900}, locale="zh-CN"
                )
                page = ctx.new_page()
                try:
                    sign_in(page, "newcomer")
                    page.goto("/accounts/wx-qx")  # 青溪县人民政府, a WeChat album page
                    assert page.get_by_text("共 3 条，近 30 天 3 条").is_visible()
                    posts = page.locator("table.posts")
                    assert "青溪县开展秋季农田水利建设" in posts.inner_text()
                    assert "置顶" in posts.inner_text()
                    evidence = page.locator("table.snapshots tbody tr").first.inner_text()
                    assert "1 个" in evidence and "网页源码" in evidence
                    scroll = page.evaluate("document.documentElement.scrollWidth")
                    assert scroll <= width
                    shoot(page, f"demo-account-{width}")
                    if width == 1280:
                        page.goto("/")  # the failed fetch is 巡查异常, not a 预警
                        assert "1 个账号抓取失败、被拦截或无法读取" in page.inner_text("main")
                        shoot(page, "demo-overview-1280")
                finally:
                    ctx.close()
    finally:
        xapp.close()
