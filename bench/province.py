"""A province: 20,000 accounts patrolled hourly — what share of one core does it take?

Not a test: prints figures. Nothing but loopback addresses is contacted.

The registry holds ``--accounts`` accounts at a province's mix: a third on the platforms that
were all read through Chromium (Douyin and Kuaishou still are — asked from a page left
open; Toutiao's signed feed and Bilibili's API are read over plain HTTP; the
simulator of ``tests/simulator`` serves their pages and JSON in the real shapes, a process of
its own), two thirds on government websites (``bench/peer_pages.py``: news lists on 50
loopback hosts; half of them carry noise — a token, a nonce, a counter that change on every
request). Xiaohongshu is left out: its simulator, like the site, shows notes only to a
logged-in session, and a session reads one account a minute (its pace), far from hourly for
a province's share.

``xuncha run`` runs at its defaults (screenshots off). An hourly patrol cannot be timed in a
bench, so it is measured at full speed and extrapolated: for each kind of check, a sample of
its accounts (``--sample-web``, ``--sample-platform``) is kept due while every other account
is parked (due tomorrow); after a warm-up (every sampled account looked at once, then
``--warmup`` s), a ``--window`` s window per kind (websites same / noisy, platforms over
HTTP, browser platforms) gives CPU per check (CPU of run's whole process tree, Chromium
included, over the checks it recorded). A window with nothing due gives the idle
cost of ``run`` itself. Then

    share of one core = idle + Σ (accounts of a kind × CPU per check of that kind) / 3600 s

twice: every account hourly, and at the platforms' default intervals (240 min for all four).
What it leaves out, it says: first looks, pages that really changed (findings, alerts),
evidence pictures.

    python bench/province.py                  # 20,000 accounts, ~10 min
    python bench/province.py --quick          # smoke run

Measured 2026-12-07 on a 2-core machine shared with other work (load 7-14 during the run),
CPU ms per check at full speed: websites same bytes 4.8, noisy 14.3; platforms over HTTP
(Toutiao, Bilibili) 14.2; browser platforms (Douyin from an open page, Kuaishou navigating)
130.5; ``run`` idle 2.8 % of a core. 20,000 accounts every hour: 19.7 % of one core; at the
platforms' default intervals: 9.7 %. (The run before, every platform but Bilibili through
Chromium: ~56 % hourly. Kuaishou's ~220 ms navigations are now three fifths of the total.)
Measured again 2026-12-08 on a quiet 2-core machine (load 0.8-4, ``python bench/province.py``),
after unchanged looks stopped being judged while their time rules stay silent, the HTTP
transport was replaced, noisy pages were known unchanged from their items and Kuaishou was
asked from the kept page's app: websites same bytes 1.2, noisy 3.0; platforms over HTTP 8.8;
browser platforms (Douyin, Kuaishou) 45.3 CPU-ms per check; ``run`` idle 0.7 % of a core.
20,000 accounts every hour: **6.5 %** of one core (was 19.7 %); at the platforms' default
intervals: 2.7 % (was 9.7 %). The browser platforms are now nearly three quarters of it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer import ROOT, SELECTOR, Pages, Xuncha, env, usage

#: the platforms once all read through the browser, the account the simulator answers with
#: posts (bench/browser_path.py) and how their reader reads them today: "b" through the browser
#: (Douyin's APIs asked from a page left open, Kuaishou's from that page's app moved to the
#: account; each navigates when no page is open), "h" over plain HTTP (Toutiao's signed feed,
#: Bilibili's WBI-signed API)
PLATFORMS = {
    "douyin": ("抖音", "MS4wLjABAAAAok", "b"),
    "kuaishou": ("快手", "3xks000001", "b"),
    "toutiao": ("今日头条", "MS4wLjABAAAAtt", "h"),
    "bilibili": ("哔哩哔哩", "10001", "h"),
}
DEFAULT_INTERVAL = {"web": 60, "platform": 240}  # minutes: the platforms' declarations
PLATFORM_KINDS = {"b": "browser platforms", "h": "platforms over HTTP"}

SIMULATOR = f"""
import sys, threading
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / "tests")!r})
from localserver import LocalServer
from simulator import Simulator
with LocalServer(Simulator().routes()) as srv:
    print("READY", srv.base, flush=True)
    threading.Event().wait()
