"""xuncha against changedetection.io, side by side, interleaved, on the same local pages.

Not a test: prints figures. Both tools watch the same ``--pages`` news-list pages (~20 KB,
100 items each; ``bench/pages.py``, a process of its own) on 127.0.0.1; nothing else is
contacted. changedetection.io is installed from the package registry into a virtual
environment of its own (``--venv``, made on first use) and run in its batch mode with its
default worker count; ``xuncha run`` runs as the service does, its accounts due every
minute. Rounds alternate: a round of xuncha (every account checked once), then a round of
changedetection.io, and so on. In each round a tool's window runs from the first request
it made to the last one (plus the tail of work after it, until its CPU rests): checks/s is
the checks in the window over its length, CPU per check the CPU its processes used in it,
peak RSS the largest sum of its processes' resident memory. Each tool's first round (its
first look at every page) is reported but not counted: the figures are for steady patrols,
pages that did not change since the last look.

In the same run, the ceiling: a bare pooled ``httpx`` client (pools of 8, as the fetcher)
fetching every page once per round, unconditionally and with the validators the pages
sent (304s), so the tools' figures can be read against what the machine's HTTP costs.

    python bench/peer.py --pages 1000 --rounds 3
    python bench/peer.py --pages 1000 --no-validators        # a CMS without ETag/Last-Modified
    python bench/peer.py --scaling 1000 10000 20000 --skip-peer  # xuncha alone, more accounts

``--scaling`` runs xuncha alone with that many accounts over the pages (several accounts a
page, each its own URL) and prints CPU per check at each size against the first.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_VENV = Path.home() / ".cache" / "xuncha-bench" / "changedetection-venv"


# -- processes: CPU and memory of a process and its descendants ---------------------------------


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _usage(root: int) -> tuple[float, int]:
    """CPU seconds (user + system, children reaped included) and RSS bytes of the tree."""
    cpu, rss = 0.0, 0
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime stime cutime cstime are fields 14-17 (1-based); after ")" they start at 11
        cpu += sum(int(x) for x in fields[11:15]) / CLK_TCK
        rss += int(fields[21]) * PAGE_SIZE
    return cpu, rss


class Sampler:
    """Samples a process tree's CPU and RSS every ``every`` seconds, in a thread."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float, int]] = []  # (time, cpu, rss)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            cpu, rss = _usage(self.pid)
            self.samples.append((time.time(), cpu, rss))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_at(self, t: float) -> float:
        """CPU seconds at time ``t``, interpolated between the samples around it."""
        before = [s for s in self.samples if s[0] <= t]
        after = [s for s in self.samples if s[0] >= t]
        if not before:
            return self.samples[0][1]
        if not after:
            return self.samples[-1][1]
        (t0, c0, _), (t1, c1, _) = before[-1], after[0]
        return c0 if t1 == t0 else c0 + (c1 - c0) * (t - t0) / (t1 - t0)

    def rest_after(self, t: float, idle_share: float = 0.05, quiet: float = 0.3) -> float:
        """The first time after ``t`` from which the tree used under ``idle_share`` of a core
        for ``quiet`` seconds: the end of the work a round set off."""
        points = [s for s in self.samples if s[0] >= t]
        for i, (ti, ci, _) in enumerate(points):
            later = [p for p in points[i:] if p[0] >= ti + quiet]
            if later and (later[0][1] - ci) <= idle_share * (later[0][0] - ti):
                return ti
        return points[-1][0] if points else t

    def peak_rss(self, start: float, end: float) -> int:
        return max((s[2] for s in self.samples if start <= s[0] <= end), default=0)


# -- the pages ---------------------------------------------------------------------------------


