"""Thousands of cheap RSS feeds on 127.0.0.1 watching how they are read, and nodes to read them.

For the scale-out test and ``bench/nodes.py``: ``/f/<n>.xml`` is account ``n``'s
feed (odd accounts silent for 20 days, so they open findings and alerts). The server
notes every request's start and end per feed, so "an account is never read by two
nodes at once" is checked from the outside, where a user's platform would see it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

from monitor.demo.platform import Item, rss_feed
from monitor.store.engine import make_engine, session_scope, upgrade
from monitor.store.models import Account, Unit


def feed_for(n: int, now: datetime) -> bytes:
    age = timedelta(days=20) if n % 2 else timedelta(hours=2)
    return rss_feed(f"账号{n}", f"https://weibo.com/{n}", [Item(f"第{n}号账号的消息", now - age)])


def flood_feed(count: int, at: datetime) -> bytes:
    """One feed of ``count`` short items all dated ``at`` (one second): the shape of the
    4.85 MB feed (26,000 items) that once held the writer for minutes (issue 19)."""
    date = at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    head = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>洪水发布</title><link>https://flood.example.gov.cn/</link>"
        "<description>一秒钟发布的很多条</description>"
    )
    items = (
        f"<item><title>第{i}号通知</title><link>https://flood.example.gov.cn/a/{i}.html</link>"
        f"<description>第{i}号事项</description><pubDate>{date}</pubDate></item>"
        for i in range(count)
    )
    return (head + "\n".join(items) + "</channel></rss>").encode("utf-8")


class FeedFarm:
    def __init__(self, count: int, *, delay: float = 0.0) -> None:
        self.count = count
        self.delay = delay
        now = datetime.now(UTC)
        self.bodies = {f"/f/{n}.xml": feed_for(n, now) for n in range(count)}
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = defaultdict(int)
        self.hits: dict[str, int] = defaultdict(int)
        self.overlaps: list[str] = []  # feeds read twice at the same time
        self.served = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, n: int) -> str:
        return f"{self.base_url}/f/{n}.xml"

    def start(self) -> FeedFarm:
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = farm.bodies.get(self.path)
                with farm.lock:
                    farm.hits[self.path] += 1
                    farm.in_flight[self.path] += 1
                    if farm.in_flight[self.path] > 1:
                        farm.overlaps.append(self.path)
                try:
                    if farm.delay:
                        time.sleep(farm.delay)
                    status = 200 if body is not None else 404
                    data = body if body is not None else b"not found"
                    self.send_response(status)
                    self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a node killed mid-request
                finally:
                    with farm.lock:
                        farm.in_flight[self.path] -= 1
                        farm.served += 1

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a killed node's connection; nothing to report

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FeedFarm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def populate(database_url: str, data_dir: Path, farm: FeedFarm, *, units: int = 10) -> None:
    """A fresh schema with ``farm.count`` RSS accounts spread over ``units`` units."""
    engine = make_engine(database_url)
    upgrade(engine)
    rows_u = [
        {"code": f"u{k}", "name": f"第{k}单位", "parent_code": None, "channels": ["@duty"]}
        for k in range(units)
    ]
    rows_a = [
        Account(
            id=f"a{n:05d}",
            platform="weibo",
            reader="rss",
            name=f"账号{n}",
            owner_code=f"u{n % units}",
            url=farm.url(n),
        ).model_dump()
        for n in range(farm.count)
    ]
    with session_scope(engine) as s:
        for u in rows_u:
            s.add(Unit(**u))
        s.flush()
        s.execute(sa.insert(Account), rows_a)
    engine.dispose()
    data_dir.mkdir(parents=True, exist_ok=True)


def node_config(
    folder: Path,
    name: str,
    database_url: str,
    sink_url: str,
    *,
    interval_minutes: int = 1,
    jitter_seconds: int = 20,
    concurrency: int = 8,
    lease_seconds: float = 10,
) -> Path:
    """One node's TOML: its own data_dir (nothing shared but the database)."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "xuncha.toml"
    cfg.write_text(
        f"""
data_dir = "{folder}"
node_name = "{name}"
[database]
url = "{database_url}"
[blobs]
backend = "database"
[patrol]
default_interval_minutes = {interval_minutes}
jitter_seconds = {jitter_seconds}
max_concurrency = {concurrency}
registry_sync_seconds = 600
[cluster]
lease_seconds = {lease_seconds}
[http]
retries = 0
timeout_seconds = 20
per_host = {concurrency}
max_connections = {concurrency * 2}
[alerts]
dispatch_interval_seconds = 1
group_wait_seconds = 2
lease_seconds = 10
retry_base_seconds = 1
[channels]
duty = "{sink_url}"
[metrics]
enabled = false
[selfwatch]
enabled = false
[logging]
format = "json"
""",
        encoding="utf-8",
    )
    return cfg


REPO = Path(__file__).resolve().parents[1]


def start_node(cfg: Path, log: Path, *roles: str) -> subprocess.Popen:
    """``xuncha run`` as its own process (a node), free of this shell's XUNCHA_ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XUNCHA_", "NOTIFY_", "WATCH"))}
    args = [sys.executable, "-m", "monitor", "--config", str(cfg), "run"]
    for r in roles:
        args += ["--role", r]
    return subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=log.open("ab"), env=env, cwd=REPO
    )