"""


class Province(Xuncha):
    """``xuncha run`` over the whole registry; the bench keeps due only the accounts whose id
    starts with ``self.keep`` and parks every other one."""

    keep = "-"

    def _due_statements(self, now: datetime) -> list[Any]:
        import sqlalchemy as sa

        from monitor.store.models import AccountState

        t = AccountState.__table__  # type: ignore[attr-defined]
        free = t.c.claimed_by.is_(None)
        mine = t.c.account_id.like(f"{self.keep}%")
        later = now + timedelta(days=1)
        return [
            sa.update(t).where(free, mine, t.c.due_at > now).values(due_at=now),
            sa.update(t)
            .where(free, ~mine, t.c.due_at < now + timedelta(hours=12))
            .values(due_at=later),
        ]

    def checks(self) -> int:
        """Checks recorded so far: one snapshot each (a look, when nothing changed)."""
        import sqlalchemy as sa

        with self.engine.connect() as c:
            return int(c.execute(sa.text("SELECT count(*) FROM snapshot")).scalar_one())

    def outcomes(self, after: int) -> str:
        """Platform and outcome of the checks recorded after the ``after``-th: a window of
        failed reads would measure something else."""
        import sqlalchemy as sa

        q = sa.text(
            "SELECT a.platform, s.outcome, count(*) FROM snapshot s JOIN account a"
            " ON a.id = s.account_id WHERE s.id > (SELECT coalesce(max(id), 0) FROM"
            " (SELECT id FROM snapshot ORDER BY id LIMIT :n)) GROUP BY 1, 2 ORDER BY 1, 2"
        )
        with self.engine.connect() as c:
            rows = c.execute(q, {"n": after}).all()
        return ", ".join(f"{p} {o} {n}" for p, o, n in rows)

    def window(self, kind: str, seconds: float, pages: Pages) -> tuple[int, float, float]:
        """Checks, CPU seconds and wall seconds of a window (and, as a cross-check, the
        requests the website pages answered in it)."""
        r0, n0, (c0, _), t0 = (
            pages.requests("xuncha"),
            self.checks(),
            usage(self.proc.pid),
            time.time(),
        )
        time.sleep(seconds)
        r1, n1, (c1, _), t1 = (
            pages.requests("xuncha"),
            self.checks(),
            usage(self.proc.pid),
            time.time(),
        )
        print(
            f"  {kind:<20} {n1 - n0:6d} checks ({r1 - r0} website requests) in {t1 - t0:5.1f} s,"
            f" CPU {c1 - c0:6.2f} s"
            + (f" = {1000 * (c1 - c0) / (n1 - n0):6.1f} ms/check" if n1 > n0 else "")
            + f", load {os.getloadavg()[0]:.2f}\n      ({self.outcomes(n0) or 'none'})",
            flush=True,
        )
        return n1 - n0, c1 - c0, t1 - t0

    def drain(self, quiet: float = 5.0, timeout: float = 300) -> None:
        """Until the checks in flight are done: no new one for ``quiet`` s."""
        deadline, last, since = time.time() + timeout, self.checks(), time.time()
        while time.time() < deadline and time.time() - since < quiet:
            time.sleep(1.0)
            if (n := self.checks()) != last:
                last, since = n, time.time()

    def warm(self, sample: int, warmup: float, timeout: float = 900) -> None:
        """Until every kept account has been looked at once since the switch, then
        ``warmup`` s more."""
        start, deadline = self.checks(), time.time() + timeout
        while self.checks() - start < sample and time.time() < deadline:
            time.sleep(1.0)
        time.sleep(warmup)


def rows(accounts: int, urls: list[str], sample_web: int, sample_platform: int) -> list[str]:
    """The registry at the mix: a third on the platforms, two thirds websites; the first
    sampled accounts of each kind have ids ``sw…`` / ``sb…`` (read through the browser) /
    ``sh…`` (over HTTP), the others ``w…`` / ``b…`` / ``h…``."""
    out = []
    n_platform = accounts // 3
    platforms = list(PLATFORMS.values())
    for i in range(n_platform):
        name, handle, kind = platforms[i % len(platforms)]
        aid = f"s{kind}{i}" if i < sample_platform else f"{kind}{i}"
        out.append(f"{aid},{name},{name}政务号{i},{handle},,,bench,发布类,national,")
    for i in range(accounts - n_platform):
        u = urls[i % len(urls)] + ("" if i < len(urls) else f"?a={i}")
        aid = f"sw{i}" if i < sample_web else f"w{i}"
        out.append(f'{aid},网站,政务动态{i},,{u},网页,bench,发布类,national,"{SELECTOR}"')
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=20000)
    ap.add_argument("--pages", type=int, default=1000, help="website pages the accounts are on")
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--sample-web", type=int, default=1000)
    ap.add_argument("--sample-platform", type=int, default=120, help="of each platform kind ~half")
    ap.add_argument("--warmup", type=float, default=20.0)
    ap.add_argument("--window", type=float, default=45.0)
    ap.add_argument("--quick", action="store_true", help="smoke run: 2,000 accounts, short")
    a = ap.parse_args()
    if a.quick:
        a.accounts, a.pages, a.sample_web, a.sample_platform = 2000, 200, 200, 40
        a.warmup, a.window = 3.0, 10.0
    sim = subprocess.Popen(
        [sys.executable, "-c", SIMULATOR], stdout=subprocess.PIPE, text=True, env=env()
    )
    assert sim.stdout is not None
    base = sim.stdout.readline().split()[1]
    pages = Pages(a.pages, a.hosts)
    origins = "".join(f'[platforms.{p}.origins]\norigin = "{base}"\n' for p in PLATFORMS)
    n_platform = a.accounts // 3
    n_web = a.accounts - n_platform
    kinds = {k: [p for p, v in PLATFORMS.items() if v[2] == k] for k in PLATFORM_KINDS}
    counts = {k: n_platform * len(v) / len(PLATFORMS) for k, v in kinds.items()}
    print(
        f"{a.accounts} accounts: {n_platform} on the platforms once read through the browser "
        + ", ".join(f"({PLATFORM_KINDS[k]}: {', '.join(v)})" for k, v in kinds.items())
        + f", {n_web} websites on {a.pages} pages / {a.hosts} loopback hosts (half noisy); "
        f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    cost: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="xuncha-province-") as tmp:
            t0 = time.time()
            xu = Province(
                Path(tmp),
                rows(a.accounts, pages.urls, a.sample_web, a.sample_platform),
                extra_config=origins,
            )
            print(f"registry imported, run started in {time.time() - t0:.0f} s", flush=True)
            from monitor.config import load_settings
            from monitor.store.engine import make_engine

            xu.engine = make_engine(load_settings(xu.cfg).database_url)
            try:
                xu.resume()
                half = a.sample_platform // 2  # of each kind, the platforms alternating
                for kind, keep, mode, sample in (
                    ("web, same bytes", "sw", "same", a.sample_web),
                    ("web, noisy", "sw", "noisy", 0),  # every look reads a changed page
                    ("platforms over HTTP", "sh", "same", half),
                    ("browser platforms", "sb", "same", half),
                ):
                    pages.mode(mode)
                    xu.keep = keep
                    xu.warm(sample, a.warmup)
                    n, cpu, _ = xu.window(kind, a.window, pages)
                    cost[kind] = cpu / n if n else float("nan")
                xu.keep = "-"  # nothing due (the browser still open): what run costs by itself
                xu.drain()
                time.sleep(a.warmup)
                _, idle_cpu, idle_s = xu.window("idle (nothing due)", a.window, pages)
            finally:
                xu.stop()
                xu.engine.dispose()
    finally:
        pages.stop()
        sim.terminate()
        sim.wait(10)
    idle = idle_cpu / idle_s
    report(
        a.accounts,
        {
            "web, same bytes": n_web / 2,
            "web, noisy": n_web / 2,
            "platforms over HTTP": counts["h"],
            "browser platforms": counts["b"],
        },
        cost,
        idle,
    )


def report(accounts: int, counts: dict[str, float], cost: dict[str, float], idle: float) -> None:
    print("\n| kind of check | accounts | CPU ms/check (full speed) |\n|---|---|---|")
    for kind, n in counts.items():
        print(f"| {kind} | {n:,.0f} | {1000 * cost[kind]:.1f} |")
    hourly = sum(counts[k] * cost[k] for k in counts)
    platforms = sum(counts[k] * cost[k] for k in PLATFORM_KINDS.values())
    defaults = hourly - platforms * (1 - DEFAULT_INTERVAL["web"] / DEFAULT_INTERVAL["platform"])
    print(f"\nidle cost of xuncha run (nothing due): {100 * idle:.1f} % of one core")
    for label, cpu in (
        ("every account hourly", hourly),
        ("at the platforms' default intervals (all four: 240 min)", defaults),
    ):
        share = idle + cpu / 3600
        print(
            f"{accounts:,} accounts, {label}: {cpu:,.0f} CPU-s of checks an hour "
            f"→ {100 * share:.1f} % of one core (idle included)"
        )
    print(
        "\nExtrapolated, not observed over an hour: CPU per check measured at full speed on a "
        "sample, repeat looks at pages whose posts did not change; first looks, real changes "
        "(findings, alerts) and evidence pictures (screenshots off) are not in it."
    )


if __name__ == "__main__":
    main()