class Pages:
    def __init__(self, pages: int, validators: bool) -> None:
        cmd = [sys.executable, str(ROOT / "bench" / "pages.py"), "--pages", str(pages)]
        if not validators:
            cmd.append("--no-validators")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        self.port = int(line[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, float]:
        with urllib.request.urlopen(f"{self.base}/__stats", timeout=5) as r:
            return json.load(r)

    def reset(self) -> None:
        urllib.request.urlopen(f"{self.base}/__reset", timeout=5).read()

    def wait_for(self, requests: int, timeout: float) -> dict[str, float]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.stats()
            if s["requests"] >= requests:
                return s
            time.sleep(0.05)
        raise TimeoutError(f"only {self.stats()['requests']} of {requests} requests came")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


# -- one measured round ---------------------------------------------------------------------------


@dataclass
class Round:
    tool: str
    number: int
    checks: int
    seconds: float
    cpu: float
    rss: int
    not_modified: int = 0

    @property
    def rate(self) -> float:
        return self.checks / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.checks if self.checks else 0.0

    def line(self) -> str:
        extra = f", {self.not_modified} answered 304" if self.not_modified else ""
        return (
            f"  {self.tool:<20} round {self.number}: {self.checks} checks in "
            f"{self.seconds:6.2f} s = {self.rate:7.1f} checks/s, CPU {self.cpu_ms:6.2f} ms/check, "
            f"peak RSS {self.rss / 2**20:5.0f} MB{extra}"
        )


def measure(tool: str, number: int, sampler: Sampler, stats: dict[str, float]) -> Round:
    first, last = stats["first"], stats["last"]
    end = sampler.rest_after(last)
    cpu = sampler.cpu_at(end) - sampler.cpu_at(first)
    return Round(
        tool,
        number,
        int(stats["requests"]),
        end - first,
        cpu,
        sampler.peak_rss(first, end),
        int(stats["not_modified"]),
    )


# -- changedetection.io -----------------------------------------------------------------------


def cdio_install(venv: Path, version: str) -> Path:
    exe = venv / "bin" / "changedetection.io"
    if exe.exists():
        return exe
    print(f"installing changedetection.io {version} into {venv} (once) …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"changedetection.io=={version}"],
        check=True,
    )
    return exe


class ChangeDetection:
    def __init__(self, exe: Path, folder: Path, urls: list[str]) -> None:
        self.exe, self.store, self.urls = exe, folder / "datastore", urls
        self.env = {
            **os.environ,
            "ALLOW_IANA_RESTRICTED_ADDRESSES": "true",  # let it fetch from 127.0.0.1
            "LOGGER_LEVEL": "WARNING",
        }

    def round(self, pages: Pages, number: int) -> Round:
        """One batch run: every watch checked once, then it exits (its default workers)."""
        args = [str(self.exe), "-d", str(self.store), "-l", "WARNING"]
        if not self.store.exists():
            args += ["-C", *[x for u in self.urls for x in ("-u", u)]]
        args += ["-r", "all", "1", "-b"]
        pages.reset()
        proc = subprocess.Popen(
            args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        sampler = Sampler(proc.pid)
        try:
            stats = pages.wait_for(len(self.urls), timeout=1800)
            proc.wait(600)
        finally:
            sampler.stop()
        return measure("changedetection.io", number, sampler, stats)


# -- xuncha ------------------------------------------------------------------------------------


class Xuncha:
    """``xuncha run`` as a service runs it. A round is ``xuncha recheck --all``: every account
    due at once, as changedetection.io's ``-r all`` queues every watch."""

    def __init__(self, folder: Path, urls: list[str], *, database: str = "") -> None:
        self.folder = folder
        self.urls = urls
        cfg = folder / "xuncha.toml"
        db = f'[database]\nurl = "{database}"\n' if database else ""
        cfg.write_text(
            f'data_dir = "{folder}"\nnode_name = "bench"\n{db}'
            "[patrol]\ndefault_interval_minutes = 60\njitter_seconds = 0\nmax_concurrency = 32\n"
            "[http]\nmax_connections = 32\nper_host = 32\nretries = 0\n"
            "[alerts]\nenabled = false\n[selfwatch]\nenabled = false\n"
            "[retention]\nenabled = false\n[metrics]\nenabled = false\n"
            '[logging]\nlevel = "warning"\nformat = "json"\n',
            encoding="utf-8",
        )
        self.cfg = cfg
        units = folder / "units.csv"
        units.write_text("单位编码,单位名称\nbench,某某县人民政府办公室\n", encoding="utf-8")
        accounts = folder / "accounts.csv"
        sel = "item=ul.news-list li; date=.date; title=a"
        rows = [
            f'b{i},网站,政务动态{i},,{u},网页,bench,发布类,national,"{sel}"'
            for i, u in enumerate(urls)
        ]
        accounts.write_text(
            "账号编号,平台,账号名称,平台账号ID,地址,读取方式,主办单位,类型,更新规则,参数\n"
            + "\n".join(rows)
            + "\n",
            encoding="utf-8",
        )
        self._xuncha("init")
        self._xuncha("registry", "import", str(units), str(accounts))
        self.proc: subprocess.Popen[bytes] | None = None
        self.sampler: Sampler | None = None
        self.rounds_done = 0

    def _xuncha(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(self.cfg), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            env=_env(),
        )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(self.cfg), "run"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "run.log", "wb"),  # noqa: SIM115
            env=_env(),
        )
        self.sampler = Sampler(self.proc.pid)

    def round(self, pages: Pages, number: int, timeout: float = 1800) -> Round:
        """Every account due now, and checked once (the first round: due from the start)."""
        assert self.sampler is not None and self.proc is not None
        pages.reset()
        if number > 0 or self.rounds_done:
            self._xuncha("recheck", "--all")
        self.rounds_done += 1
        stats = pages.wait_for(len(self.urls), timeout=timeout)
        time.sleep(1.0)  # the tail: the writer commits the last batch
        return measure("xuncha run", number, self.sampler, stats)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
        if self.sampler is not None:
            self.sampler.stop()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


# -- the bare client -------------------------------------------------------------------------


