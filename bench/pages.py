"""Local news-list pages for the benchmarks, served by a process of their own.

``python bench/pages.py --pages 1000 --port 0`` prints ``READY <port>`` and serves
``/p<i>.html``: a government site's news list (~20 KB, 100 items with dates), the same
bytes on every request. Like nginx serving a static file it answers with ``ETag`` and
``Last-Modified`` and honours ``If-None-Match`` / ``If-Modified-Since`` with 304
(``--no-validators``: plain 200s, like a CMS that sends neither). ``/__stats`` answers
JSON: requests, 200s, 304s, and the first and last request's time (``time.time()``), so a
bench can cut its measuring window at the first and last request a tool made;
``/__reset`` zeroes them. A process of its own: its CPU is not counted against the tool
it serves.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from datetime import date, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTED = formatdate(time.time() - 86400, usegmt=True)


def page(i: int, items: int = 100, today: date | None = None) -> bytes:
    """Page ``i``: an active site's news list, newest first, its latest item dated the day
    before ``today`` (the run's day) and two a day before that.

    Dated from the run's day, not fixed: with fixed dates every account of a bench run
    weeks later is overdue (即将超期 or 超期未更新 open), which a real province's accounts are
    not, and the run would measure only the judging of open findings."""
    day = (today or date.today()) - timedelta(days=1)
    rows = "".join(
        f'<li class="news-item"><a href="/art/{i}/{k}.html" title="政务信息{i}-{k}">'
        f"关于做好{day.year}年第{k}批民生实事项目推进工作的通知（{i}-{k}）</a>"
        f'<span class="date">{day - timedelta(days=k // 2):%Y-%m-%d}</span></li>\n'
        for k in range(items)
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<title>政务动态 {i}</title></head><body><div class="header">某某县人民政府</div>'
        f'<ul class="news-list">{rows}</ul><div class="footer">版权所有</div></body></html>'
    ).encode()


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests = self.ok = self.not_modified = 0
        self.first = self.last = 0.0

    def hit(self, status: int) -> None:
        now = time.time()
        with self.lock:
            self.requests += 1
            self.ok += status == 200
            self.not_modified += status == 304
            self.first = self.first or now
            self.last = now


def serve(pages: int, port: int, validators: bool) -> None:
    bodies = {f"/p{i}.html": page(i) for i in range(pages)}
    etags = {k: '"' + hashlib.sha1(v).hexdigest()[:16] + '"' for k, v in bodies.items()}
    stats = Stats()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real server offers

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/__stats":
                with stats.lock:
                    data = {
                        "requests": stats.requests,
                        "ok": stats.ok,
                        "not_modified": stats.not_modified,
                        "first": stats.first,
                        "last": stats.last,
                    }
                self._send(200, json.dumps(data).encode(), {"Content-Type": "application/json"})
                return
            if path == "/__reset":
                with stats.lock:
                    stats.reset()
                self._send(200, b"{}", {"Content-Type": "application/json"})
                return
            body = bodies.get(path)
            if body is None:
                self._send(404, b"not found", {"Content-Type": "text/plain"})
                return
            headers = {"Content-Type": "text/html; charset=utf-8"}
            if validators:
                headers |= {"ETag": etags[path], "Last-Modified": STARTED}
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (inm and inm == etags[path]) or (not inm and ims == STARTED):
                    stats.hit(304)
                    self._send(304, b"", headers)
                    return
            stats.hit(200)
            self._send(200, body, headers)

        do_HEAD = do_GET

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 512
    sys.stdout.write(f"READY {httpd.server_address[1]}\n")
    sys.stdout.flush()
    httpd.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-validators", action="store_true")
    args = ap.parse_args()
    serve(args.pages, args.port, not args.no_validators)


if __name__ == "__main__":
    main()
