"""Drawing the pictures of stored pages: the background job, and one snapshot on demand.

Never on a check's path: a check stores the page's HTML (``monitor.record.batch``) and is
done; an unchanged check stores nothing new and so draws nothing. Afterwards, on the nodes
that probe (they have the browser pool), the ``evidence:screenshots`` job
(``monitor.patrol.jobs``, one node at a time) takes the pages waiting
(``monitor.store.screenshots.next_pages``: oldest first, at most ``[screenshots] per_run``),
reads each HTML blob, has the pool draw it offline (``probes.fetch.render``: WebP at a
capped height by default, ``[screenshots] format``), stores the picture in the blob store
and notes it in ``page_screenshot`` under what the page showed
(``store.screenshots.picture_key``). One at a time: the patrol's browser readers keep the
pool's other pages; at most ``per_run`` a run and ``per_hour`` an hour on a node. What the
pictures cost (count, CPU, bytes) goes to /metrics (``monitor.service.metrics``).

A person asking for a snapshot's pictures (``xuncha snapshot N --screenshot``) has its pages
drawn at once, a failed one tried again. The console does not draw: a page view must not
cost a browser's seconds nor launch Chromium where the console runs; it says the picture
is not there yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
import structlog
from sqlalchemy.engine import Engine

from monitor.config import ScreenshotsConfig, Settings
from monitor.service.metrics import observe_screenshot
from monitor.store import screenshots as store
from monitor.store.blobs import BlobCorrupt, BlobStore
from monitor.store.blobs_db import DatabaseBlobStore
from probes.fetch.browser import BrowserPool
from probes.fetch.chromium import browser_cpu_seconds
from probes.fetch.render import RenderFailed, render_html
from probes.fetch.text import decode_text
from probes.platforms.wechat import ARTICLE_CSS

log = structlog.get_logger("xuncha.screenshots")

RETRY_AFTER = timedelta(hours=1)  # a failed page is tried again no sooner than this


@dataclass
class RenderStats:
    drawn: int = 0
    failed: int = 0
    missing: int = 0  # the page's blob was gone (collected, or never stored)
    behind: int = 0  # snapshots not looked at yet after this run
    seconds: float = 0.0


def width_for(config: ScreenshotsConfig, reader: str) -> int:
    """A phone's width for the readers of pages made for phones (WeChat articles)."""
    return config.mobile_width if reader in config.mobile_readers else config.width


async def draw(
    engine: Engine,
    settings: Settings,
    blobs: BlobStore | DatabaseBlobStore,
    pool: BrowserPool,
    page: store.Due,
    now: datetime,
) -> store.Drawn | None:
    """Draw one stored page and note the attempt; None when its HTML is not in the store.

    Raises :class:`probes.fetch.browser.BrowserError` when the browser itself failed: that
    is no fault of the page, so nothing is noted against it.
    """
    config = settings.screenshots
    width = page.width or width_for(config, page.reader)
    try:
        raw = await anyio.to_thread.run_sync(blobs.get, page.html_sha256)
    except BlobCorrupt as e:
        log.warning("screenshot_page_missing", html=page.html_sha256, error=str(e))
        return None
    # decoded as the readers decode it (BOM, <meta charset>, detection), served as UTF-8
    html, _ = decode_text(raw, "text/html")
    cpu = time.thread_time() + browser_cpu_seconds()
    key = page.stored_as
    try:
        shot = await render_html(
            pool,
            html,
            width=width,
            max_height=config.max_height,
            timeout=config.timeout_seconds,
            css=ARTICLE_CSS,  # a WeChat article's body, hidden until its script runs
            format=config.format,
            quality=config.quality,
        )
    except RenderFailed as e:
        drawn = store.Drawn(
            key, None, width, browser=pool.version, error=e.message, page_sha256=page.html_sha256
        )
    else:
        picture = await anyio.to_thread.run_sync(blobs.put, shot.picture)
        drawn = store.Drawn(
            key, picture, shot.width, shot.height, shot.page_height, shot.browser,
            shot.elapsed_ms, page_sha256=page.html_sha256, media_type=shot.media_type,
            size=len(shot.picture),
        )  # fmt: skip
    observe_screenshot(
        drawn.png_sha256 is not None,
        time.thread_time() + browser_cpu_seconds() - cpu,
        drawn.size,
    )
    await anyio.to_thread.run_sync(
        lambda: store.record(engine, drawn, node=settings.node_name, now=now)
    )
    return drawn


async def render_due(
    engine: Engine,
    settings: Settings,
    blobs: BlobStore | DatabaseBlobStore,
    pool: BrowserPool,
    now: datetime,
) -> RenderStats:
    """One run of the background job: the pages waiting, oldest first, one at a time."""
    config = settings.screenshots
    started = time.monotonic()
    want = config.per_run
    if config.per_hour:
        hour = now - timedelta(hours=1)
        drawn = await anyio.to_thread.run_sync(
            lambda: store.drawn_since(engine, hour, node=settings.node_name)
        )
        want = min(want, config.per_hour - drawn)
    if want <= 0:  # the hour's pictures are drawn: what waits stays queued, in order
        return RenderStats()
    queue = await anyio.to_thread.run_sync(
        lambda: store.next_pages(
            engine,
            want,
            now=now,
            backfill=timedelta(days=config.backfill_days),
            max_attempts=config.max_attempts,
            retry_after=RETRY_AFTER,
        )
    )
    stats = RenderStats(behind=queue.behind)
    for page in queue.pages:
        drawn = await draw(engine, settings, blobs, pool, page, now)
        if drawn is None:
            stats.missing += 1
        elif drawn.png_sha256:
            stats.drawn += 1
        else:
            stats.failed += 1
            log.warning("screenshot_failed", html=page.html_sha256, error=drawn.error)
    await anyio.to_thread.run_sync(store.save_cursor, engine, queue.cursor, now)
    stats.seconds = time.monotonic() - started
    if queue.pages:
        log.info(
            "screenshots_drawn", drawn=stats.drawn, failed=stats.failed, missing=stats.missing,
            behind=stats.behind, seconds=round(stats.seconds, 2),
        )  # fmt: skip
    return stats


async def draw_snapshot(
    engine: Engine,
    settings: Settings,
    blobs: BlobStore | DatabaseBlobStore,
    pool: BrowserPool,
    shots: list[store.Screenshot],
    reader: str,
    now: datetime,
) -> int:
    """On demand: draw a snapshot's pages that have no picture yet (a failed one again:
    a person asked). Returns how many were drawn."""
    drawn = 0
    for shot in shots:
        if shot.png_sha256:
            continue
        due = store.Due(shot.html_sha256, reader, shot.width, key=shot.key)
        result = await draw(engine, settings, blobs, pool, due, now)
        drawn += bool(result and result.png_sha256)
    return drawn