def bare(urls: list[str], conditional: bool) -> Round:
    """A bare pooled httpx client, in a child process: the HTTP the machine can do."""
    code = f"""
import asyncio, json, resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
import httpx
from probes.fetch.http import pool_split
urls = json.loads(sys.stdin.read())
async def main():
    sizes = pool_split(32)
    clients = [httpx.AsyncClient(limits=httpx.Limits(max_connections=n)) for n in sizes]
    validators = {{}}
    sem = asyncio.Semaphore(32)
    async def one(i, u):
        async with sem:
            h = validators.get(u, {{}}) if {conditional!r} else {{}}
            r = await clients[i % len(clients)].get(u, headers=h)
            if r.status_code == 200:
                validators[u] = {{"If-None-Match": r.headers.get("etag", "")}}
            return r.status_code
    await asyncio.gather(*(one(i, u) for i, u in enumerate(urls)))  # warm: validators, sockets
    u0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.time()
    codes = await asyncio.gather(*(one(i, u) for i, u in enumerate(urls)))
    t1 = time.time(); u1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)
    print(json.dumps({{"seconds": t1 - t0, "cpu": cpu, "rss": u1.ru_maxrss * 1024,
                      "not_modified": codes.count(304)}}))
asyncio.run(main())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(urls), capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr)
    d = json.loads(out.stdout)
    name = "bare httpx, 304s" if conditional else "bare httpx, 200s"
    return Round(name, 0, len(urls), d["seconds"], d["cpu"], d["rss"], d["not_modified"])


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Tally:
    rounds: dict[str, list[Round]] = field(default_factory=dict)

    def add(self, r: Round, counted: bool = True) -> None:
        print(r.line() + ("" if counted else "   (first look: not counted)"), flush=True)
        if counted:
            self.rounds.setdefault(r.tool, []).append(r)

    def median(self, tool: str) -> tuple[float, float, int]:
        rs = self.rounds[tool]
        return (
            statistics.median(r.rate for r in rs),
            statistics.median(r.cpu_ms for r in rs),
            max(r.rss for r in rs),
        )


def peer_run(args: argparse.Namespace) -> None:
    pages = Pages(args.pages, not args.no_validators)
    urls = [f"{pages.base}/p{i}.html" for i in range(args.pages)]
    tally = Tally()
    try:
        with tempfile.TemporaryDirectory(prefix="xuncha-peer-") as tmp:
            folder = Path(tmp)
            cd = None
            if not args.skip_peer:
                exe = cdio_install(args.venv, args.cdio_version)
                cd = ChangeDetection(exe, folder / "cdio", urls)
                (folder / "cdio").mkdir()
            (folder / "xuncha").mkdir()
            xu = Xuncha(folder / "xuncha", urls, database=args.database)
            xu.start()
            try:
                print(
                    f"{args.pages} pages, validators {'off' if args.no_validators else 'on'}; "
                    f"{args.rounds} counted rounds each, interleaved; "
                    f"load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                for n in range(args.rounds + 1):
                    tally.add(xu.round(pages, n), counted=n > 0)
                    if cd is not None:
                        tally.add(cd.round(pages, n), counted=n > 0)
                    if n > 0:
                        tally.add(bare(urls, conditional=False))
                        if not args.no_validators:
                            tally.add(bare(urls, conditional=True))
            finally:
                xu.stop()
    finally:
        pages.stop()
    print("\nmedians of the counted rounds:")
    for tool in tally.rounds:
        rate, cpu, rss = tally.median(tool)
        print(f"  {tool:<20} {rate:8.1f} checks/s  {cpu:6.2f} ms CPU/check  {rss / 2**20:5.0f} MB")
    if "changedetection.io" in tally.rounds:
        xr, xc, xm = tally.median("xuncha run")
        cr, cc, _ = tally.median("changedetection.io")
        print(
            f"\nxuncha / changedetection.io: {xr / cr:.2f}× the checks per second, "
            f"{xc / cc:.3f}× the CPU per check (1/{cc / xc:.1f}); xuncha's peak RSS "
            f"{xm / 2**20:.0f} MB"
        )


def scaling_run(args: argparse.Namespace) -> None:
    pages = Pages(args.pages, not args.no_validators)
    results: list[Round] = []
    try:
        for n in args.scaling:
            urls = [f"{pages.base}/p{i % args.pages}.html?a={i}" for i in range(n)]
            with tempfile.TemporaryDirectory(prefix="xuncha-scale-") as tmp:
                xu = Xuncha(Path(tmp), urls, database=args.database)
                xu.start()
                try:
                    xu.round(pages, 0, timeout=3600)  # first looks
                    r = xu.round(pages, 1, timeout=3600)
                    r.tool = f"xuncha run {n}"
                    print(r.line(), flush=True)
                    results.append(r)
                finally:
                    xu.stop()
    finally:
        pages.stop()
    base = results[0].cpu_ms
    for r in results:
        print(f"  {r.tool:<20} CPU/check {r.cpu_ms:6.2f} ms = {r.cpu_ms / base:5.2f}× the first")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-validators", action="store_true", help="pages without ETag")
    ap.add_argument("--skip-peer", action="store_true", help="xuncha (and the ceiling) only")
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--cdio-version", default="0.60.10")
    ap.add_argument("--database", default="", help="xuncha's database URL (default SQLite)")
    ap.add_argument("--scaling", type=int, nargs="*", help="accounts per scaling step")
    args = ap.parse_args()
    if args.scaling:
        scaling_run(args)
    else:
        peer_run(args)


if __name__ == "__main__":
    main()
