"""The HTTP reader path against simulated Weibo accounts on loopback.

Not a test: prints figures. For N accounts, each read by the ``weibo`` reader (3 requests:
getIndex user, getIndex posts, profile/info; JSON parsed into an Observation), compared with
a bare ``httpx`` fetch of the same 3 URLs per account at the same concurrency, its
connections in pools of 8 (one big httpx pool is slower) — the ceiling for this
machine. The simulator's handlers are served by a small asyncio keep-alive server
in a process of its own (the tests' threaded server would be the bottleneck, hiding the
client's cost). Peak RSS is the process's ``ru_maxrss``; each stage runs in a fresh child
process so one peak does not hide the other.

    python bench/http_path.py --accounts 1000 --rounds 3
    python bench/http_path.py --accounts 10000 --concurrency 32

Each stage reports wall time and the process's CPU time: on a shared machine the wall
rate moves with the neighbours' load, CPU time much less. With ``--rounds`` the stages
alternate and the best round of each is compared.

Stages: ``bare`` (the ceiling: one httpx client), ``bare_pools`` (the higher ceiling: the
same split into pools of 8), ``reader`` (fetch and parse), ``pipeline`` (the whole
check: fetch, parse, snapshot and blobs, detectors, findings and outbox on SQLite), its
records written by a writer process as under ``xuncha run`` (``--writer thread``: in the
probing process, as one-off commands do). The pipeline's CPU and memory count both
processes.

``--per-platform``: CPU per check of each HTTP platform reader (weibo, wechat article,
wechat album list + its newest article, rss, webpage, bilibili), each in a process of its
own against the same simulator, ``--accounts`` checks each::

    python bench/http_path.py --per-platform --accounts 300

``--hosts H``: CPU and connections per GET through the Fetcher, the pages on ``H`` loopback
hosts (``bench/http_hosts.py``)::

    python bench/http_path.py --hosts 50 --accounts 4000 --rounds 3

``--looks``: what a check of a page seen before costs, whole (fetch, read, record by the
writer process), per behaviour of the page: ``same`` (the same bytes, no validators),
``noisy`` (the same posts, a token and a counter that change on every request, as most
real pages have), ``304`` (an ETag, answered 304). Each account's page is read once in
full (not measured), then the accounts are claimed and checked ``--rounds`` times as the
patrol does (with their last look); CPU per check counts both processes::

    python bench/http_path.py --looks --accounts 500 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import http_hosts  # noqa: E402
import http_looks  # noqa: E402

_CPU_AT_START = [0.0]
_EXTRA: dict[str, object] = {}  # more figures a stage reports


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _start() -> float:
    """Start the clocks: set-up (migrations, registry rows, imports) is not measured."""
    _CPU_AT_START[0] = _cpu()
    return time.perf_counter()


def _uids(n: int) -> list[str]:
    return [str(2_000_000_000 + i) for i in range(n)]


async def _reader(base: str, n: int, conc: int) -> tuple[float, int]:
    from probes.fetch import Tools
    from probes.fetch.http import Fetcher, HttpSettings
    from probes.model import Outcome, Target
    from probes.platforms import observe

    settings = HttpSettings(max_connections=conc, per_host=conc, retries=0)
    sem = asyncio.Semaphore(conc)
    ok = 0

    async def one(tools: Tools, uid: str) -> None:
        nonlocal ok
        t = Target(uid, "weibo", "weibo", handle=uid, origins={"m": base, "www": base})
        async with sem:
            obs = await observe(t, tools)
        ok += obs.outcome is Outcome.ok and len(obs.posts) == 3

    async with Fetcher(settings) as f:
        started = _start()
        await asyncio.gather(*(one(Tools(f), u) for u in _uids(n)))
        return time.perf_counter() - started, ok


async def _bare(base: str, n: int, conc: int, pooled: bool = False) -> tuple[float, int]:
    """The same requests with nothing of ours: one ``httpx`` client (``bare``, the issue's
    ceiling), or (``bare_pools``) clients split into pools of 8 (as the fetcher's were until
    it kept its own connections, ``probes/fetch/transport.py``) — httpcore walks its whole
    pool on every request, so one pool of 32 costs more CPU per request than four of 8."""
    import httpx

    sem = asyncio.Semaphore(conc)
    ok = 0
    shards = -(-conc // 8) if pooled else 1
    size = -(-conc // shards)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    clients = [httpx.AsyncClient(limits=limits, trust_env=False) for _ in range(shards)]
    busy = [0] * shards

    async def one(uid: str) -> None:
        nonlocal ok
        urls = [
            f"{base}/api/container/getIndex?type=uid&value={uid}",
            f"{base}/api/container/getIndex?type=uid&value={uid}&containerid=107603{uid}",
            f"{base}/ajax/profile/info?uid={uid}",
        ]
        codes = []
        async with sem:
            for u in urls:
                i = busy.index(min(busy))
                busy[i] += 1
                try:
                    codes.append((await clients[i].get(u)).status_code)
                finally:
                    busy[i] -= 1
        ok += codes == [200, 200, 200]

    try:
        started = _start()
        await asyncio.gather(*(one(u) for u in _uids(n)))
        return time.perf_counter() - started, ok
    finally:
        for c in clients:
            await c.aclose()


async def _pipeline(base: str, n: int, conc: int, writer: str = "process") -> tuple[float, int]:
    """The whole check: fetch, parse, snapshot + blobs, detectors, findings, outbox (SQLite).

    Records are written as ``xuncha run`` writes them: by a writer process (``--writer
    thread``: in the probing process, as one-off commands do).
    """
    import tempfile

    from monitor.app import App
    from monitor.config import Settings
    from monitor.patrol.pipeline import check
    from monitor.store.engine import make_engine, session_scope, upgrade
    from monitor.store.models import Account, Unit
    from probes.fetch import Tools

    tmp = tempfile.mkdtemp(prefix="xuncha-bench-")
    settings = Settings(
        data_dir=Path(tmp),
        http={"max_connections": conc, "per_host": conc, "retries": 0},
        platforms={"weibo": {"origins": {"m": base, "www": base}}},
        patrol={"writer": writer},
        logging={"level": "error"},  # no alert channel is configured: every finding would warn
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    app = App.open(settings)
    with session_scope(app.engine) as s:
        s.add(Unit(code="u", name="单位"))
        s.flush()
        for uid in _uids(n):
            s.add(Account(id=uid, platform="weibo", name=uid, handle=uid, owner_code="u"))
    sem = asyncio.Semaphore(conc)
    ok = 0

    async def one(tools: Tools, uid: str) -> None:
        nonlocal ok
        async with sem:
            r = await check(app, tools, uid)
        ok += r.snapshot.outcome == "ok"

    async with app.probing() as tools:
        started = _start()
        await asyncio.gather(*(one(tools, u) for u in _uids(n)))
        secs = time.perf_counter() - started

    rec = app.recorder
    _EXTRA["transactions"] = rec.batches
    pid = getattr(rec.writer, "pid", None)
    if pid:  # the writer process's own peak (ru_maxrss of children would count fork images)
        status = Path(f"/proc/{pid}/status").read_text()
        _EXTRA["writer_rss_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
    app.close()  # joins the writer process, so its CPU time is counted
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    _EXTRA["writer_cpu_seconds"] = child.ru_utime + child.ru_stime
    return secs, ok


#: the HTTP platform readers ``--per-platform`` measures, one process each
PLATFORM_KINDS = ("weibo", "wechat", "wechat_album", "rss", "webpage", "bilibili")
_TZGG = {"item": "ul.news-list > li", "date": "span.date", "pinned": "span.top"}


def _platform_target(kind: str, base: str, i: int) -> Any:
    """The ``i``-th account of ``kind`` on the simulator at ``base``."""
    from probes.model import Target

    if kind == "weibo":
        uid = str(2_000_000_000 + i)
        return Target(uid, "weibo", "weibo", handle=uid, origins={"m": base, "www": base})
    if kind == "wechat":
        article = "https://mp.weixin.qq.com/s/AbCdEf123"
        return Target(f"wx{i}", "wechat", "wechat", url=article, origins={"mp": base})
    if kind == "wechat_album":  # the album page, then its newest article's page
        opts = {"list_url": f"{base}/wx/album", "item": "li.album__list-item",
                "date": ".js_article_create_time"}  # fmt: skip
        return Target(f"wa{i}", "wechat", "wechat", options=opts, origins={"mp": base})
    if kind == "rss":
        return Target(f"rss{i}", "weibo", "rss", url=f"{base}/bench/feed.xml")
    if kind == "webpage":
        return Target(f"web{i}", "website", "webpage", url=f"{base}/bench/tzgg/", options=_TZGG)
    assert kind == "bilibili"
    return Target(f"bl{i}", "bilibili", "bilibili", handle="10001",
                  origins={"api": base, "space": base})  # fmt: skip


async def _platform(kind: str, base: str, n: int, conc: int) -> tuple[float, int]:
    """``n`` checks of one platform's reader through one fetcher (its cookies and keys
    are shared by the accounts, as in a patrol)."""
    from probes.fetch import Tools
    from probes.fetch.http import Fetcher, HttpSettings
    from probes.model import Outcome
    from probes.platforms import observe

    settings = HttpSettings(max_connections=conc, per_host=conc, retries=0)
    sem = asyncio.Semaphore(conc)
    ok = 0

    async def one(tools: Tools, i: int) -> None:
        nonlocal ok
        async with sem:
            obs = await observe(_platform_target(kind, base, i), tools)
        ok += obs.outcome is Outcome.ok and bool(obs.posts)

    async with Fetcher(settings) as f:
        await one(Tools(f), -1)  # cookies, keys, imports: set-up, not measured
        ok = 0
        started = _start()
        await asyncio.gather(*(one(Tools(f), i) for i in range(n)))
        return time.perf_counter() - started, ok


def per_platform(base: str, n: int, conc: int) -> None:
    """Print CPU per check of each HTTP reader, each measured in a fresh process."""
    print(f"{'reader':13} {'checks':>6} {'CPU ms/check':>13} {'wall ms/check':>14}  ok")
    for kind in PLATFORM_KINDS:
        out = subprocess.run(
            [sys.executable, __file__, "--stage", f"platform:{kind}", "--accounts", str(n),
             "--concurrency", str(conc), "--base", base],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{kind:13} {n:6d} {1000 * r['cpu_seconds'] / n:13.2f} "
            f"{1000 * r['seconds'] / n:14.2f}  {r['ok']}/{n}"
        )


def serve(hosts: int = 0) -> None:
    """Serve the simulator's routes on a free port (printed) until killed, on 127.0.0.1
    and, with ``hosts``, on as many more loopback addresses (127.0.0.2 …)."""
    from localserver import Reply, Request
    from simulator import Simulator

    accepted = [0]  # connections: http_hosts asks for them at /bench/connects
    rss = "application/rss+xml; charset=utf-8"
    routes = {
        **Simulator().routes(),
        "/bench/feed.xml": Reply.fixture("feeds/weibo_rsshub.xml", rss),
        "/bench/tzgg/": Reply.fixture("pages/tzgg_gbk_meta.html", "text/html"),
        **http_looks.routes(),
        "/bench/connects": lambda req: Reply(body=str(accepted[0])),
    }

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted[0] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
                }
                path, _, query = target.partition("?")
                value = routes.get(path)
                req = Request(method, path, query, headers, 1)
                reply = value(req) if callable(value) else value or Reply(404, b"not found")
                assert isinstance(reply, Reply)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                out = [f"HTTP/1.1 {reply.status} X", f"Content-Length: {len(body)}"]
                out += [f"{k}: {v}" for k, v in reply.headers.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        for i in range(hosts):
            await asyncio.start_server(handle, f"127.0.0.{2 + i}", port, backlog=1024)
        print(port, flush=True)
        await server.serve_forever()

    asyncio.run(main())


def stage(
    kind: str, n: int, conc: int, base: str, writer: str, rounds: int = 1, hosts: int = 0
) -> None:
    import structlog

    # errors only: the bench configures no alert channel, so every finding would warn
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    if kind.startswith("looks:"):
        behaviour = kind.split(":", 1)[1]
        secs, ok = asyncio.run(
            http_looks.run(behaviour, base, n, conc, rounds, _start, _EXTRA, _TZGG)
        )
    elif kind == "hosts":
        secs, ok = asyncio.run(http_hosts.run(base, n, conc, hosts, _start, _EXTRA))
    elif kind.startswith("platform:"):
        secs, ok = asyncio.run(_platform(kind.split(":", 1)[1], base, n, conc))
    elif kind == "pipeline":
        secs, ok = asyncio.run(_pipeline(base, n, conc, writer))
    else:
        secs, ok = asyncio.run(
            _bare(base, n, conc, pooled=kind == "bare_pools")
            if kind.startswith("bare")
            else _reader(base, n, conc)
        )
    cpu = _cpu() - _CPU_AT_START[0]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "seconds": secs, "cpu_seconds": cpu, "ok": ok,
                      "peak_rss_mb": rss_mb, **_EXTRA}))  # fmt: skip


STAGES = ("bare", "bare_pools", "reader", "pipeline")
CEILINGS = ("bare", "bare_pools")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument(
        "--stage",
        choices=[*STAGES, "serve", "hosts", *(f"platform:{k}" for k in PLATFORM_KINDS),
                 *(f"looks:{k}" for k in http_looks.LOOKS)],
    )  # fmt: skip
    ap.add_argument("--looks", action="store_true", help="CPU per check of a page seen before")
    ap.add_argument("--per-platform", action="store_true", help="CPU per check of each reader")
    ap.add_argument("--hosts", type=int, default=0, help="GETs spread over this many hosts")
    ap.add_argument("--base", default="")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the stages this often")
    ap.add_argument(
        "--writer", choices=["process", "thread"], default="process",
        help="where the pipeline writes records (xuncha run: process)",
    )  # fmt: skip
    a = ap.parse_args()
    if a.stage == "serve":
        serve(a.hosts)
        return
    if a.stage:
        stage(a.stage, a.accounts, a.concurrency, a.base, a.writer, a.rounds, a.hosts)
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--stage", "serve", "--hosts", str(a.hosts)],
        stdout=subprocess.PIPE,
        text=True,
    )
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in STAGES}
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        if a.per_platform:
            per_platform(base, a.accounts, a.concurrency)
            return
        if a.hosts:
            http_hosts.report(__file__, base, a.accounts, a.concurrency, a.hosts, a.rounds)
            return
        if a.looks:
            http_looks.report(__file__, base, a.accounts, a.concurrency, a.rounds)
            return
        # stages alternate round by round: on a shared machine the load changes by the
        # minute, and a ratio of two runs minutes apart would measure the neighbours
        for _ in range(a.rounds):
            for kind in STAGES:
                out = subprocess.run(
                    [sys.executable, __file__, "--stage", kind, "--accounts", str(a.accounts),
                     "--concurrency", str(a.concurrency), "--base", base, "--writer", a.writer],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        server.wait(5)
    n = a.accounts
    res = {kind: min(rs, key=lambda r: r["seconds"]) for kind, rs in runs.items()}
    for kind in STAGES:
        r = res[kind]
        print(
            f"{kind:8}  {n} accounts ({3 * n} requests) in {r['seconds']:.2f} s = "
            f"{n / r['seconds']:.0f} accounts/s (CPU {r['cpu_seconds']:.1f} s = "
            f"{1000 * r['cpu_seconds'] / n:.1f} ms/account), ok {r['ok']}/{n}, "
            f"peak RSS {max(x['peak_rss_mb'] for x in runs[kind]):.0f} MB"
            + (f", {r['transactions']} transactions" if "transactions" in r else "")
            + (
                f"; writer process: CPU {r['writer_cpu_seconds']:.1f} s, "
                f"peak RSS {r['writer_rss_mb']:.0f} MB"
                if r.get("writer_rss_mb")
                else ""
            )
        )
    for ceiling in CEILINGS:
        for kind in ("reader", "pipeline"):
            ratio = res[ceiling]["seconds"] / res[kind]["seconds"]
            cpu = res[kind]["cpu_seconds"] + res[kind].get("writer_cpu_seconds", 0.0)
            print(
                f"{kind} / {ceiling} rate: {ratio:.0%} wall (goal >= 60% end to end); "
                f"CPU per account {cpu / res[ceiling]['cpu_seconds']:.1f}x {ceiling}'s"
            )
    r = res["pipeline"]
    if r.get("writer_rss_mb"):
        total = max(x["peak_rss_mb"] + x.get("writer_rss_mb", 0) for x in runs["pipeline"])
        print(f"pipeline peak RSS, probing process + writer process: {total:.0f} MB (goal < 400)")
    if a.rounds > 1:
        for ceiling in CEILINGS:
            for kind in ("reader", "pipeline"):
                pairs = [
                    b["seconds"] / k["seconds"]
                    for b, k in zip(runs[ceiling], runs[kind], strict=True)
                ]
                print(f"{kind} / {ceiling} per round: " + ", ".join(f"{p:.0%}" for p in pairs))


if __name__ == "__main__":
    main()
