"""The console's 登录会话 page as an admin uses it: the sessions listed (never a cookie), a cookie
file imported, one removed, and 扫码登录 against a local stand-in for Xiaohongshu's login page,
with real Chromium on both sides (the server's, which opens the login page, and the admin's).

The stand-in login page is a fake, not the platform's protocol: it shows a QR image with the
class Xiaohongshu's has (``img.qrcode-img``, NanmiCoder/MediaCrawler
``media_platform/xhs/login.py``), gives a visitor a ``web_session`` cookie at once, and —
when the test "scans" — replaces it with a logged-in one, which is what xuncha (like
MediaCrawler's ``check_login_state``) watches for.

Screenshots of the pages at 1280 px go to ``/work/shots/`` (``XUNCHA_SHOTS`` elsewhere).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from localserver import LocalServer, Reply, Request
from PIL import Image, ImageDraw
from sqlmodel import Session, select

from monitor.app import App
from monitor.store.audit import Actor
from monitor.store.engine import session_scope
from monitor.store.models import PlatformSession
from monitor.store.sealing import KEY_ENV
from monitor.web import auth
from probes.fetch.browser import CHROMIUM_ARGS, DEFAULT_EXECUTABLE
from tests.conftest import add_unit, make_settings, open_app
from tests.test_sessions import COOKIE_EDITOR, LOGIN_VALUE
from tests.test_web import FAST_HASHER, NOW, PASSWORD, client_for, csrf_of, login
from tests.test_web_browser import serving

SHOTS = Path(os.environ.get("XUNCHA_SHOTS", "/work/shots"))
SCANNED_LOGIN = "040069b5qrscannedlogin"


def qr_png() -> bytes:
    """A picture that looks like a QR code (three finder squares, random modules)."""
    rnd = random.Random(7)
    n, cell = 29, 8
    img = Image.new("RGB", (n * cell, n * cell), "white")
    d = ImageDraw.Draw(img)
    for y in range(n):
        for x in range(n):
            if rnd.random() < 0.45:
                d.rectangle([x * cell, y * cell, x * cell + cell - 1, y * cell + cell - 1], "black")
    for ox, oy in ((0, 0), (n - 7, 0), (0, n - 7)):
        d.rectangle([ox * cell, oy * cell, (ox + 7) * cell - 1, (oy + 7) * cell - 1], "white")
        d.rectangle([ox * cell, oy * cell, (ox + 7) * cell - 1, (oy + 7) * cell - 1], None,
                    "black", cell)  # fmt: skip
        d.rectangle([(ox + 2) * cell, (oy + 2) * cell, (ox + 5) * cell - 1, (oy + 5) * cell - 1],
                    "black")  # fmt: skip
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


class LoginSite:
    """The stand-in login page: a QR, and a status the page polls until the test scans."""

    def __init__(self) -> None:
        self.scanned = threading.Event()
        self.png = qr_png()

    def routes(self) -> dict[str, Any]:
        return {"/explore": self.page, "/qr.png": self.qr, "/qr/status": self.status}

    def page(self, req: Request) -> Reply:
        if "login=1" in req.query:  # where the page goes once logged in: the feed
            return Reply(body="<!DOCTYPE html><title>小红书</title><p>发现</p>",
                         headers={"Content-Type": "text/html; charset=utf-8"})  # fmt: skip
        body = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>小红书 - 你的生活指南</title></head><body>
<div class="login-container"><div class="title">手机号登录</div>
<img class="qrcode-img" src="/qr.png" width="160" height="160" alt="">
<div class="tip">可用小红书或微信扫码</div></div>
<script>
const poll = setInterval(async () => {
  const d = await (await fetch('/qr/status')).json();
  if (d.data.code_status === 2) { clearInterval(poll); location.href = '/explore?login=1'; }
}, 300);
</script></body></html>"""
        return Reply(body=body, headers={
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": "web_session=visitor0001; Path=/",  # a visitor's, as the site gives
        })  # fmt: skip

    def qr(self, req: Request) -> Reply:
        return Reply(body=self.png, headers={"Content-Type": "image/png"})

    def status(self, req: Request) -> Reply:
        done = self.scanned.is_set()
        headers = {"Content-Type": "application/json"}
        if done:
            headers["Set-Cookie"] = (
                f"web_session={SCANNED_LOGIN}; Path=/; Max-Age=31536000; HttpOnly"
            )
        body = {"code": 0, "success": True, "data": {"code_status": 2 if done else 0}}
        return Reply(body=json.dumps(body), headers=headers)


