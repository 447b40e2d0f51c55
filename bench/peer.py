"""xuncha against changedetection.io, each run as its users run it, on the same local pages.

Not a test: prints figures, ending with issue 32's table in markdown. Nothing but loopback
addresses is contacted.

- **The pages** (``bench/peer_pages.py``, a process of its own): ``--pages`` news lists
  (~20 KB, 100 dated items) spread over ``--hosts`` loopback addresses (127.0.0.2 …), in
  three behaviours, switched in turn: ``same`` (the same bytes, no validators), ``noisy`` (the
  same posts, a CSRF token, a nonce and a visit counter that change on every request) and
  ``etag`` (ETag/Last-Modified, 304 to a matching conditional request). The page server
  counts each tool's requests by its User-Agent.
- **changedetection.io** (``--cdio-version``), installed from the package registry into a
  virtual environment of its own (``--venv``, made on first use), runs in server mode with
  its default workers on 127.0.0.1 (``ALLOW_IANA_RESTRICTED_ADDRESSES=true`` so it fetches
  loopback pages, ``MINIMUM_SECONDS_RECHECK_TIME=1``, its version check off). Every page is
  a watch, added through its REST API (the API key read from its datastore) with a 1 s
  recheck and a CSS include filter (``ul.news-list``).
- **xuncha** runs as ``xuncha run`` at its defaults (concurrency, per-host limit, logging),
  screenshots off, with ``--accounts`` accounts on the pages (beyond the first ``--pages``,
  the same page with ``?a=<n>``) kept due: while it runs, the bench makes every account that
  is not due due now once a second (what ``xuncha recheck --all`` does).

Windows are interleaved: only one tool runs at a time, the other's whole process tree is
stopped (SIGSTOP) and resumed (SIGCONT) for its turn, and the order alternates. For each
behaviour each tool first warms up alone (its first look at every page in that behaviour,
then ``--warmup`` s more), then ``--rounds`` windows of ``--window`` s each after ``--settle`` s of
resuming. In a window: checks/s = the tool's requests the page server answered / the
window's length; CPU ms/check = CPU (user + system) of the tool's whole process tree,
reaped children included, over those requests. The load average is recorded per window;
measure on a quiet machine. Medians of the windows go into the table.

    python bench/peer.py                      # 1000 pages, 50 hosts, 2000 accounts, ~20 min
    python bench/peer.py --quick              # smoke run: short windows, one round
    python bench/peer.py --behaviours noisy --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_VENV = Path.home() / ".cache" / "xuncha-bench" / "changedetection-venv"
BEHAVIOURS = {
    "same": "same bytes, no validators",
    "noisy": "same posts, a token that changes per request",
    "etag": "ETag / 304",
}
SELECTOR = "item=ul.news-list li; date=.date; title=a"


# -- process trees: CPU, memory, stop and resume -----------------------------------------------


def tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
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


def usage(root: int) -> tuple[float, int]:
    """CPU seconds (user + system, reaped children included) and RSS bytes of the tree."""
    cpu, rss = 0.0, 0
    for pid in tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime stime cutime cstime are fields 14-17 (1-based); after ")" they start at 11
        cpu += sum(int(x) for x in fields[11:15]) / CLK_TCK
        rss += int(fields[21]) * PAGE_SIZE
    return cpu, rss


def signal_tree(root: int, sig: signal.Signals) -> None:
    for pid in tree(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


# -- the pages ---------------------------------------------------------------------------------


class Pages:
    def __init__(self, pages: int, hosts: int) -> None:
        cmd = [sys.executable, str(ROOT / "bench" / "peer_pages.py")]
        cmd += ["--pages", str(pages), "--hosts", str(hosts)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        ready = json.loads(self.proc.stdout.readline().removeprefix("READY "))
        self.control: str = ready["control"]
        self.urls: list[str] = ready["urls"]

    def _get(self, path: str) -> dict[str, dict[str, int]]:
        with urllib.request.urlopen(f"{self.control}{path}", timeout=10) as r:
            return json.load(r)

    def mode(self, behaviour: str) -> None:
        self._get(f"/__mode?b={behaviour}")

    def requests(self, client: str) -> int:
        return self._get("/__stats")[client]["requests"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# -- a tool: a process tree the bench can stop, resume and measure ---------------------------


@dataclass
class Window:
    tool: str
    behaviour: str
    checks: int
    seconds: float
    cpu: float
    rss: int
    load: float

    @property
    def rate(self) -> float:
        return self.checks / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.checks if self.checks else float("nan")

    def line(self) -> str:
        return (
            f"  {self.behaviour:<6} {self.tool:<18} {self.checks:6d} checks in "
            f"{self.seconds:5.1f} s = {self.rate:6.1f}/s, CPU {self.cpu_ms:6.2f} ms/check, "
            f"RSS {self.rss / 2**20:5.0f} MB, load {self.load:4.2f}"
        )


class Tool:
    name = ""
    client = ""  # how the page server counts its requests
    proc: subprocess.Popen[bytes]

    def pause(self) -> None:
        signal_tree(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        signal_tree(self.proc.pid, signal.SIGCONT)

    def measure(self, pages: Pages, behaviour: str, seconds: float) -> Window:
        n0, (c0, _), t0 = pages.requests(self.client), usage(self.proc.pid), time.time()
        peak = 0
        while time.time() < t0 + seconds:
            time.sleep(min(1.0, t0 + seconds - time.time()) if seconds > 0 else 0)
            peak = max(peak, usage(self.proc.pid)[1])
        n1, (c1, _), t1 = pages.requests(self.client), usage(self.proc.pid), time.time()
        return Window(self.name, behaviour, n1 - n0, t1 - t0, c1 - c0, peak, os.getloadavg()[0])

    def wait_requests(self, pages: Pages, n: int, timeout: float) -> None:
        """Until the page server has answered ``n`` requests of this tool (a first look at
        every page), or ``timeout`` s."""
        deadline = time.time() + timeout
        while pages.requests(self.client) < n and time.time() < deadline:
            time.sleep(0.5)

    def stop(self) -> None:
        self.resume()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


# -- changedetection.io -----------------------------------------------------------------------


def cdio_install(venv: Path, version: str) -> Path:
    exe = venv / "bin" / "changedetection.io"
    if exe.exists():
        return exe
    print(f"installing changedetection.io {version} into {venv} (once) …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", f"changedetection.io=={version}"]
    subprocess.run(pip, check=True)
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChangeDetection(Tool):
    """changedetection.io in server mode, its watches added through its REST API."""

    name, client = "changedetection.io", "peer"

    def __init__(self, exe: Path, folder: Path, urls: list[str]) -> None:
        import httpx

        self.store = folder / "datastore"
        port = free_port()
        opts = {
            "include_filters": ["ul.news-list"],
            "time_between_check_use_default": False,
            "time_between_check": {"seconds": 1},
        }
        env = {
            **os.environ,
            "ALLOW_IANA_RESTRICTED_ADDRESSES": "true",  # let it fetch from loopback
            "MINIMUM_SECONDS_RECHECK_TIME": "1",
            "DISABLE_VERSION_CHECK": "yes",  # nothing leaves the machine
            "LOGGER_LEVEL": "WARNING",
        }
        # one watch on the command line (else it seeds its default watches, on the internet);
        # the rest through the API, as a user's script adds them
        args = [str(exe), "-d", str(self.store), "-C", "-h", "127.0.0.1", "-p", str(port)]
        args += ["-u", urls[0], "-u0", json.dumps(opts)]
        log = open(folder / "cdio.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}/api/v1"
        key = self._api_key(base)
        with httpx.Client(headers={"x-api-key": key}, timeout=30) as c:
            for u in urls[1:]:
                c.post(f"{base}/watch", json={"url": u, **opts}).raise_for_status()
            n = c.get(f"{base}/systeminfo").json()["watch_count"]
        if n != len(urls):
            raise RuntimeError(f"changedetection.io has {n} watches, not {len(urls)}")

    def _api_key(self, base: str) -> str:
        import httpx

        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("changedetection.io exited; see cdio.log")
            try:
                data = json.loads((self.store / "changedetection.json").read_text())
                key = data["settings"]["application"]["api_access_token"]
                httpx.get(f"{base}/systeminfo", headers={"x-api-key": key}).raise_for_status()
                return str(key)
            except (OSError, ValueError, KeyError, httpx.HTTPError):
                time.sleep(0.5)
        raise TimeoutError("changedetection.io's API did not answer in 120 s")


# -- xuncha ------------------------------------------------------------------------------------


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
    out["PYTHONPATH"] = str(ROOT)
    return out


class Xuncha(Tool):
    """``xuncha run`` at its defaults, its accounts kept due by the bench."""

    name, client = "xuncha run", "xuncha"

    def __init__(
        self, folder: Path, rows: list[str], *, database: str = "", extra_config: str = ""
    ) -> None:
        """``rows``: the accounts table's rows (after its header)."""
        self.folder = folder
        cfg = folder / "xuncha.toml"
        db = f'[database]\nurl = "{database}"\n' if database else ""
        cfg.write_text(
            f'data_dir = "{folder}"\n{db}[screenshots]\nenabled = false\n{extra_config}',
            encoding="utf-8",
        )
        self.cfg = cfg
        units = folder / "units.csv"
        units.write_text("单位编码,单位名称\nbench,某某县人民政府办公室\n", encoding="utf-8")
        accounts = folder / "accounts.csv"
        accounts.write_text(
            "账号编号,平台,账号名称,平台账号ID,地址,读取方式,主办单位,类型,更新规则,参数\n"
            + "\n".join(rows)
            + "\n",
            encoding="utf-8",
        )
        self.cli("init")
        self.cli("registry", "import", str(units), str(accounts))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
            stdout=subprocess.DEVNULL,
            stderr=open(folder / "run.log", "wb"),  # noqa: SIM115
            env=env(),
        )
        self._keeping = threading.Event()
        self._stop = threading.Event()
        self._keeper = threading.Thread(target=self._keep_due, daemon=True)
        self._keeper.start()

    @staticmethod
    def web_rows(urls: list[str], accounts: int) -> list[str]:
        """``accounts`` web-page accounts over the pages; beyond the first round of pages the
        same page with ``?a=<n>``, so every account is a URL of its own."""
        rows = []
        for i in range(accounts):
            u = urls[i % len(urls)] + ("" if i < len(urls) else f"?a={i}")
            rows.append(f'w{i},网站,政务动态{i},,{u},网页,bench,发布类,national,"{SELECTOR}"')
        return rows

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(self.cfg), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env(),
        )

    def _keep_due(self) -> None:
        """Once a second while xuncha runs: every account not due and not being checked,
        due now (``xuncha recheck --all``, leaving the already due alone)."""
        sys.path.insert(0, str(ROOT))
        import sqlalchemy as sa

        from monitor.config import load_settings
        from monitor.store.engine import make_engine

        engine = make_engine(load_settings(self.cfg).database_url)
        while not self._stop.is_set():
            if self._keeping.wait(0.5):
                try:
                    with engine.begin() as c:
                        for stmt in self._due_statements(datetime.now(UTC)):
                            c.execute(stmt)
                except sa.exc.OperationalError:
                    pass  # the database busy: next second
                self._stop.wait(1.0)
        engine.dispose()

    def _due_statements(self, now: datetime) -> list[Any]:
        import sqlalchemy as sa

        from monitor.store.models import AccountState

        t = AccountState.__table__  # type: ignore[attr-defined]
        free = t.c.claimed_by.is_(None)
        return [sa.update(t).where(free, t.c.due_at > now).values(due_at=now)]

    def pause(self) -> None:
        self._keeping.clear()
        super().pause()

    def resume(self) -> None:
        super().resume()
        self._keeping.set()

    def stop(self) -> None:
        self._stop.set()
        self._keeper.join(10)
        super().stop()


