"""The browser pool: one long-lived Chromium (playwright) for platforms that need a browser.

Why a pool and not ``launch()`` per probe: a Chromium start costs ~1 s and ~150 MB, and
leaked contexts are the top complaint about browser monitors. So:

- one browser, started lazily on the first :meth:`BrowserPool.visit` (a patrol with no
  browser platform never launches anything);
- at most ``max_pages`` pages at once (a semaphore), one context per platform (its cookies
  persist like a visitor's would), every page closed in ``finally``, each close bounded by
  ``close_timeout_seconds`` (a hung renderer must not hang the patrol);
- the browser recycled after ``recycle_after_pages`` pages or when the Chromium processes'
  memory (PSS from ``/proc``) passes ``memory_ceiling_mb``: new pages wait, running ones
  finish, then contexts and browser are closed (killed if close hangs) and relaunched;
- :meth:`visit` captures the JSON responses whose URL matches given patterns (the list and
  profile APIs the page itself calls, signed as only the site's own script can), waits for
  them, optionally evaluates a JS expression (``window.__INITIAL_STATE__``) and keeps the
  page's HTML as evidence;
- a check costs what reading needs, not what showing needs (issue 32): one context per
  platform, reused by every check of it; images, media and fonts aborted before they are
  asked for — in Chromium, by a CDP ``Fetch`` pattern per resource type (:class:`_Guard`),
  not by a playwright route: a route pauses *every* request for this process to decide and
  switches the HTTP cache off, so each navigation fetched the site's scripts again (a
  third of a Kuaishou check's CPU on the simulator); a reader may also ``keep`` only the
  calls it reads (:meth:`_visit`), every other request but the documents and scripts
  aborted the same way; the navigation waits for the document's first bytes only (``commit``), and
  the page is stopped (``window.stop()``) as soon as the awaited answers are in, so its
  other requests, its ``load`` and the network's idleness are never waited for. No picture
  is taken per visit (``screenshot_each_visit``): the evidence picture is drawn later from
  the stored HTML, only when what the page shows changed (``monitor.service.screenshots``).

Whoever patrols owns the pool: ``BrowserPool(BrowserSettings(...))`` at start-up, handed to
readers in :class:`probes.fetch.Tools`, and ``await pool.close()`` at shutdown. There is no
process-wide pool, so no reader can start a default-configured browser behind the
configuration's back.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from probes.fetch.chromium import chromium_memory_mb, kill_chromium
from probes.fetch.chromium import chromium_pids as chromium_pids  # re-exported
from probes.fetch.page_answers import BrowserError as BrowserError  # re-exported
from probes.fetch.page_answers import Captured as Captured
from probes.fetch.page_answers import PageResult as PageResult
from probes.fetch.page_answers import in_app, json_of, read_page, short

log = structlog.get_logger("xuncha.browser")

DEFAULT_EXECUTABLE = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


#: seconds between two readings of Chromium's memory for the ceiling (a reading costs as
#: much CPU as a light check; two pages cannot grow past the ceiling in that time)
MEMORY_CHECK_SECONDS = 5.0
#: GETs made by the page itself (cookies and the site's request hooks included): each
#: answer as [status, body text, final URL], [0, "", ""] for a request that failed
_IN_PAGE_GET = """async (urls) => Promise.all(urls.map((u) => new Promise((resolve) => {
  const x = new XMLHttpRequest();
  x.open('GET', u);
  x.withCredentials = true;
  x.onload = () => resolve([x.status, x.responseText, x.responseURL]);
  x.onerror = () => resolve([0, '', '']);
  x.send();
})))"""


@dataclass
class BrowserSettings:
    executable_path: str = DEFAULT_EXECUTABLE
    max_pages: int = 2  # pages open at once
    recycle_after_pages: int = 500  # relaunch after this many pages
    memory_ceiling_mb: int = 1200  # relaunch when Chromium's processes use more (PSS)
    page_timeout_seconds: float = 30.0  # navigation plus waiting for captured responses
    close_timeout_seconds: float = 5.0
    # after the awaited responses, for captured ones not awaited; none once all are in
    settle_ms: int = 300
    # a platform's page is navigated again by its next check instead of opened anew (at most
    # ``max_pages`` per context stay open between checks)
    reuse_pages: bool = True
    block_resources: tuple[str, ...] = ("image", "media", "font")  # not needed to read
    # a JPEG per visit cost more than reading the page; pictures are drawn from the stored
    # HTML when the content changed instead (monitor.service.screenshots)
    screenshot_each_visit: bool = False
    user_agent: str | None = None
    proxy: str | None = None
    locale: str = "zh-CN"
    extra_args: tuple[str, ...] = ()


#: Makes a context of its own kind for :meth:`BrowserPool.page`: (browser, settings) → context.
MakeContext = Callable[[Any, "BrowserSettings"], Awaitable[Any]]


#: playwright's resource types (``Request.resource_type``) as CDP's ``Network.ResourceType``,
#: those a ``Fetch`` pattern accepts (Chromium 156 refuses TextTrack, Prefetch, Manifest…)
_CDP_TYPES = {
    t.lower(): t
    for t in (
        "Document", "Stylesheet", "Image", "Media", "Font", "Script", "XHR", "Fetch",
        "EventSource", "Ping", "CSPViolationReport", "Other",
    )
}  # fmt: skip
#: what a page trimmed to its reader's calls still makes of itself
_PAGE_ITSELF = frozenset({"document", "script"})


class _Guard:
    """Aborts a page's requests by resource type inside Chromium, through a CDP session of
    the page's own: ``Fetch`` pauses only the types asked (images, media, fonts; with
    ``keep``, everything but documents and scripts), so the page's other requests never wait
    on this process and the HTTP cache stays on. Why not ``page.route``: playwright disables
    the cache for a routed page and pauses every request to ask the route. The session is the
    page's own: a cross-site frame, in a renderer of its own, is not covered (its pictures are
    fetched; a price paid only by pages that embed one)."""

    def __init__(self, cdp: Any, blocked: frozenset[str]) -> None:
        self.cdp = cdp
        self.blocked = blocked
        self.keep: list[re.Pattern[str]] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        cdp.on("Fetch.requestPaused", self._paused)

    @classmethod
    async def start(cls, ctx: Any, page: Any, blocked: frozenset[str]) -> _Guard:
        guard = cls(await ctx.new_cdp_session(page), blocked)
        await guard._enable()
        return guard

    async def trim(self, keep: list[re.Pattern[str]] | None) -> None:
        """From now on also abort what is neither a document, a script nor a call matching
        ``keep``; None: back to the blocked types alone."""
        self.keep = keep
        await self._enable()

    async def _enable(self) -> None:
        kinds = self.blocked if self.keep is None else set(_CDP_TYPES) - _PAGE_ITSELF
        kinds = {k for k in kinds if k in _CDP_TYPES}
        if not kinds:
            await self.cdp.send("Fetch.disable")
            return
        patterns = [{"urlPattern": "*", "resourceType": _CDP_TYPES[k]} for k in sorted(kinds)]
        await self.cdp.send("Fetch.enable", {"patterns": patterns})

    def _passes(self, kind: str, url: str) -> bool:
        if kind in self.blocked:
            return False
        return self.keep is None or kind in _PAGE_ITSELF or any(k.search(url) for k in self.keep)

    def _paused(self, event: dict[str, Any]) -> None:
        rid = event["requestId"]
        kind = str(event.get("resourceType", "")).lower()
        if self._passes(kind, str(event.get("request", {}).get("url", ""))):
            sent = self.cdp.send("Fetch.continueRequest", {"requestId": rid})
        else:
            sent = self.cdp.send(
                "Fetch.failRequest", {"requestId": rid, "errorReason": "BlockedByClient"}
            )
        task = asyncio.ensure_future(sent)
        self._tasks.add(task)  # held until done: a task nobody holds may be collected
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # a page closed under its request: nothing left to answer


class BrowserPool:
    """One Chromium shared by all browser readers; see the module docstring."""

    def __init__(self, settings: BrowserSettings | None = None) -> None:
        self.settings = settings or BrowserSettings()
        self._sem = asyncio.Semaphore(self.settings.max_pages)
        self._lock = asyncio.Lock()  # launch and recycle
        self._pw: Any = None
        self._browser: Any = None
        self._contexts: dict[str, Any] = {}
        self._idle_pages: dict[str, list[Any]] = {}  # per context: open pages kept for reuse
        self._own: set[str] = set()  # contexts this pool made (not a ``make``'s): guarded
        self._guards: dict[Any, _Guard] = {}  # per open page of those
        self._pages_since_launch = 0
        self.pages_served = 0
        self.launches = 0
        self.peak_mb = 0.0
        self._memory_mb = 0.0  # Chromium's memory when last read, and when (monotonic)
        self._memory_read_at = float("-inf")
        self._closed = False
        self._recycling = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def __aenter__(self) -> BrowserPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def running(self) -> bool:
        return self._browser is not None

    @property
    def pages_in_use(self) -> int:
        """Page permits taken now (a recycle holds them all), for the metrics scrape."""
        return self.settings.max_pages - self._sem._value

    @contextlib.asynccontextmanager
    async def page(
        self,
        context: str,
        limit: float,
        make: MakeContext | None = None,
        cookies: Sequence[dict[str, Any]] = (),
        reuse: bool | None = None,
    ) -> AsyncIterator[Any]:
        """A new page in the context named ``context``, holding one of the ``max_pages``
        permits; closed afterwards within the close timeout. The context is a platform's
        (cookies kept like a visitor's), or one ``make(browser, settings)`` creates the first
        time (:mod:`probes.fetch.render`'s offline one); ``cookies`` are given to a context
        when it is made (a logged-in session's: :mod:`probes.fetch.session`). ``reuse``: the
        page, if it served without an error, stays open for the context's next use (default:
        for the platforms' own contexts, when ``reuse_pages``; a caller that adds routes to
        the page removes them before it is given back). Raises
        :class:`BrowserError` when the browser cannot open a page (it is relaunched on the
        next one)."""
        if self._closed:
            raise BrowserError("浏览器池已关闭")
        await self._permit()
        try:
            ctx = await self._context(context, make, cookies)
            reusable = self.settings.reuse_pages and (make is None if reuse is None else reuse)
            idle = self._idle_pages.setdefault(context, []) if reusable else []
            page = idle.pop() if idle else None
            if page is not None and page.is_closed():
                self._guards.pop(page, None)  # gone with its renderer (a crash)
                page = None
            if page is None:
                try:
                    page = await asyncio.wait_for(ctx.new_page(), limit)
                    if context in self._own and self.settings.block_resources:
                        blocked = frozenset(self.settings.block_resources)
                        self._guards[page] = await asyncio.wait_for(
                            _Guard.start(ctx, page, blocked), limit
                        )
                except Exception as e:  # a crashed or closed browser: relaunch next visit
                    self._pages_since_launch = self.settings.recycle_after_pages
                    raise BrowserError(
                        f"浏览器无法打开新页面：{short(str(e) or type(e).__name__)}"
                    ) from e
            kept = False
            try:
                yield page
                # a page that served well is kept for the context's next visit: its renderer
                # process stays up (starting one cost most of a check's CPU)
                kept = reusable and ctx is self._contexts.get(context) and not page.is_closed()
            finally:
                if kept:
                    idle.append(page)
                else:
                    self._guards.pop(page, None)
                    await self._bounded(page.close(), "page_close")
                self._pages_since_launch += 1
                self.pages_served += 1
        finally:
            self._sem.release()

    async def _visit(
        self,
        platform: str,
        url: str,
        *,
        capture: Sequence[str] = (),
        wait_for: Sequence[str] | None = None,
        evaluate: str | None = None,
        screenshot: bool | None = None,
        timeout: float | None = None,
        context: str | None = None,
        cookies: Sequence[dict[str, Any]] = (),
        keep: Sequence[str] | None = None,
    ) -> PageResult:
        """Open ``url`` in ``platform``'s context (or the one named ``context``, made with
        ``cookies``); capture JSON from URLs matching ``capture``.

        Waits until a response matched each of ``wait_for`` (default: all of ``capture``) or
        the timeout; missing responses are not an error here, the reader judges.
        ``screenshot`` None: as ``screenshot_each_visit`` says. ``keep``: the page makes its
        documents and scripts and, of its other requests, only those whose URL matches one of
        these patterns; the rest are aborted (None: only ``block_resources``).
        """
        if screenshot is None:
            screenshot = self.settings.screenshot_each_visit
        limit = timeout or self.settings.page_timeout_seconds
        async with self.page(context or platform, limit, cookies=cookies) as page:
            started = time.monotonic()  # the page's own time, not a browser launch's
            if keep is None:
                result = await read_page(
                    page, url, capture, wait_for, evaluate, limit, self.settings.settle_ms
                )
            else:
                result = await self._trimmed(page, url, capture, wait_for, evaluate, limit, keep)
            if screenshot:
                with contextlib.suppress(Exception):
                    result.screenshot = await asyncio.wait_for(
                        page.screenshot(type="jpeg", quality=60), 10
                    )
            result.elapsed_ms = int((time.monotonic() - started) * 1000)
            return result

    async def _trimmed(
        self,
        page: Any,
        url: str,
        capture: Sequence[str],
        wait_for: Sequence[str] | None,
        evaluate: str | None,
        limit: float,
        keep: Sequence[str],
    ) -> PageResult:
        """:func:`~probes.fetch.page_answers.read_page` with the page's requests trimmed to
        ``keep`` (see :meth:`_visit`), its guard given back untrimmed for the page's next
        use."""
        guard = self._guards.get(page)
        if guard is None:  # a context made by ``make``: nothing blocked until now
            guard = self._guards[page] = await _Guard.start(page.context, page, frozenset())
        await guard.trim([re.compile(k) for k in keep])
        try:
            return await read_page(
                page, url, capture, wait_for, evaluate, limit, self.settings.settle_ms
            )
        finally:
            with contextlib.suppress(Exception):  # a page closed under the visit
                await guard.trim(None)

    async def _permit(self) -> None:
        """A page slot; while a recycle is pending, slots go to the recycler first."""
        while True:
            await self._idle.wait()
            await self._sem.acquire()
            if not self._recycling:
                return
            self._sem.release()

    async def call(
        self,
        platform: str,
        origin: str,
        urls: Sequence[str],
        *,
        timeout: float | None = None,
        context: str | None = None,
        route: str | None = None,
        capture: Sequence[str] = (),
        wait_for: Sequence[str] | None = None,
        accept: Callable[[Any], bool] | None = None,
    ) -> PageResult | None:
        """GET each of ``urls`` from inside a page ``platform``'s context already keeps open
        on ``origin`` (a check before left it there): an ``XMLHttpRequest`` of the page, so
        the site's own script signs it as it signs the page's calls, at a tenth of a
        navigation's CPU (no document, no renderer work, no response events). None when no
        such page is idle — the caller navigates instead, which leaves one for next time —
        or when the page could not make the calls. The answers are ``captured``; there is
        no document (``html`` "").

        ``route`` (a path on ``origin``; ``urls`` unused): for a site that signs only its
        app's own calls, the kept page's app is moved to that route as its own links move it
        (``history.pushState`` and the ``popstate`` its router listens to), and the answers
        its script then fetches are captured as :meth:`visit` captures them — those whose
        request ``accept`` takes (which account it asked for) — until each of ``wait_for``
        answered; nothing ``captured`` when they did not within ``timeout`` (the app did not
        follow its router; the page is kept)."""
        name = context or platform
        prefix = origin.rstrip("/") + "/"
        if self._closed or not self._idle_pages.get(name):
            return None
        limit = timeout or self.settings.page_timeout_seconds
        await self._permit()
        try:
            idle = self._idle_pages.get(name) or []
            page = next(
                (p for p in reversed(idle) if not p.is_closed() and p.url.startswith(prefix)),
                None,
            )
            if page is None:
                return None
            idle.remove(page)
            got: list[Any] | None = None
            answers: list[Captured] | None = None
            started = time.monotonic()
            try:
                if route is None:
                    got = await asyncio.wait_for(page.evaluate(_IN_PAGE_GET, list(urls)), limit)
                else:
                    waits = capture if wait_for is None else wait_for
                    answers = await in_app(
                        page, route, capture, waits, accept, limit, self.settings.settle_ms
                    )
                    if answers is None:  # the app did not answer in time: nothing captured
                        answers = []
            except Exception:  # timed out, or the page went away under the call
                got = answers = None
            finally:
                # an app that did not answer in time leaves a page as good as it was
                done = got is not None or route is not None
                kept = done and self._contexts.get(name) is not None
                if kept and not page.is_closed():
                    idle.append(page)
                else:
                    self._guards.pop(page, None)
                    await self._bounded(page.close(), "page_close")
                self._pages_since_launch += 1
                self.pages_served += 1
            if got is None and answers is None:
                return None
            elapsed, final_url = int((time.monotonic() - started) * 1000), page.url
        finally:
            self._sem.release()
            await self.recycle_if_due()
        if answers is not None:
            at = origin.rstrip("/") + (route or "")
            return PageResult(at, final_url, None, "", answers, elapsed_ms=elapsed)
        assert got is not None
        captured = [
            Captured(url or asked, int(status), text.encode(), json_of(text.encode()))
            for (status, text, url), asked in zip(got, urls, strict=True)
            if status
        ]
        return PageResult(origin, final_url, None, "", captured, elapsed_ms=elapsed)

    async def visit(self, platform: str, url: str, **kw: Any) -> PageResult:
        """Open ``url`` in ``platform``'s context (arguments: :meth:`_visit`), then recycle
        the browser if it is due — after the page's permit is released, so it can drain."""
        try:
            return await self._visit(platform, url, **kw)
        finally:
            await self.recycle_if_due()

    async def recycle_if_due(self) -> None:
        """Relaunch the browser if it served its pages or passed its memory ceiling; called
        by whoever used :meth:`page`, once its permit is released."""
        if not self._closed:
            await self._maybe_recycle()

    @property
    def version(self) -> str:
        """The running browser's version ("" before it is launched): evidence says which
        Chromium rendered it."""
        return str(self._browser.version) if self._browser is not None else ""

    # -- lifecycle ------------------------------------------------------------------------

    async def _context(
        self, platform: str, make: MakeContext | None = None, cookies: Sequence[Any] = ()
    ) -> Any:
        async with self._lock:
            if self._browser is None:
                await self._launch()
            fresh = platform not in self._contexts
            ctx = self._contexts.get(platform)
            if ctx is None and make is not None:
                ctx = self._contexts[platform] = await make(self._browser, self.settings)
            if ctx is None:
                s = self.settings
                ctx = await self._browser.new_context(
                    user_agent=s.user_agent,
                    locale=s.locale,
                    timezone_id="Asia/Shanghai",
                    viewport={"width": 1280, "height": 900},
                )
                self._own.add(platform)  # its pages are guarded (block_resources)
                self._contexts[platform] = ctx
            if fresh and cookies:  # a logged-in session's context: its cookies from the start
                await ctx.add_cookies(list(cookies))
            return ctx

    async def _launch(self) -> None:
        s = self.settings
        exe = Path(s.executable_path)
        if not exe.exists():
            raise BrowserError(f"无法启动浏览器：找不到 {exe}（请安装 chromium 或配置浏览器路径）")
        try:
            from playwright.async_api import async_playwright
        except ImportError as e:
            raise BrowserError("无法启动浏览器：未安装 playwright（pip install playwright）") from e
        try:
            self._pw = await async_playwright().start()
            self._browser = await self._pw.chromium.launch(
                executable_path=str(exe),
                args=[*CHROMIUM_ARGS, *s.extra_args],
                proxy={"server": s.proxy} if s.proxy else None,
                timeout=30_000,
            )
        except Exception as e:
            await self._shutdown()
            raise BrowserError(f"无法启动浏览器 {exe}：{short(str(e).splitlines()[0])}") from e
        self.launches += 1
        self._pages_since_launch = 0
        self._memory_mb, self._memory_read_at = 0.0, float("-inf")  # a new browser: read anew
        log.info("browser_launched", executable=str(exe), launches=self.launches)

    async def _maybe_recycle(self) -> None:
        s = self.settings
        due = self._pages_since_launch >= s.recycle_after_pages
        now = time.monotonic()
        if now - self._memory_read_at >= MEMORY_CHECK_SECONDS:
            # reading it walks /proc and every Chromium process's page tables (smaps_rollup):
            # ~40 ms of CPU, as much as a check asked from an open page — so not per check
            self._memory_read_at = now
            self._memory_mb = chromium_memory_mb()
            self.peak_mb = max(self.peak_mb, self._memory_mb)
        due = due or self._memory_mb >= s.memory_ceiling_mb
        if not due or self._recycling or self._browser is None:
            return
        self._recycling = True  # set before any await: one recycler at a time
        self._idle.clear()
        taken = 0
        try:
            # take every page permit (not holding the launch lock, which running pages may
            # need): running pages finish, new ones wait for the relaunch
            for _ in range(s.max_pages):
                await self._sem.acquire()
                taken += 1
            mb = int(self._memory_mb)
            log.info("browser_recycled", pages=self._pages_since_launch, memory_mb=mb)
            async with self._lock:
                await self._shutdown()
        finally:
            for _ in range(taken):
                self._sem.release()
            self._recycling = False
            self._idle.set()

    async def _shutdown(self) -> None:
        """Close contexts, browser and driver, each within the close timeout; kill if hung."""
        self._idle_pages.clear()  # closed with their contexts
        self._guards.clear()
        self._own.clear()
        for ctx in list(self._contexts.values()):
            await self._bounded(ctx.close(), "context_close")
        self._contexts.clear()
        if self._browser is not None:
            if not await self._bounded(self._browser.close(), "browser_close"):
                kill_chromium()
            self._browser = None
        if self._pw is not None:
            await self._bounded(self._pw.stop(), "playwright_stop")
            self._pw = None

    async def _bounded(self, aw: Any, what: str) -> bool:
        try:
            await asyncio.wait_for(aw, self.settings.close_timeout_seconds)
            return True
        except Exception as e:
            log.warning("browser_close_failed", step=what, error=type(e).__name__)
            return False

    async def close(self) -> None:
        """Close everything; safe to call twice. The daemon calls this at shutdown."""
        self._closed = True
        async with self._lock:
            await self._shutdown()