@pytest.fixture
def xapp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)
    a = open_app(make_settings(tmp_path))
    add_unit(a, "u1", "示例市文旅局")
    with session_scope(a.engine) as s:
        auth.add_user(s, "admin", "admin", None, PASSWORD, NOW)
        auth.add_user(s, "duty", "duty", "u1", PASSWORD, NOW)
    yield a
    a.close()


def cookie_file(domain_extra: bool = True) -> bytes:
    return json.dumps(COOKIE_EDITOR if domain_extra else COOKIE_EDITOR[:3]).encode()


def test_only_admins_see_the_page(xapp: App) -> None:
    duty = login(client_for(xapp), "duty")
    assert duty.get("/sessions").status_code == 403
    assert 'href="/sessions"' not in duty.get("/").text
    admin = login(client_for(xapp), "admin")
    page = admin.get("/sessions")
    assert page.status_code == 200 and "还没有登录会话" in page.text
    assert 'href="/sessions"' in admin.get("/").text


def test_import_and_remove_through_the_page(xapp: App) -> None:
    c = login(client_for(xapp), "admin")
    csrf = csrf_of(c.get("/sessions").text)
    files = {"file": ("xhs.json", cookie_file(), "application/json")}
    form = {"csrf": csrf, "platform": "xiaohongshu", "label": "运营号", "pace": "45"}
    assert (
        c.post("/sessions/import", data={**form, "csrf": "forged"}, files=files).status_code == 403
    )
    r = c.post("/sessions/import", data=form, files=files)
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    assert (
        "已导入登录会话 #1。" in page.text
        and "丢弃了 1 个其他网站的 Cookie（baidu.com）" in page.text
    )
    assert "运营号" in page.text and "可用" in page.text and "45 秒" in page.text
    assert LOGIN_VALUE not in page.text and "web_session" not in page.text
    # a bad file is named where it is wrong, and nothing is stored
    bad = {"file": ("cookies.txt", b".xiaohongshu.com\tTRUE\t/\n", "text/plain")}
    r = c.post("/sessions/import", data=form, files=bad)
    assert r.status_code == 400 and "cookies.txt：第 1 行应有 7 个以制表符分隔的字段" in r.text
    r = c.post("/sessions/1/remove", data={"csrf": csrf})
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    assert "已删除登录会话 #1" in page.text and "还没有登录会话" in page.text


