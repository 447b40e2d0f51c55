"""Pictures of stored pages: time and memory per picture over many pages.

Not a test: prints figures. Draws ``--pages`` distinct pages (the styled news-list fixture
with a different column each time, every fifth one a long page cut at ``--max-height``, and
the plain GBK/UTF-8 fixtures) one after another through one
:class:`~probes.fetch.browser.BrowserPool`, offline, as the ``evidence:screenshots`` job
does (``probes.fetch.render``). Prints per-picture time (median, p95, max), PNG size, the
Chromium processes' memory (PSS) and this process's peak RSS, every ``--every`` pages and
at the end; the local server that names the page's resources counts the requests it got
(it must stay 0). CPU per picture is this thread's plus that of every process below this
one (playwright's driver, Chromium), read from /proc before and after each picture.

    python bench/screenshots.py --pages 200
    python bench/screenshots.py --pages 1000 --width 390
    python bench/screenshots.py --pages 100 --format png --max-height 8000   # as before

Measured 2026-12-07, 60 pages, 2 cores at load ~15: PNG at 8000 px, a page per picture
(before): CPU median 1516 ms, size median 118 KiB, mean 201 KiB, max 1015 KiB; WebP q80 at
4000 px, one page kept for the next picture (after): CPU median 614 ms, size median 63 KiB,
mean 82 KiB, max 281 KiB.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pages(n: int, origin: str, tracker: str) -> list[str]:
    from probes.fetch.text import decode_text
    from tests.screenshot_site import FIXTURES, news_page

    plain = [
        decode_text((FIXTURES / "pages" / name).read_bytes(), "text/html")[0]
        for name in ("tzgg_gbk_meta.html", "xwzx_utf8.html", "zwdt_gbk_nometa.html")
    ]
    out = []
    for i in range(n):
        if i % 10 == 9:
            out.append(plain[i % 3] + f"<!-- {i} -->")
            continue
        rows = 200 if i % 5 == 4 else 1 + i % 7  # a long column every fifth page
        items = [
            (f"第{i}批通知之{k}：关于做好冬季安全生产工作的通知", "2026-11-24") for k in range(rows)
        ]
        out.append(news_page(origin, tracker, *items).decode("gb2312"))
    return out


async def run(a: argparse.Namespace) -> None:
    from probes.fetch.browser import BrowserPool, BrowserSettings, chromium_memory_mb
    from probes.fetch.chromium import tree_cpu_seconds
    from probes.fetch.render import RenderFailed, render_html
    from tests.screenshot_site import government_site

    with government_site() as (server, tracker):
        todo = pages(a.pages, server.base, tracker.url)
        times: list[float] = []
        sizes: list[int] = []
        cpus: list[float] = []
        failed = cut = 0
        peak_pss = 0.0
        settings = BrowserSettings(recycle_after_pages=a.recycle)
        started = time.monotonic()
        async with BrowserPool(settings) as pool:
            for i, html in enumerate(todo, 1):
                t = time.monotonic()
                cpu = time.thread_time() + tree_cpu_seconds()
                try:
                    shot = await render_html(
                        pool, html, width=a.width, max_height=a.max_height, timeout=a.timeout,
                        **({"format": a.format} if a.format else {}),
                    )  # fmt: skip
                except RenderFailed:
                    failed += 1
                else:
                    sizes.append(len(getattr(shot, "picture", None) or shot.png))
                    cut += shot.page_height > shot.height
                times.append(time.monotonic() - t)
                cpus.append(time.thread_time() + tree_cpu_seconds() - cpu)
                peak_pss = max(peak_pss, chromium_memory_mb())
                if i % a.every == 0 or i == len(todo):
                    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    print(
                        f"{i:5d} pages  {i / (time.monotonic() - started):5.2f}/s  "
                        f"chromium {chromium_memory_mb():6.0f} MB (peak {peak_pss:.0f})  "
                        f"python rss peak {rss:.0f} MB  launches {pool.launches}",
                        flush=True,
                    )
        ms = sorted(x * 1000 for x in times)
        cpu_ms = sorted(x * 1000 for x in cpus[1:])  # the first one launches the browser
        print(
            f"\n{len(todo)} pictures at {a.width} px ({a.format or 'default format'}): "
            f"median {statistics.median(ms):.0f} ms, "
            f"p95 {ms[int(len(ms) * 0.95) - 1]:.0f} ms, max {ms[-1]:.0f} ms; "
            f"CPU median {statistics.median(cpu_ms):.0f} ms, "
            f"mean {statistics.mean(cpu_ms):.0f} ms; "
            f"size median {statistics.median(sizes) / 1024:.0f} KiB, "
            f"mean {statistics.mean(sizes) / 1024:.0f} KiB, max {max(sizes) / 1024:.0f} KiB; "
            f"{cut} cut at {a.max_height} px; {failed} failed"
        )
        print(f"requests the site got while drawing: {len(server.requests)}; "
              f"connections to the tracker: {tracker.accepted}")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=200)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--max-height", type=int, default=None)  # [screenshots] max_height
    p.add_argument("--format", choices=("webp", "jpeg", "png"), default=None)
    p.add_argument("--timeout", type=float, default=15.0)
    p.add_argument("--recycle", type=int, default=500)
    p.add_argument("--every", type=int, default=50)
    a = p.parse_args()
    if a.max_height is None:
        from monitor.config import ScreenshotsConfig

        a.max_height = ScreenshotsConfig().max_height
    asyncio.run(run(a))


if __name__ == "__main__":
    main()
