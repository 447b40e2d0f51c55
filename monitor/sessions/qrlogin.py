"""扫码登录: the console opens a platform's login page in Chromium and an operator scans its QR.

The server does what a person at a browser would: opens the platform's login page (its
``login`` origin in ``[platforms.<p>] origins`` stands in for the real host), finds the QR
image (clicking the login button if no dialog shows it), and keeps a picture of it — of the
image, or of the whole page when the image cannot be found — for the console page, which
reloads itself every few seconds (no JavaScript). Meanwhile it watches the context's cookies:
when the platform's sign-in cookie appears or changes from the visitor's (or the page moves
away from the login page while a login cookie is held), the login happened; the context's
cookies of the platform are stored as a new session. A QR nobody scans within ``[sessions]
login_timeout_seconds`` ends the attempt. Every login has a browser of its own, closed when
it ends: logins are rare, and the patrol's pool stays the patrol's.

Flows live in the process that serves the console (:class:`QrLogins`, held by the web app):
the page that started one must be reloaded on the same node.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy.engine import Engine

from monitor.config import Settings
from monitor.sessions.cookiefile import for_platform, playwright_cookies
from monitor.sessions.manage import name_of, save, stand_ins
from monitor.sessions.platforms import LOGIN, login_url, owns
from monitor.store.audit import Actor

log = structlog.get_logger("xuncha.sessions")

POLL_SECONDS = 1.0
KEEP_SECONDS = 600  # an ended flow stays readable this long (its page shows the outcome)
#: the states of a flow, as the console says them
STATES = {
    "starting": "正在打开登录页",
    "waiting": "等待扫码",
    "done": "登录成功",
    "expired": "二维码已过期",
    "failed": "扫码登录失败",
    "cancelled": "已取消",
}


@dataclass
class Flow:
    token: str
    platform: str
    by: str
    started_at: datetime
    actor: Actor  # who the audit log names when the login is saved
    started: float = field(default_factory=time.monotonic)
    state: str = "starting"
    message: str = ""
    qr: bytes | None = None  # PNG of the QR code (or of the page)
    shots: int = 0  # pictures taken: the page's image URL changes with each
    whole_page: bool = False
    session_id: int | None = None
    ended: float | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def open(self) -> bool:
        return self.state in ("starting", "waiting")

    @property
    def said(self) -> str:
        return STATES.get(self.state, self.state)


class QrLogins:
    """The console's QR logins in progress, by a token that is the page's address."""

    def __init__(
        self,
        engine: Engine,
        settings: Callable[[], Settings],
        clock: Callable[[], datetime],
        on_saved: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self._settings = settings
        self.clock = clock
        self.on_saved = on_saved  # e.g. the patrol's rotation reads the new session at once
        self.flows: dict[str, Flow] = {}

    @property
    def settings(self) -> Settings:
        return self._settings()

    def start(self, platform: str, by: str, actor: Actor) -> Flow:
        """Begin a login on the running event loop; the flow is read back by its token."""
        self._forget_old()
        flow = Flow(secrets.token_urlsafe(16), platform, by, self.clock(), actor)
        flow.message = f"正在打开{name_of(platform)}登录页…"
        self.flows[flow.token] = flow
        flow.task = asyncio.get_running_loop().create_task(self._run(flow))
        return flow

    def get(self, token: str) -> Flow | None:
        return self.flows.get(token)

    def cancel(self, token: str) -> None:
        flow = self.flows.get(token)
        if flow is not None and flow.open and flow.task is not None:
            flow.task.cancel()

    def _forget_old(self) -> None:
        now = time.monotonic()
        for token, f in list(self.flows.items()):
            if f.ended is not None and now - f.ended > KEEP_SECONDS:
                del self.flows[token]

    async def _run(self, flow: Flow) -> None:
        try:
            await self._login(flow)
        except asyncio.CancelledError:
            flow.state, flow.message = "cancelled", "扫码登录已取消。"
        except Exception as e:  # the browser or the page failed: said, never raised
            flow.state = "failed"
            flow.message = (
                f"扫码登录失败：{_short(str(e).splitlines()[0] if str(e) else type(e).__name__)}"
            )
            log.warning("qr_login_failed", platform=flow.platform, error=flow.message)
        finally:
            flow.ended = time.monotonic()

    async def _login(self, flow: Flow) -> None:
        from playwright.async_api import async_playwright

        from probes.fetch.browser import CHROMIUM_ARGS

        s = self.settings
        facts = LOGIN[flow.platform]
        configured = s.platforms.get(flow.platform)
        url = login_url(flow.platform, dict(configured.origins) if configured else {})
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(s.browser.executable),
                args=list(CHROMIUM_ARGS),
                proxy={"server": s.http.proxy} if s.http.proxy else None,
                timeout=30_000,
            )
            try:
                ctx = await browser.new_context(
                    locale="zh-CN", timezone_id="Asia/Shanghai",
                    viewport={"width": 1280, "height": 900}, user_agent=s.http.user_agent or None,
                )  # fmt: skip
                page = await ctx.new_page()
                await page.goto(url, wait_until="domcontentloaded", timeout=30_000)
                qr = await _find_qr(page, facts.qr_selector, facts.login_button)
                flow.whole_page = qr is None
                before = await self._marks(ctx, flow.platform)
                start = _place(page.url)
                deadline = flow.started + s.sessions.login_timeout_seconds
                flow.state = "waiting"
                flow.message = (
                    f"请用{name_of(flow.platform)} App 扫描二维码并在手机上确认登录。"
                    + ("（未找到二维码图片，下图为整个登录页。）" if flow.whole_page else "")
                )
                while True:
                    if await self._signed_in(ctx, page, flow.platform, before, start):
                        break
                    await self._picture(flow, page, qr)
                    if time.monotonic() >= deadline:
                        flow.state = "expired"
                        flow.message = "二维码已过期，没有人扫码登录。请重新开始扫码登录。"
                        return
                    await asyncio.sleep(POLL_SECONDS)
                await asyncio.sleep(POLL_SECONDS)  # the last cookies of the login land
                cookies = playwright_cookies(await ctx.cookies())
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(browser.close(), 10)
        self._store(flow, cookies)

    def _store(self, flow: Flow, cookies: list[Any]) -> None:
        now = self.clock()
        hosts = stand_ins(self.settings.platforms, flow.platform)
        kept = for_platform(cookies, "扫码登录", flow.platform, hosts, now)
        row = save(
            self.engine, self.settings, flow.platform, kept.cookies, label=f"扫码登录（{flow.by}）",
            pace=None, source="qr", by=flow.by, now=now, expires_at=kept.expires_at(),
            actor=flow.actor,
        )  # fmt: skip
        flow.session_id, flow.state = row.id, "done"
        flow.message = (
            f"已登录：保存为{name_of(flow.platform)}登录会话 #{row.id}（{row.cookie_count} 个 "
            "Cookie），巡查将轮流使用。"
        )
        log.info("qr_login_saved", platform=flow.platform, session=row.id, by=flow.by)
        self.on_saved()

    async def _marks(self, ctx: Any, platform: str) -> dict[str, str]:
        """The platform's cookies now, by name (its sign-in marks and login cookies)."""
        hosts = stand_ins(self.settings.platforms, platform)
        return {
            c["name"]: c["value"] for c in await ctx.cookies() if owns(platform, c["domain"], hosts)
        }

    async def _signed_in(
        self, ctx: Any, page: Any, platform: str, before: dict[str, str], start: tuple[str, str]
    ) -> bool:
        facts = LOGIN[platform]
        now = await self._marks(ctx, platform)
        for name in facts.signed_in_marks:
            value = now.get(name)
            if (
                value
                and value != before.get(name)
                and not (name == "LOGIN_STATUS" and value != "1")
            ):
                return True
        moved = _place(page.url) != start
        return moved and any(now.get(n) for n in facts.login_cookies)

    async def _picture(self, flow: Flow, page: Any, qr: Any) -> None:
        """A fresh picture of the QR (platforms renew it) or, failing that, of the page."""
        shot = None
        if qr is not None:
            with contextlib.suppress(Exception):
                shot = await qr.screenshot(type="png", timeout=3_000)
        if shot is None:
            with contextlib.suppress(Exception):  # a page navigating away: keep the last one
                shot = await page.screenshot(type="png", timeout=5_000)
                flow.whole_page = True
        if shot is not None:
            flow.qr, flow.shots = shot, flow.shots + 1


async def _find_qr(page: Any, selector: str, button: str) -> Any:
    """The QR image's locator, clicking ``button`` first if it does not show; None if none."""
    if not selector:
        return None
    qr = page.locator(selector).first
    with contextlib.suppress(Exception):
        await qr.wait_for(state="visible", timeout=8_000)
        return qr
    if button:
        with contextlib.suppress(Exception):
            await page.locator(button).first.click(timeout=5_000)
            await qr.wait_for(state="visible", timeout=8_000)
            return qr
    return None


def _place(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return (parts.netloc, parts.path.rstrip("/"))


def _short(s: str, limit: int = 200) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"
