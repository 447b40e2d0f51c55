"""``bench/http_path.py --looks``: what a check of a page seen before costs, whole, per
behaviour of the page (same bytes, noise in its bytes, an ETag answered 304). A module of
its own so ``http_path.py`` stays within the house's 500 lines.

CPU per check, both processes (``--looks --accounts 500 --rounds 3``, issue 32's HTTP round
against the commit before it, interleaved at load 1.5–2.6): same bytes 2.98 / 3.52 ms
before, 2.97 after (the probing process alone 1.66 / 2.01, then 1.54); noisy 7.17 / 8.38,
then 6.19; 304 2.96 / 4.11, then 2.54 (1.62 / 2.18, then 1.37). With ``xuncha run``
(``bench/peer.py --skip-peer``, load 2.4–4.2): 335 same-bytes checks/s at 3.0 ms, 119
noisy at 9.1 ms, 263 ETag at 3.5 ms; on same-bytes pages 32 probes made 241 checks/s at
3.7 ms where 8 made 185 at 4.6 (bigger batches for the writer too).
The round: pooled connections keep their socket (``probes/fetch/transport.py``), the shared
client's jar refuses cookies unparsed, an empty platform jar is not walked. A noisy page is
still read (decoded, the parser's bounds model ~1 ms on these pages, 13× lexbor's own
parse, then every item) before its meaning says it is unchanged.

The writer's column is its CPU from the first measured look to the last, read before it
leaves: until the writer round it was counted after its exit (``RUSAGE_CHILDREN``), which
was ~0.5 ms of the 1.0–1.4 ms a look it showed (a cost per run, not per look). The writer
round (snapshots one INSERT … RETURNING of plain values, no ``SQLModel.__init__`` nor
unit-of-work flush; ``monitor/record/rows.py``), the commit before it and after, interleaved
pairs at load 1.2–4 (medians): writer CPU per look same bytes 0.76 → 0.71 ms, noisy 1.30 →
1.19, 304 0.89 → 0.85; whole check 2.06 / 1.95 / 5.8 / 5.4 / 2.3 / 2.2. Replaying the same
captured batches through ``write_batch`` in one process, interleaved: 0.68 → 0.57–0.65 ms.
What is left of an unchanged look's write (cProfile): judging its time-dependent rules again
~26 % (``evaluate_staleness``, its evidence ``to_dict``), re-reading the account's state ~10
%, its open findings loaded as ORM objects and updated by a flush ~24 %, the snapshot insert
~8 %.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: the behaviours ``--looks`` measures, and the simulator's path of each
LOOKS = {"same": "/bench/look/same/", "noisy": "/bench/look/noisy/", "304": "/bench/look/304/"}


def _list_page(items: int = 30) -> bytes:
    """A unit's 通知公告 list as such sites are: a menu of links, ``items`` dated items
    (the newest first), a footer; ~25 KB, as the patrol's pages are."""
    menu = "".join(
        f'<li><a href="/col/col{i}/index.html">栏目{i}·政务公开与服务</a></li>' for i in range(60)
    )
    rows = "".join(
        f'<li><a href="./202611/t202611{28 - i % 28:02d}_{900 - i}.html" '
        f'title="关于做好第{i}批政务新媒体账号检查整改工作的通知">关于做好第{i}批政务新媒体'
        f'账号检查整改工作的通知</a><span class="date">2026-11-{28 - i % 28:02d}</span></li>'
        for i in range(items)
    )
    text = "<p>" + "本网站由某某市人民政府办公室主办，某某市大数据中心承办。" * 40 + "</p>"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>通知公告_某某市人民政府"
        f"</title></head><body><ul class='menu'>{menu}</ul><div class='main'>"
        f"<ul class='news-list'>{rows}</ul></div><div class='footer'>{text}</div>"
        "</body></html>"
    ).encode()


def routes() -> dict[str, Any]:
    """The list page in the three behaviours of ``--looks``."""
    import secrets

    from localserver import Reply, Request

    page = _list_page()
    html = {"Content-Type": "text/html; charset=utf-8"}
    served = [0]

    def noisy(req: Request) -> Reply:
        # what real pages carry: a CSRF token in the head, a visit counter in the footer
        served[0] += 1
        token = f'<meta name="csrf-token" content="{secrets.token_hex(16)}">'.encode()
        count = f'<span class="pv">{1_000_000 + served[0]}</span>'.encode()
        body = page.replace(b"</head>", token + b"</head>").replace(b"</body>", count + b"</body>")
        return Reply(body=body, headers=html)

    def etag(req: Request) -> Reply:
        if req.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(body=page, headers={**html, "ETag": '"v1"'})

    return {
        LOOKS["same"]: Reply(body=page, headers=html),
        LOOKS["noisy"]: noisy,
        LOOKS["304"]: etag,
    }


