"""The peer bench's pages: news lists on many loopback hosts, in three behaviours.

``python bench/peer_pages.py --pages 1000 --hosts 50`` serves page ``i`` at
``http://127.0.0.<2 + i % hosts>:<port>/p<i>.html`` (each host its own address, so per-host
politeness is exercised as on real sites) and prints one line, ``READY <json>``, with the
control URL and every page's URL. Every page is ``bench/pages.py``'s news list (~20 KB,
100 dated items under ``ul.news-list``). What a request gets depends on the behaviour set
through ``<control>/__mode?b=…``:

- ``same``: the same bytes on every request, no validators (a CMS that sends neither ETag
  nor Last-Modified);
- ``noisy``: the same posts, but a CSRF token, a nonce and a visit counter that change on
  every request (outside the list, as on most real pages), no validators;
- ``etag``: the same bytes with ``ETag``/``Last-Modified``, ``304`` to a matching
  conditional request, as nginx serves a static file.

``<control>/__stats`` answers JSON per client (``xuncha`` when the User-Agent names it, else
``peer``): requests, 200s, 304s; ``/__reset`` zeroes them. A process of its own: its CPU is
never counted against the tools it serves. Only loopback addresses are bound.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import secrets
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import page

BEHAVIOURS = ("same", "noisy", "etag")
STARTED = formatdate(time.time() - 86400, usegmt=True)
FOOTER = b'<div class="footer">'


def host_of(i: int, hosts: int) -> str:
    """Page ``i``'s loopback address: 127.0.0.2 … 127.0.0.<hosts + 1>."""
    return f"127.0.0.{2 + i % hosts}"


class Site:
    """The pages, the behaviour in force and the counters, shared by every host's server."""

    def __init__(self, pages: int) -> None:
        self.bodies = {f"/p{i}.html": page(i) for i in range(pages)}
        self.etags = {
            k: '"' + hashlib.sha1(v).hexdigest()[:16] + '"' for k, v in self.bodies.items()
        }
        self.behaviour = "same"
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.stats = {
                c: {"requests": 0, "ok": 0, "not_modified": 0} for c in ("xuncha", "peer")
            }

    def hit(self, client: str, status: int) -> None:
        with self.lock:
            s = self.stats[client]
            s["requests"] += 1
            s["ok"] += status == 200
            s["not_modified"] += status == 304

    def noisy(self, body: bytes) -> bytes:
        """The same posts with what changes on every request on real pages: a CSRF token in
        the head and a form, a script nonce, a visit counter in the footer."""
        token, nonce, n = secrets.token_hex(16), secrets.token_urlsafe(12), next(self.counter)
        head = (
            f'<meta name="csrf-token" content="{token}"><script nonce="{nonce}">var t={n};</script>'
        )
        foot = (
            f'<form class="search"><input type="hidden" name="_csrf" value="{token}"></form>'
            f'<div class="visits">本页访问量：{n} 次 生成时间：{time.time():.3f}</div>'
        )
        body = body.replace(b"</head>", head.encode() + b"</head>", 1)
        return body.replace(FOOTER, foot.encode() + FOOTER, 1)


def handler(site: Site) -> type[BaseHTTPRequestHandler]:
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
            url = urlsplit(self.path)
            if url.path.startswith("/__"):
                self._control(url.path, parse_qs(url.query))
                return
            body = site.bodies.get(url.path)
            if body is None:
                self._send(404, b"not found", {"Content-Type": "text/plain"})
                return
            client = "xuncha" if "xuncha" in self.headers.get("User-Agent", "") else "peer"
            headers = {"Content-Type": "text/html; charset=utf-8"}
            behaviour = site.behaviour
            if behaviour == "etag":
                headers |= {"ETag": site.etags[url.path], "Last-Modified": STARTED}
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (inm and inm == site.etags[url.path]) or (not inm and ims == STARTED):
                    site.hit(client, 304)
                    self._send(304, b"", headers)
                    return
            elif behaviour == "noisy":
                body = site.noisy(body)
            site.hit(client, 200)
            self._send(200, body, headers)

        def _control(self, path: str, query: dict[str, list[str]]) -> None:
            if path == "/__mode":
                b = query.get("b", [""])[0]
                if b not in BEHAVIOURS:
                    self._send(400, f"b must be one of {BEHAVIOURS}".encode(), {})
                    return
                site.behaviour = b
                site.reset()
            elif path == "/__reset":
                site.reset()
            elif path != "/__stats":
                self._send(404, b"not found", {})
                return
            with site.lock:
                data = {"behaviour": site.behaviour, **site.stats}
            self._send(200, json.dumps(data).encode(), {"Content-Type": "application/json"})

        do_HEAD = do_GET

    return Handler


def serve(pages: int, hosts: int) -> None:
    site = Site(pages)
    cls = handler(site)
    servers: dict[str, ThreadingHTTPServer] = {}
    for addr in ["127.0.0.1", *(host_of(h, hosts) for h in range(hosts))]:
        httpd = ThreadingHTTPServer((addr, 0), cls)
        httpd.daemon_threads = True
        httpd.request_queue_size = 512
        servers[addr] = httpd
        threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def base(addr: str) -> str:
        return f"http://{addr}:{servers[addr].server_address[1]}"

    urls = [f"{base(host_of(i, hosts))}/p{i}.html" for i in range(pages)]
    sys.stdout.write("READY " + json.dumps({"control": base("127.0.0.1"), "urls": urls}) + "\n")
    sys.stdout.flush()
    threading.Event().wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=50, help="loopback addresses, 1 to 250")
    args = ap.parse_args()
    if not 1 <= args.hosts <= 250:
        ap.error("--hosts must be 1 to 250")
    serve(args.pages, args.hosts)


if __name__ == "__main__":
    main()
