"""A picture of a page as it was fetched: stored HTML rendered by the browser pool, offline.

Web pages and WeChat articles are read over HTTP, so their evidence is the HTML that came
back; a unit disputing a report wants to see the page. Rendering it later from the stored
bytes must not contact the site again (a stolen account's page must not learn it is being
looked at, nor run its script in our browser), so the page is drawn in a context of its
own (:func:`_offline_context`):

- JavaScript off; network emulated offline; service workers blocked; a proxy to a port
  where nothing listens, behind everything else;
- the page's document is served by a route from the given bytes at ``http://evidence.invalid/``
  (``.invalid`` never resolves, RFC 6761), once; every other request — images, scripts,
  style sheets, frames, a meta refresh, prefetches — is aborted. Relative links resolve to
  that address and go nowhere; inline styles and ``<style>`` still apply;
- bounded: one page permit of the pool (the patrol's browser readers keep the others), a
  time limit for loading and drawing, and the picture cut at ``max_height`` pixels.

The picture is a WebP by default (``format``: "webp", "jpeg" or "png"), drawn by Chromium
itself (DevTools' ``Page.captureScreenshot``): a page of text and tables at quality 80 is a
tenth of the PNG's bytes and reads the same in a 通报's annex, and encoding it costs less
CPU than the PNG did. What drew it (Chromium's version), at which width, in which format
and how tall the page was are returned with it, to be stored beside it.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from typing import Any

from probes.fetch.browser import BrowserPool, BrowserSettings

#: The address the stored document is served at: resolvable by nobody.
DOCUMENT_URL = "http://evidence.invalid/"
#: Nothing listens on the loopback's TCP port 9 (discard): a request that got past the
#: aborting routes would still reach no site.
DEAD_PROXY = "http://127.0.0.1:9"
VIEWPORT_HEIGHT = 900
#: Chromium cannot draw a taller picture in one piece.
MOST_HEIGHT = 16_384
HEIGHT_OF_PAGE = (
    "() => Math.max(document.documentElement ? document.documentElement.scrollHeight : 0,"
    " document.body ? document.body.scrollHeight : 0)"
)


class RenderFailed(Exception):
    """This page could not be drawn (too slow, too large, refused by Chromium): a property of
    the page, recorded so it is not tried again and again. ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: the formats a picture may be stored in, and their media types
MEDIA_TYPES = {"webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class Rendered:
    picture: bytes
    media_type: str  # "image/webp", "image/jpeg" or "image/png"
    width: int  # of the picture (the viewport's)
    height: int  # of the picture
    page_height: int  # of the page as laid out: more than ``height`` when cut
    browser: str  # "Chromium 156.0.8078.114"
    elapsed_ms: int


async def render_html(
    pool: BrowserPool,
    html: str,
    *,
    width: int = 1280,
    max_height: int = 8000,
    timeout: float = 15.0,
    css: str = "",
    format: str = "webp",
    quality: int = 80,
) -> Rendered:
    """Draw ``html`` at ``width`` CSS pixels, the whole page down to ``max_height`` pixels,
    as ``format`` (``quality`` for the lossy ones); ``css``: rules appended to the page, for
    what only its script would have done (a platform's, e.g.
    ``probes.platforms.wechat.ARTICLE_CSS``).

    Raises :class:`RenderFailed` for a page that cannot be drawn within ``timeout``, and
    :class:`probes.fetch.browser.BrowserError` when the browser itself is not there (no
    page could be opened): that says nothing about the page.
    """
    body = (html + (f"<style>{css}</style>" if css else "")).encode("utf-8")
    cap = max(1, min(max_height, MOST_HEIGHT))
    started = time.monotonic()
    try:
        # opening a page is the pool's business (its own time limit); drawing is this one's
        opening = pool.settings.page_timeout_seconds
        # the page is kept for the next picture: a renderer started anew (fonts and all)
        # cost more than the drawing itself
        offline = _offline_context(width)
        async with pool.page(f"offline-{width}", opening, offline, reuse=True) as page:
            await page.route("**/*", _serve_once(body))
            try:
                drawing = _draw(page, width, cap, format, quality)
                picture, height, full = await asyncio.wait_for(drawing, timeout)
            except TimeoutError:
                raise RenderFailed(f"网页截图超时（{timeout:g} 秒内未能绘制完成）") from None
            except RenderFailed:
                raise
            except Exception as e:  # playwright's Error: the renderer refused or crashed
                first = (str(e).splitlines() or [type(e).__name__])[0]
                raise RenderFailed(f"网页截图失败：{first[:160]}") from e
            await page.unroute("**/*")  # given back clean: the next picture routes its own
    finally:
        await pool.recycle_if_due()
    return Rendered(
        picture=picture,
        media_type=MEDIA_TYPES[format],
        width=width,
        height=height,
        page_height=full,
        browser=f"Chromium {pool.version}".strip(),
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )


async def _draw(
    page: Any, width: int, cap: int, format: str, quality: int
) -> tuple[bytes, int, int]:
    await page.goto(DOCUMENT_URL, wait_until="load")
    try:  # DevTools' own evaluation: it runs with the page's script switched off
        full = int(await page.evaluate(HEIGHT_OF_PAGE) or 0)
    except Exception:
        full = 0
    full = max(full, VIEWPORT_HEIGHT)
    height = min(full, cap)
    if format == "png":
        png = await page.screenshot(
            type="png",
            full_page=True,
            clip={"x": 0, "y": 0, "width": width, "height": height},
            animations="disabled",  # CSS animations run without script: drawn at their end
            caret="hide",
        )
        return png, height, full
    # playwright encodes PNG or JPEG only; Chromium itself encodes WebP, beyond the viewport
    cdp = await page.context.new_cdp_session(page)
    try:
        shot = await cdp.send(
            "Page.captureScreenshot",
            {
                "format": format,
                "quality": max(1, min(quality, 100)),
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                "captureBeyondViewport": True,
                "fromSurface": True,
            },
        )
    finally:
        await cdp.detach()
    return base64.b64decode(shot["data"]), height, full


def _serve_once(body: bytes) -> Any:
    """The page's route: its document, once (a refresh to itself finds nothing); every other
    request aborted. ``aborted``, not ``failed``: an aborted navigation leaves the page as
    it is, where a failed one would put Chromium's error page in its place."""
    served = False

    async def route(r: Any) -> None:
        nonlocal served
        req = r.request
        if not served and req.url == DOCUMENT_URL and req.is_navigation_request():
            served = True
            await r.fulfill(
                status=200, body=body, headers={"content-type": "text/html; charset=utf-8"}
            )
        else:
            await r.abort("aborted")

    return route


def _offline_context(width: int) -> Any:
    async def make(browser: Any, s: BrowserSettings) -> Any:
        # a layout viewport of ``width`` CSS pixels, even for a phone's width: emulating a
        # phone (is_mobile) would lay a page without ``meta viewport`` out at 980 pixels and
        # cut the picture at ``width``
        ctx = await browser.new_context(
            java_script_enabled=False,
            offline=True,
            service_workers="block",
            proxy={"server": DEAD_PROXY},
            accept_downloads=False,
            locale=s.locale,
            timezone_id="Asia/Shanghai",
            viewport={"width": width, "height": VIEWPORT_HEIGHT},
            device_scale_factor=1,
        )

        async def refuse(r: Any) -> None:  # behind each page's own route: nothing passes
            await r.abort("aborted")

        await ctx.route("**/*", refuse)
        return ctx

    return make
