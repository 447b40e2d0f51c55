"""The browser path: CPU per check for each browser platform, and a soak over many pages.

Not a test: prints figures. The simulator (``tests/simulator``) serves each browser platform's
page, whose script calls the platform's JSON APIs as the real site does; the platform's reader
reads it through a :class:`~probes.fetch.browser.BrowserPool`, exactly as a patrol would
(capture, parse, screenshot).

**CPU per check** (default): for each platform a pool reads one account twice (the launch,
the platform's context and page are made), then ``--checks`` times more; the CPU of those
checks, divided, is one check's. CPU is this process's event-loop thread (the reader and
playwright's client; the simulator's server threads are left out) plus every process below
this one (playwright's driver and Chromium, read from /proc with what their exited children
used: a renderer closed after each page is counted too)::

    python bench/browser_path.py                 # every browser platform, 20 checks each
    python bench/browser_path.py --checks 40 --platforms douyin kuaishou

Each platform is read the way a patrol reads it (``observe``); a platform declared
``http_first`` gets a second row, its browser reader alone (what its checks cost before, and
cost when the HTTP answer is not shown). Xiaohongshu's checks carry the simulator's session
(``Tools.signed_in``: its cookies on the HTTP request and in the browser context).

Issue 32: a platform read over HTTP costs <= 50 ms CPU per check. Measured 2026-12-07 on a
2-core machine other work kept at load ~15 (CPU-ms per check, before -> after the context's
page kept, no picture per visit, the page stopped once its answers are in):
Douyin 592 -> 252, Kuaishou 578 -> 235, Toutiao 588 -> 287, Xiaohongshu 487 -> 249,
Bilibili (HTTP) 10 -> 9. (The version before counted reaped children only and missed the
renderers Chromium closed: it showed ~230-360.)

Then (same day, load 8-13, 30 checks each; before -> after): Toutiao 287 -> 4 (over HTTP,
its ``a_bogus`` signed in Python; its browser reader alone 198), Xiaohongshu 249 -> 4 (the
profile page's HTML over HTTP with the session's cookies; browser alone 172), Douyin 252 ->
50 (its APIs asked by the XHR of a page a check before left open, the site's script
signing them; one navigation in the 30 included), Kuaishou 235 -> 205, Bilibili 9 -> 10.
Every browser check also lost ~35 ms of this process's CPU: Chromium's memory (a walk of
/proc and every renderer's smaps_rollup) is read every 5 s, no longer after every page.
Kuaishou stays a navigation: its ``/rest/v/profile/feed`` is signed (``__NS_hxfalcon``) by
page script no public reader documents or ports.

Then (2026-12-08, before and after interleaved, on the simulator's Kuaishou page as the
real one loads now: its app a script cached a year, a stylesheet, a picture, the visitor's
``did`` registered before the two signed calls, another profile shown in place when the
app's router gets a ``popstate``). First the navigation made cheaper — the pool refusing
images, media and fonts inside Chromium by resource type (a playwright route paused every
request for this process and switched the HTTP cache off) and Kuaishou's page trimmed to
its document, scripts, the two APIs and the ``did`` registration: Kuaishou 226, 230 -> 212,
247 (load 11-12) and 232, 284 -> 220, 245 (load 6-8); Douyin 43, 54 -> 35, 55 and 54, 59
-> 46, 48 (its XHRs no longer pause for this process) — ~10 %, near the noise: on the
simulator's small page the navigation itself (a new document, ~70 ms in Chromium's browser
process, ~55 in the renderer) is the cost. Kuaishou cannot ask from an open page as Douyin
does — the site signs only its app's own calls, so a page's XHR is refused (``result 50``
"签名验证失败") — but the kept page's app can be moved to the account's profile as the
site's links move it, and asks both APIs itself, signed: Kuaishou 252, 242 -> 58, 59 CPU-ms
per check (load 11-12; Douyin 49, 67 -> 44, 45 beside it). Whether the real app asks again
on ``popstate`` is inferred, not captured; when it does not, a check waits 5 s and
navigates, trimmed.

**Soak** (``--soak``): ``--pages`` consecutive Douyin pages through one pool with
``--max-pages`` at once; every ``--every`` pages it prints the Chromium processes' memory (PSS
from /proc) and this process's RSS, so growth shows::

    python bench/browser_path.py --soak --pages 2000 --max-pages 2 --recycle 500

Goals (issue 3): >= 2 pages/s on 2 cores, peak < 1.5 GB, no growth over 2,000 pages.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

#: one account per browser platform that the simulator answers with posts: (reader, handle)
ACCOUNTS = {
    "douyin": "MS4wLjABAAAAok",
    "kuaishou": "3xks000001",
    "toutiao": "MS4wLjABAAAAtt",
    "xiaohongshu": "5f0000000000000000000001",
    "bilibili": "10001",
}


def target(reader: str, base: str) -> Any:
    from probes.model import Target

    # every origin key a reader of this or an earlier version may use, all to the simulator
    keys = ("www", "live", "space", "api")
    return Target("b", reader, reader, handle=ACCOUNTS[reader], origins=dict.fromkeys(keys, base))


def session_maker(reader: str) -> Any:
    """A logged-in context for platforms whose anonymous visitors meet a login wall (the
    simulator's own session cookie), or None where a visitor is shown the page."""
    try:
        from simulator.xiaohongshu import session_context
    except ImportError:  # a simulator from before the login wall: visitors see the notes
        return None
    return session_context() if reader == "xiaohongshu" else None


def login_session(reader: str) -> Any:
    """The same session as the checks carry it (``Tools.signed_in``): its cookies on the HTTP
    requests too, as a patrol gives them; None where none is needed."""
    try:
        from simulator.xiaohongshu import SESSION
    except ImportError:
        return None
    from probes.fetch.session import Cookie, LoginSession

    if reader != "xiaohongshu":
        return None
    return LoginSession(1, reader, "bench", (Cookie("web_session", SESSION, "127.0.0.1"),))


def paths(reader: str) -> tuple[str, ...]:
    """How the platform is read: ``patrol`` (what ``observe`` does: HTTP first where the
    platform is declared ``http_first``) and, for those, ``browser`` (the fallback alone:
    what a check cost before, and costs when HTTP is not shown)."""
    from probes.platforms import PLATFORMS

    spec = PLATFORMS[reader]
    return ("patrol", "browser") if spec.http_first else ("patrol",)


#: a browser platform whose checks ask its APIs from a page left open (BrowserPool.call:
#: Douyin's XHRs, Kuaishou's app moved to the account's profile)
IN_PAGE = ("douyin", "kuaishou")


def label(reader: str, path: str) -> str:
    from probes.platforms import PLATFORMS

    spec = PLATFORMS[reader]
    if path == "browser":
        return f"{reader} (browser)"
    if spec.http_first or not spec.browser:
        return f"{reader} (HTTP)"
    return f"{reader} (in page)" if reader in IN_PAGE else f"{reader} (browser)"


def tree_cpu_seconds() -> float:
    """CPU of every process below this one, with their exited children's (Linux /proc)."""
    kids: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = fields
        kids.setdefault(int(fields[1]), []).append(int(entry.name))
    total, stack = 0, list(kids.get(os.getpid(), []))
    while stack:
        pid = stack.pop()
        stack.extend(kids.get(pid, []))
        total += sum(int(f) for f in stats[pid][11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """This thread's CPU plus that of the processes below this one."""
    return time.thread_time() + tree_cpu_seconds()


async def one_pool(
    reader: str, base: str, checks: int, a: argparse.Namespace, path: str = "patrol"
) -> tuple[float, float, int]:
    """CPU and wall seconds of ``checks`` reads of ``reader``'s account (``--max-pages`` at
    once) through a pool that read it twice before, and how many read posts. ``path``
    "browser" reads an ``http_first`` platform through its browser reader alone."""
    from importlib import import_module

    from probes.fetch import Tools
    from probes.fetch.browser import BrowserPool, BrowserSettings
    from probes.fetch.http import Fetcher
    from probes.model import Outcome
    from probes.platforms import observe
    from probes.sight import settle

    settings = BrowserSettings(max_pages=a.max_pages, settle_ms=a.settle_ms)
    tgt = target(reader, base)
    sem = asyncio.Semaphore(a.max_pages)
    ok = 0
    async with BrowserPool(settings) as pool, Fetcher() as f:
        tools = Tools(http=f, browser=pool)
        if (session := login_session(reader)) is not None:
            tools = tools.signed_in(session)
        elif (make := session_maker(reader)) is not None:
            async with pool.page(reader, 10, make=make):
                pass  # the platform's context, made logged in before the first check
        in_browser = getattr(
            import_module(f"probes.platforms.{reader}.reader"), "read_in_browser", None
        )

        async def one() -> None:
            nonlocal ok
            async with sem:
                if path == "browser" and in_browser is not None:
                    obs = settle(await in_browser(tgt, tools))
                else:
                    obs = await observe(tgt, tools)
            ok += obs.outcome is Outcome.ok and bool(obs.posts)

        for _ in range(2):
            await one()
        ok = 0
        started, wall = cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(one() for _ in range(checks)))
        return cpu_seconds() - started, time.perf_counter() - wall, ok


async def cpu_table(base: str, a: argparse.Namespace) -> None:
    print(
        f"CPU per check, {a.checks} checks per platform after 2 to warm up, "
        f"max_pages {a.max_pages}, settle {a.settle_ms} ms"
    )
    print(f"{'platform':<24} {'CPU-ms/check':>12} {'wall-ms/check':>13} {'read ok':>8}")
    for reader in a.platforms:
        for path in paths(reader):
            cpu, wall, ok = await one_pool(reader, base, a.checks, a, path)
            print(
                f"{label(reader, path):<24} {cpu / a.checks * 1000:12.0f} "
                f"{wall / a.checks * 1000:13.0f} {ok:>4}/{a.checks}",
                flush=True,
            )


async def soak(base: str, a: argparse.Namespace) -> None:
    from probes.fetch import Tools
    from probes.fetch.browser import BrowserPool, BrowserSettings, chromium_memory_mb
    from probes.fetch.http import Fetcher
    from probes.model import Outcome
    from probes.platforms import observe

    settings = BrowserSettings(
        max_pages=a.max_pages,
        recycle_after_pages=a.recycle,
        memory_ceiling_mb=a.ceiling_mb,
        settle_ms=a.settle_ms,
    )
    tgt = target("douyin", base)
    ok = done = 0
    peak_pss = 0.0
    sem = asyncio.Semaphore(a.max_pages)
    async with BrowserPool(settings) as pool, Fetcher() as f:
        tools = Tools(http=f, browser=pool)

        async def one() -> None:
            nonlocal ok, done, peak_pss
            async with sem:
                obs = await observe(tgt, tools)
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
    ap.add_argument("--platforms", nargs="+", default=list(ACCOUNTS), choices=list(ACCOUNTS))
    ap.add_argument("--checks", type=int, default=20)
    ap.add_argument("--soak", action="store_true")
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--max-pages", type=int, default=2)
    ap.add_argument("--recycle", type=int, default=500)
    ap.add_argument("--ceiling-mb", type=int, default=1200)
    ap.add_argument("--settle-ms", type=int, default=300)  # BrowserSettings' default
    ap.add_argument("--every", type=int, default=50)
    a = ap.parse_args()

    import structlog
    from localserver import LocalServer
    from simulator import Simulator

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    with LocalServer(Simulator().routes()) as srv:
        asyncio.run(soak(srv.base, a) if a.soak else cpu_table(srv.base, a))


if __name__ == "__main__":
    main()
