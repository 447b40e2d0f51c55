"""A government site for the screenshot tests: its news list page (a GB2312 fixture that
refers to a style sheet, a script, a logo and a frame on the site itself, and to a tracker
elsewhere), served from 127.0.0.1, and the tracker: a socket that counts every connection
made to it, so "nothing contacted it" includes a preconnect that never sent a request."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tests.localserver import FIXTURES, LocalServer, Reply

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
PAGE = "/zwdt/"
OPTIONS = {"item": "ul.news li", "date": ".date"}  # the webpage reader's selectors
SITE_CSS = b"body { background: rgb(0, 0, 255) !important; }"  # blue: if it ever loaded


class Tracker:
    """Counts the TCP connections made to it (answering each with an empty 200)."""

    def __init__(self) -> None:
        self.accepted = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            with contextlib.suppress(OSError):
                conn.settimeout(1)
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)


def news_page(origin: str, tracker: str, *new_items: tuple[str, str]) -> bytes:
    """The fixture's bytes (GB2312) with its placeholders filled in, and ``new_items``
    (title, date) on top of the list: the column as it looks after they were published."""
    text = (FIXTURES / "pages" / "zwdt_styled_gb2312.html").read_bytes().decode("gb2312")
    added = "\n".join(
        f'<li class="top"><a href="/zwdt/new{i}.html">{t}</a><span class="date">{d}</span></li>'
        for i, (t, d) in enumerate(new_items)
    )
    text = text.replace("{{ORIGIN}}", origin).replace("{{TRACKER}}", tracker)
    return text.replace("<!--NEW-->", added).encode("gb2312")


def page_reply(body: bytes) -> Reply:
    return Reply(body=body, headers={"Content-Type": "text/html"})


@contextmanager
def government_site() -> Iterator[tuple[LocalServer, Tracker]]:
    """The site (its page and every resource the page names) and the tracker."""
    tracker = Tracker()
    server = LocalServer(
        {
            "/static/site.css": Reply(body=SITE_CSS, headers={"Content-Type": "text/css"}),
            "/static/jquery.min.js": Reply(body=b"", headers={"Content-Type": "text/javascript"}),
            "/static/logo.png": Reply(body=b"", headers={"Content-Type": "image/png"}),
            "/static/weather.html": Reply(body=b"<p>", headers={"Content-Type": "text/html"}),
        }
    )
    try:
        with server:
            server[PAGE] = page_reply(news_page(server.base, tracker.url))
            yield server, tracker
    finally:
        tracker.close()


def shots_dir() -> Path:
    """Where the tests leave the pictures they drew, for a person to look at."""
    import os
    import tempfile

    d = Path(
        os.environ.get("XUNCHA_EVIDENCE_SHOTS")
        or Path(tempfile.gettempdir()) / "xuncha-evidence-shots"
    )
    d.mkdir(parents=True, exist_ok=True)
    return d
