"""Hostile pages under ``xuncha run``: does the patrol go on, are the watchdog pings on time?

    python bench/hostile_pages.py --levels 200000 --accounts 20 --seconds 180
    python bench/hostile_pages.py --judge-only

Not a test: prints figures. A fresh data directory (SQLite) and a local server with
``--accounts`` ordinary RSS feeds (checked every minute) and two hostile accounts: a page of
``--levels`` nested ``<div>`` (the webpage reader) and a feed one item of which nests as deep
(the rss reader) — issue 33's shapes. ``xuncha run`` is started as systemd would, with
``NOTIFY_SOCKET`` (a socket this script reads) and ``WATCHDOG_USEC`` (10 s: a ping every 5 s,
the daemon's shortest tick). It prints:

- the hostile accounts' outcomes (expected: unreadable, 页面结构异常（嵌套过深）);
- for the ordinary accounts, how late each check came after the one before plus the
  interval (the delay a stall adds), and the slowest check (its elapsed_ms);
- the watchdog: the longest gap between two pings (expected about 5 s), and the daemon's
  CPU seconds.

``--judge-only`` prints the cost of the judgement alone (``probes.fetch.bounds.judge``)
against lexbor's parse, on the hostile shapes and on ordinary pages, in CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.demo.platform import Item, SimulatedPlatform, rss_feed  # noqa: E402


def nested(levels: int) -> str:
    return "<div>" * levels + "深处" + "</div>" * levels


def feed_with(description: str) -> bytes:
    day = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>示例发布</title><link>https://a.gov.cn/</link>"
        f"<item><title>冬季防火</title><link>https://a.gov.cn/1</link><pubDate>{day}</pubDate>"
        f"<description><![CDATA[{description}]]></description></item></channel></rss>"
    ).encode()


def setup(tmp: Path, platform: SimulatedPlatform, accounts: int, levels: int) -> Path:
    from monitor.store.engine import make_engine, session_scope, upgrade
    from monitor.store.models import Account, Unit

    db = tmp / "xuncha.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    platform.add("/deep.html", nested(levels).encode(), "text/html; charset=utf-8")
    platform.add("/deep.xml", feed_with(nested(levels)), "application/rss+xml")
    with session_scope(engine) as s:
        s.add(Unit(code="u1", name="青溪县人民政府办公室", channels=[]))
        s.flush()
        base = platform.base_url
        s.add(Account(id="deep-page", owner_code="u1", url=f"{base}/deep.html", name="深页",
                      platform="website", reader="webpage", options={"item": "li"}))  # fmt: skip
        s.add(Account(id="deep-feed", owner_code="u1", url=f"{base}/deep.xml", name="深订阅",
                      platform="weibo", reader="rss"))  # fmt: skip
        for i in range(accounts):
            items = [Item(f"第{i}号账号的消息", now - timedelta(hours=1))]
            platform.add(f"/f{i}.xml", rss_feed(f"账号{i}", f"https://weibo.com/{i}", items),
                         "application/rss+xml", delay=0.2)  # fmt: skip
            s.add(Account(id=f"acc{i:03d}", owner_code="u1", url=f"{base}/f{i}.xml",
                          name=f"账号{i}", platform="weibo", reader="rss"))  # fmt: skip
    engine.dispose()
    cfg = tmp / "xuncha.toml"
    cfg.write_text(
        f'data_dir = "{tmp}"\nnode_name = "bench"\n'
        "[patrol]\ndefault_interval_minutes = 1\njitter_seconds = 0\nmax_concurrency = 4\n"
        "[http]\nretries = 0\ntimeout_seconds = 10\n"
        '[alerts]\ndaily_digest_time = ""\nweekly_digest_time = ""\n'
        '[logging]\nformat = "json"\n',
        encoding="utf-8",
    )
    return cfg


def listen(path: Path, pings: list[float], stop: threading.Event) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)

    def loop() -> None:
        while not stop.is_set():
            try:
                data = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if b"WATCHDOG=1" in data:
                pings.append(time.monotonic())

    threading.Thread(target=loop, daemon=True).start()
    return sock


def patrol(args: argparse.Namespace) -> None:
    platform = SimulatedPlatform().start()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cfg = setup(tmp, platform, args.accounts, args.levels)
        pings: list[float] = []
        stop = threading.Event()
        sock = listen(tmp / "notify.sock", pings, stop)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XUNCHA_", "NOTIFY_"))}
        env |= {"NOTIFY_SOCKET": str(tmp / "notify.sock"), "WATCHDOG_USEC": "10000000"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=(tmp / "run.log").open("wb"),
        )  # fmt: skip
        started = time.monotonic()
        time.sleep(args.seconds)
        cpu = _cpu_seconds(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        stop.set()
        sock.close()
        platform.stop()
        rows = (
            sqlite3.connect(tmp / "xuncha.db")
            .execute(
                "select account_id, taken_at, outcome, detail, elapsed_ms from snapshot order by id"
            )
            .fetchall()
        )
    _report(rows, pings, started, cpu, args)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _report(rows: list, pings: list[float], started: float, cpu: float, args) -> None:
    hostile = {a: (o, d) for a, _, o, d, _ in rows if a.startswith("deep")}
    by_account: dict[str, list[datetime]] = {}
    slowest = 0
    for account, taken, _outcome, _, ms in rows:
        if account.startswith("deep"):
            continue
        by_account.setdefault(account, []).append(datetime.fromisoformat(taken))
        slowest = max(slowest, ms or 0)
    late = [
        (b - a).total_seconds() - 60 for times in by_account.values() for a, b in pairwise(times)
    ]
    gaps = [b - a for a, b in pairwise(pings)]
    print(f"levels {args.levels}, ordinary accounts {args.accounts}, {args.seconds} s")
    for account, (outcome, detail) in sorted(hostile.items()):
        print(f"  {account}: {outcome} {detail}")
    checked = len(by_account)
    print(f"  ordinary accounts checked: {checked}/{args.accounts}, checks: {len(rows)}")
    if late:
        print(f"  lateness after the 60 s interval: max {max(late):.1f} s, "
              f"median {sorted(late)[len(late) // 2]:.1f} s")  # fmt: skip
    print(f"  slowest ordinary check: {slowest} ms")
    if gaps:
        print(f"  watchdog pings: {len(pings)}, longest gap {max(gaps):.1f} s "
              f"(first after {pings[0] - started:.1f} s)")  # fmt: skip
    print(f"  daemon CPU: {cpu:.1f} s")


def judge_only() -> None:
    from selectolax.lexbor import LexborHTMLParser

    from probes.fetch.bounds import judge

    def distinct(fmt: str, n: int) -> str:
        return "".join(fmt.format(i=i) for i in range(n))

    shapes = {
        "nested divs 200k": nested(200_000),
        "rebuilt <b> 5k": distinct("<div><b id={i}></div>", 5_000),
        "options 10k": "<select>" + "<option>" * 10_000,
        "attributes 20k": "<div" + distinct(" a{i}", 20_000) + ">",
        "links 200k (ordinary)": '<a href="/x">通知</a>' * 200_000,
        "list page 20 KB (ordinary)": _list_page(100),
        "list page 1 MB (ordinary)": _list_page(5_000),
    }
    print(f"{'shape':28s} {'bytes':>9s} {'judge s':>8s} {'parse s':>8s}  verdict")
    for name, text in shapes.items():
        a = time.process_time()
        why = judge(text)
        b = time.process_time()
        parse = "-"
        if not why or len(text) < 300_000:  # the hostile ones: a bounded taste, not minutes
            LexborHTMLParser(text[:300_000] if why else text)
            parse = f"{time.process_time() - b:.3f}" + ("*" if why else "")
        print(f"{name:28s} {len(text):9d} {b - a:8.3f} {parse:>8s}  {why or 'read'}")
    print("* parse of the first 300 KB only")


def _list_page(items: int) -> str:
    rows = "".join(
        f'<li class="news-item"><a href="/art/{k}.html" title="政务信息{k}">关于做好第{k}批'
        f'民生实事项目推进工作的通知</a><span class="date">2026-11-{k % 28 + 1:02d}</span></li>'
        for k in range(items)
    )
    return f'<html><body><ul class="news-list">{rows}</ul></body></html>'


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--levels", type=int, default=200_000)
    p.add_argument("--accounts", type=int, default=20)
    p.add_argument("--seconds", type=int, default=180)
    p.add_argument("--judge-only", action="store_true")
    args = p.parse_args()
    if args.judge_only:
        judge_only()
    else:
        patrol(args)


if __name__ == "__main__":
    main()
