"""The browser path: pages per second and memory over many consecutive pages.

Not a test: prints figures. Loads the simulator's Douyin user page (its script fetches the
profile and post-list JSON, which the pool captures) ``--pages`` times through one
:class:`~probes.fetch.browser.BrowserPool` with ``--max-pages`` at once, through the
``douyin`` reader (capture, parse, screenshot). Every ``--every`` pages it prints the
Chromium processes' memory (PSS from /proc) and this process's RSS, so growth shows.

    python bench/browser_path.py --pages 200
    python bench/browser_path.py --pages 2000 --max-pages 2 --recycle 500

Goals (issue 3): >= 2 pages/s on 2 cores, peak < 1.5 GB, no growth over 2,000 pages.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


async def run(base: str, a: argparse.Namespace) -> None:
    from probes.fetch import Tools
    from probes.fetch.browser import BrowserPool, BrowserSettings, chromium_memory_mb
    from probes.fetch.http import Fetcher
    from probes.model import Outcome, Target
    from probes.platforms import observe

    settings = BrowserSettings(
        max_pages=a.max_pages,
        recycle_after_pages=a.recycle,
        memory_ceiling_mb=a.ceiling_mb,
        settle_ms=a.settle_ms,
    )
    target = Target("b", "douyin", "douyin", handle="MS4wLjABAAAAok", origins={"www": base})
    ok = done = 0
    peak_pss = 0.0
    sem = asyncio.Semaphore(a.max_pages)
    async with BrowserPool(settings) as pool, Fetcher() as f:
        tools = Tools(http=f, browser=pool)

        async def one() -> None:
            nonlocal ok, done, peak_pss
            async with sem:
                obs = await observe(target, tools)
            ok += obs.outcome is Outcome.ok and len(obs.posts) == 2
            done += 1
            if done % a.every == 0:
                pss = chromium_memory_mb()
                peak_pss = max(peak_pss, pss)
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                rate = done / (time.perf_counter() - started)
                print(
                    f"{done:6d} pages  {rate:5.2f} pages/s  chromium PSS {pss:6.0f} MB  "
                    f"python peak RSS {rss:4.0f} MB  launches {pool.launches}",
                    flush=True,
                )

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(a.pages)))
        secs = time.perf_counter() - started
    print(
        f"total: {a.pages} pages in {secs:.1f} s = {a.pages / secs:.2f} pages/s; ok {ok}; "
        f"peak chromium PSS {max(peak_pss, pool.peak_mb):.0f} MB; launches {pool.launches}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--max-pages", type=int, default=2)
    ap.add_argument("--recycle", type=int, default=500)
    ap.add_argument("--ceiling-mb", type=int, default=1200)
    ap.add_argument("--settle-ms", type=int, default=100)
    ap.add_argument("--every", type=int, default=50)
    a = ap.parse_args()

    import structlog
    from localserver import LocalServer
    from simulator import Simulator

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    with LocalServer(Simulator().routes()) as srv:
        asyncio.run(run(srv.base, a))


if __name__ == "__main__":
    main()