# -- the run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[Window]:
    pages = Pages(args.pages, args.hosts)
    windows: list[Window] = []
    tools: list[Tool] = []
    try:
        with tempfile.TemporaryDirectory(prefix="xuncha-peer-") as tmp:
            folder = Path(tmp)
            pages.mode(args.behaviours[0])
            if not args.skip_peer:
                exe = cdio_install(args.venv, args.cdio_version)
                (folder / "cdio").mkdir()
                print(f"changedetection.io: adding {args.pages} watches …", flush=True)
                tools.append(ChangeDetection(exe, folder / "cdio", pages.urls))
                tools[-1].pause()
            (folder / "xuncha").mkdir()
            print(f"xuncha: importing {args.accounts} accounts …", flush=True)
            rows = Xuncha.web_rows(pages.urls, args.accounts)
            xu = Xuncha(folder / "xuncha", rows, database=args.database)
            xu.pause()
            tools.insert(0, xu)
            first = {"xuncha run": args.accounts, "changedetection.io": args.pages}
            try:
                for behaviour in args.behaviours:
                    pages.mode(behaviour)
                    for tool in tools:  # each alone: its first look, then steady checks
                        tool.resume()
                        tool.wait_requests(pages, first[tool.name], timeout=600)
                        time.sleep(args.warmup)
                        tool.pause()
                    for r in range(args.rounds):
                        for tool in tools if r % 2 == 0 else tools[::-1]:
                            tool.resume()
                            time.sleep(args.settle)
                            w = tool.measure(pages, behaviour, args.window)
                            tool.pause()
                            print(w.line(), flush=True)
                            windows.append(w)
            finally:
                for tool in tools:
                    tool.stop()
    finally:
        pages.stop()
    return windows


