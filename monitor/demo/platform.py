"""A simulated platform for ``xuncha demo``: feeds and pages in the shapes real bridges serve.

Runs on 127.0.0.1 only. Content is generated relative to the demo's clock so the
demo shows the same story whatever day it is run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Item:
    title: str
    at: datetime
    pinned: bool = False
    guid: str = ""
    text: str = ""  # the post's body after its title (RSS description), if any


def rss_feed(title: str, link: str, items: list[Item]) -> bytes:
    """RSS 2.0 as RSSHub's weibo/user route renders it."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss xmlns:atom="http://www.w3.org/2005/Atom" version="2.0"><channel>',
        f"<title><![CDATA[{title}的微博]]></title><link>{link}</link>",
        f"<description><![CDATA[{title}的微博 - Powered by RSSHub]]></description>",
        "<generator>RSSHub</generator><language>zh-cn</language>",
    ]
    for i, it in enumerate(items):
        guid = it.guid or f"{link}P{i:04d}"
        body = f"{escape(it.text)}<br><br>" if it.text else ""
        out.append(
            "<item>"
            f"<title><![CDATA[{it.title}]]></title>"
            f"<description><![CDATA[{escape(it.title)}<br><br>{body}"
            f'<a href="{link}">{escape(title)}</a>]]></description>'
            f"<pubDate>{format_datetime(it.at, usegmt=True)}</pubDate>"
            f'<guid isPermaLink="false">{guid}</guid><link>{guid}</link>'
            f"<author><![CDATA[{title}]]></author>"
            "</item>"
        )
    out.append("</channel></rss>")
    return "\n".join(out).encode("utf-8")


def album_page(title: str, items: list[Item]) -> bytes:
    """A WeChat-style article list page (公众号 album), GBK-free but with a pinned item."""
    rows = []
    for i, it in enumerate(items):
        tag = '<span class="top-tag">置顶</span>' if it.pinned else ""
        day = it.at.astimezone(SHANGHAI).strftime("%Y-%m-%d")
        rows.append(
            f'<li class="album__item">{tag}<a href="/s/{i:04d}">{escape(it.title)}</a>'
            f'<span class="album__item-date">{day}</span></li>'
        )
    html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>"
        f'<h1 class="album__title">{escape(title)}</h1>'
        f'<ul class="album__list">{"".join(rows)}</ul></body></html>'
    )
    return html.encode("utf-8")


@dataclass
class Route:
    status: int
    body: bytes
    content_type: str
    delay: float = 0.0  # seconds before answering (a slow platform)
    etag: str = ""  # sent, and honoured: If-None-Match with it is answered 304


@dataclass
class SimulatedPlatform:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    # requests being answered now, and the most at once since start (or ``reset_peak``):
    # what a client's concurrency limits look like from the platform's side
    in_flight: int = 0
    peak_in_flight: int = 0
    not_modified: int = 0  # answered 304
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset_peak(self) -> None:
        with self._lock:
            self.peak_in_flight = self.in_flight

    def add(
        self,
        path: str,
        body: bytes,
        content_type: str,
        status: int = 200,
        delay: float = 0.0,
        etag: str = "",
    ) -> None:
        self.routes[path] = Route(status, body, content_type, delay, etag)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> SimulatedPlatform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = platform.routes.get(self.path) or Route(404, b"not found", "text/plain")
                # in flight while the platform works on the request (the delay), until its
                # answer is sent: a client that read the whole answer may ask again before
                # this thread returns, and that is not two requests at once
                with platform._lock:
                    platform.hits[self.path] = platform.hits.get(self.path, 0) + 1
                    platform.in_flight += 1
                    platform.peak_in_flight = max(platform.peak_in_flight, platform.in_flight)
                try:
                    if route.delay:
                        time.sleep(route.delay)
                finally:
                    with platform._lock:
                        platform.in_flight -= 1
                self._answer(route)

            def _answer(self, route: Route) -> None:
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    platform.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.etag:
                    self.send_header("ETag", route.etag)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