@pytest.mark.skipif(not Path(DEFAULT_EXECUTABLE).exists(), reason="needs /usr/bin/chromium")
def test_qr_login_in_the_console(xapp: App) -> None:
    from playwright.sync_api import sync_playwright

    site = LoginSite()
    with LocalServer(site.routes()) as platform:
        xapp.settings.platforms = {"xiaohongshu": _origins(platform.base)}  # type: ignore[dict-item]
        with serving(xapp, NOW) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=DEFAULT_EXECUTABLE,
                                         args=list(CHROMIUM_ARGS))  # fmt: skip
            warm = browser.new_page()  # a fresh Chromium finds its CJK font on a first page
            warm.set_content('<p lang="zh-CN">巡查控制台</p>')
            warm.evaluate("document.fonts.ready.then(() => true)")
            warm.screenshot()
            warm.close()
            page = browser.new_context(
                base_url=base, viewport={"width": 1280, "height": 900}, locale="zh-CN"
            ).new_page()
            page.goto("/login")
            page.get_by_label("用户名").fill("admin")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/")
            page.get_by_role("link", name="登录会话").click()
            page.wait_for_url("**/sessions")
            # an imported session first, so the list has something to show
            page.locator("form[action='/sessions/import'] select").select_option("xiaohongshu")
            page.get_by_label("名称").fill("运营号")
            upload = {"name": "xhs.json", "mimeType": "application/json", "buffer": cookie_file()}
            page.set_input_files("input[type=file]", files=[upload])  # type: ignore[list-item]
            page.get_by_role("button", name="导入").click()
            page.wait_for_url("**/sessions?added=1*")
            # 扫码登录: the server's Chromium opens the login page; this page shows its QR
            page.locator("form[action='/sessions/login'] select").select_option("xiaohongshu")
            page.get_by_role("button", name="扫码登录").click()
            page.wait_for_url(re.compile(r".*/sessions/login/[\w-]+$"))
            qr = page.get_by_role("img", name="小红书登录二维码")
            qr.wait_for(timeout=30_000)
            page.wait_for_function("document.querySelector('img.qr')?.naturalWidth > 100")
            assert "等待扫码" in page.content()
            shoot(page, "sessions-qr-1280")
            site.scanned.set()  # the phone confirms
            page.get_by_text("登录成功").wait_for(timeout=20_000)  # the page reloads itself
            assert "保存为小红书登录会话 #2" in page.content()
            expire_by_walls(xapp, 1)  # the imported one meets the login wall twice
            page.get_by_role("link", name="返回登录会话").click()
            page.wait_for_url("**/sessions")
            assert "连续 2 次检查遇到登录墙（最近一次：账号 xhs-2）" in page.content()
            shoot(page, "sessions-1280")
            text = page.content()
            assert "扫码登录（admin）" in text and "运营号" in text
            assert SCANNED_LOGIN not in text and LOGIN_VALUE not in text
            browser.close()
    with Session(xapp.engine) as s:
        rows = s.exec(select(PlatformSession).order_by(PlatformSession.id)).all()
    assert [(r.source, r.state) for r in rows] == [("file", "expired"), ("qr", "active")]
    from monitor.sessions.manage import lease

    scanned = lease(xapp.engine, xapp.settings, rows[1].id, NOW)
    assert {c.name: c.value for c in scanned.cookies}["web_session"] == SCANNED_LOGIN


def test_a_qr_nobody_scans_expires(xapp: App) -> None:
    if not Path(DEFAULT_EXECUTABLE).exists():
        pytest.skip("needs /usr/bin/chromium")
    import anyio

    from monitor.sessions.qrlogin import QrLogins

    site = LoginSite()
    with LocalServer(site.routes()) as platform:
        xapp.settings.platforms = {"xiaohongshu": _origins(platform.base)}  # type: ignore[dict-item]
        xapp.settings.sessions.login_timeout_seconds = 3
        logins = QrLogins(xapp.engine, lambda: xapp.settings, xapp.clock)

        async def run() -> Any:
            flow = logins.start("xiaohongshu", "admin", Actor("admin", "web", "127.0.0.1"))
            assert flow.task is not None
            await flow.task
            return flow

        flow = anyio.run(run)
    assert flow.state == "expired" and "二维码已过期" in flow.message
    assert flow.qr is not None and not flow.whole_page  # the QR image itself was shown
    with Session(xapp.engine) as s:
        assert s.exec(select(PlatformSession)).all() == []


def expire_by_walls(xapp: App, session_id: int) -> None:
    import anyio

    from monitor.sessions.manage import lease
    from probes.model import Observation, Outcome

    session = lease(xapp.engine, xapp.settings, session_id, NOW)
    with ThreadPoolExecutor(1) as other:  # (this thread runs playwright's event loop)
        for account in ("xhs-1", "xhs-2"):
            wall = Observation(account, "xiaohongshu", "", NOW, Outcome.blocked,
                               login_required=True)  # fmt: skip
            other.submit(anyio.run, xapp.sessions.done, session, wall, account).result()


def _origins(base: str) -> Any:
    from monitor.config import PlatformConfig

    return PlatformConfig(origins={"login": base, "www": base})


def shoot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.fonts.ready.then(() => true)")
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