def median(windows: list[Window], tool: str, behaviour: str) -> tuple[float, float] | None:
    ws = [w for w in windows if w.tool == tool and w.behaviour == behaviour]
    if not ws:
        return None
    return statistics.median(w.rate for w in ws), statistics.median(w.cpu_ms for w in ws)


def table(windows: list[Window], behaviours: list[str]) -> str:
    """Issue 32's table, medians of the windows."""
    out = [
        "| page behaviour | changedetection.io checks/s · CPU ms/check | xuncha "
        "| ratio (rate · CPU) |",
        "|---|---|---|---|",
    ]
    for b in behaviours:
        x, c = median(windows, "xuncha run", b), median(windows, "changedetection.io", b)
        xs = f"{x[0]:.0f} · {x[1]:.1f}" if x else "–"
        cs = f"{c[0]:.0f} · {c[1]:.1f}" if c else "–"
        ratio = f"{x[0] / c[0]:.1f}× · {x[1] / c[1]:.2f}×" if x and c and c[0] else "–"
        out.append(f"| {BEHAVIOURS[b]} | {cs} | {xs} | {ratio} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=50, help="loopback addresses the pages are on")
    ap.add_argument("--accounts", type=int, default=2000, help="xuncha's accounts on the pages")
    ap.add_argument("--behaviours", nargs="+", choices=list(BEHAVIOURS), default=list(BEHAVIOURS))
    ap.add_argument("--warmup", type=float, default=30.0, help="seconds per tool and behaviour")
    ap.add_argument("--window", type=float, default=45.0, help="seconds per measured window")
    ap.add_argument("--rounds", type=int, default=3, help="windows per tool and behaviour")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds after resuming a tool")
    ap.add_argument("--quick", action="store_true", help="smoke run: 5 s warm-up, 8 s windows")
    ap.add_argument("--skip-peer", action="store_true", help="xuncha alone")
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    ap.add_argument("--cdio-version", default="0.60.10")
    ap.add_argument("--database", default="", help="xuncha's database URL (default SQLite)")
    args = ap.parse_args()
    if args.quick:
        args.warmup, args.window, args.rounds, args.settle = 5.0, 8.0, 1, 1.0
    load = os.getloadavg()
    print(
        f"{args.pages} pages on {args.hosts} loopback hosts; changedetection.io "
        f"{args.cdio_version} ({args.pages} watches), xuncha ({args.accounts} accounts); "
        f"warm-up {args.warmup:g} s, {args.rounds} × {args.window:g} s windows each, "
        f"interleaved; {os.cpu_count()} CPUs, load average at start "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    windows = run(args)
    loads = [w.load for w in windows]
    print(f"\nload average over the windows: {min(loads):.2f}–{max(loads):.2f}")
    print(f"medians of {args.rounds} window(s) each:\n")
    print(table(windows, args.behaviours))
    x = {b: median(windows, "xuncha run", b) for b in args.behaviours}
    if (n := x.get("noisy")) and (s := x.get("same")):
        print(f"\nxuncha: a noisy-page check costs {n[1] / s[1]:.2f}× a same-bytes check (CPU)")


if __name__ == "__main__":
    main()