def proc_cpu(pid: int) -> float:
    """A child process's CPU seconds so far (the writer's, before the measured part)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(
    behaviour: str, base: str, n: int, conc: int, rounds: int, start: Callable[[], float],
    extra: dict[str, object], options: dict[str, str],
) -> tuple[float, int]:  # fmt: skip
    """``n`` accounts read once in full, then claimed and checked ``rounds`` times as the
    patrol does; only those later checks are measured (both processes' CPU)."""
    import tempfile
    from datetime import timedelta

    import sqlalchemy as sa

    from monitor.app import App
    from monitor.config import Settings
    from monitor.patrol.claims import Claims
    from monitor.patrol.pipeline import check
    from monitor.store.engine import make_engine, session_scope, upgrade
    from monitor.store.models import Account, AccountState, Unit
    from probes.fetch import Tools

    tmp = tempfile.mkdtemp(prefix="xuncha-bench-")
    settings = Settings(
        data_dir=Path(tmp),
        http={"max_connections": conc, "per_host": conc, "retries": 0},
        patrol={"writer": "process"},  # as under ``xuncha run``
        logging={"level": "error"},
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    app = App.open(settings)
    url = base + LOOKS[behaviour]
    with session_scope(app.engine) as s:
        s.add(Unit(code="u", name="单位"))
        s.flush()
        for i in range(n):
            s.add(Account(id=f"w{i}", platform="website", name=f"网站{i}", owner_code="u",
                          url=f"{url}?a={i}", options=options))  # fmt: skip
    claims = Claims(app.engine, settings.node_name, 600)
    sem = asyncio.Semaphore(conc)
    now = app.clock()
    claims.ensure_states(settings, now)
    unchanged = 0

    async def one(tools: Tools, account: str, previous: Any) -> None:
        nonlocal unchanged
        async with sem:
            r = await check(app, tools, account, now=now, previous=previous, claimed=True)
        unchanged += r.observation.unchanged

    async def everyone(tools: Tools) -> None:
        t = AccountState.__table__  # type: ignore[attr-defined]
        with app.engine.begin() as c:
            c.execute(sa.update(t).values(due_at=now, claimed_by=None))
        got = claims.claim(now + timedelta(days=1), n, app.judged_with)
        await asyncio.gather(*(one(tools, c.account_id, c.previous) for c in got))

    async with app.probing() as tools:
        await everyone(tools)  # read in full: set-up, not measured
        unchanged = 0
        pid = getattr(app.recorder.writer, "pid", None)
        writer_before = proc_cpu(pid) if pid else 0.0
        started = start()
        for _ in range(rounds):
            now += timedelta(hours=1)
            await everyone(tools)
        secs = time.perf_counter() - started
        # read before the writer leaves: its exit (a heap torn down) is no check's cost
        writer_after = proc_cpu(pid) if pid else 0.0
    app.close()
    extra["writer_cpu_seconds"] = writer_after - writer_before
    return secs, unchanged


def report(script: str, base: str, n: int, conc: int, rounds: int) -> None:
    """Print CPU per check of a page seen before, per behaviour, each in a fresh process."""
    head = f"{'page':6} {'checks':>6} {'CPU ms/check':>13} {'(writer)':>9} {'wall ms':>8}"
    print(head + "  unchanged")
    for behaviour in LOOKS:
        out = subprocess.run(
            [sys.executable, script, "--stage", f"looks:{behaviour}", "--accounts", str(n),
             "--concurrency", str(conc), "--base", base, "--rounds", str(rounds)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        checks = n * rounds
        cpu = r["cpu_seconds"] + r["writer_cpu_seconds"]
        print(
            f"{behaviour:6} {checks:6d} {1000 * cpu / checks:13.2f} "
            f"{1000 * r['writer_cpu_seconds'] / checks:9.2f} "
            f"{1000 * r['seconds'] / checks:8.2f}  {r['ok']}/{checks}"
        )
