"""``bench/http_path.py --hosts H``: what one GET through the Fetcher costs when the pages
are on many hosts, as a patrol's are: CPU per request and connections opened per request
(counted by the server), the requests spread over ``H`` loopback hosts (127.0.0.2 …) at
the patrol's politeness (2 per host). A module of its own so ``http_path.py`` stays within
the house's 500 lines.

    python bench/http_path.py --hosts 50 --accounts 3000 --rounds 3

To compare with another commit, run this file's copy of ``http_path.py`` and
``http_hosts.py`` inside that commit's tree (``git archive <commit> | tar -x -C DIR``):
only ``Fetcher.get`` is called.

Issue 32's transport round (4000 GETs, 50 hosts, three interleaved rounds at load 4.1-4.4,
CPU µs per request): httpcore in pools of 8 as before (main) 952 / 1176 / 1077 at 1.000
connects a request; connections kept per origin under httpcore 543 / 576 / 546 at 0.013
(one per host and politeness slot); the Fetcher's own HTTP/1.1 transport
(``probes/fetch/transport.py``) 311 / 399 / 313 at 0.013-0.017. Then the Fetcher hands a
request straight to that transport (not through the client's send: its empty jar parsed
every answer) under an asyncio deadline (anyio's scope cost more than the rest of the
deadline's work): 506 / 431 / 475 before, 305 / 258 / 290 after (interleaved, load 6.7-7.7).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable

#: the page every request asks for (the 15 KB list page of ``--looks``)
PAGE = "/bench/look/same/"


def connects(base: str) -> int:
    """Connections the bench's server has accepted so far (asked outside the Fetcher)."""
    with urllib.request.urlopen(base + "/bench/connects", timeout=10) as r:
        return int(r.read())


async def run(
    base: str, n: int, conc: int, hosts: int, start: Callable[[], float], extra: dict[str, object]
) -> tuple[float, int]:
    """``n`` GETs of :data:`PAGE` through one Fetcher, host after host in turn."""
    import time

    from probes.fetch.http import Fetcher, HttpSettings

    port = base.rsplit(":", 1)[1]
    urls = [f"http://127.0.0.{2 + i % hosts}:{port}{PAGE}" for i in range(n)]
    settings = HttpSettings(max_connections=conc, per_host=2, retries=0)
    sem = asyncio.Semaphore(conc)
    ok = 0

    async def one(f: Fetcher, url: str) -> None:
        nonlocal ok
        async with sem:
            r = await f.get(url)
        ok += r.status == 200 and len(r.content) > 10_000

    async with Fetcher(settings) as f:
        before = connects(base)
        started = start()
        await asyncio.gather(*(one(f, u) for u in urls))
        secs = time.perf_counter() - started
        extra["connects"] = connects(base) - before
    return secs, ok


def report(script: str, base: str, n: int, conc: int, hosts: int, rounds: int) -> None:
    """Print each round's CPU and connections per request, each round in a fresh process."""
    print(f"{n} GETs of a 15 KB page over {hosts} hosts, {conc} at once, 2 per host")
    print(
        f"{'round':5} {'CPU µs/request':>15} {'wall µs/request':>16} {'connects/request':>17}  ok"
    )
    for i in range(rounds):
        out = subprocess.run(
            [sys.executable, script, "--stage", "hosts", "--accounts", str(n),
             "--concurrency", str(conc), "--base", base, "--hosts", str(hosts)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{i + 1:5d} {1e6 * r['cpu_seconds'] / n:15.0f} {1e6 * r['seconds'] / n:16.0f} "
            f"{r['connects'] / n:17.3f}  {r['ok']}/{n}"
        )
