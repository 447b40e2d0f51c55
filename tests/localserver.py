"""A threaded HTTP server on 127.0.0.1 for tests: real sockets, no internet.

Routes map a path (query string ignored) to a :class:`Reply`, a list of replies served in
turn (the last one repeats: "503, then 200"), or a handler ``(Request) -> Reply``. Replies
can be delayed, chunked, trickled slowly, streamed from a generator (bodies larger than
memory would like) or cut short, so the client's hostile-input paths can be exercised::

    feed = Reply(body=xml, headers={"Content-Type": "application/rss+xml"})
    with LocalServer({"/feed": feed, "/old": Reply.redirect("/feed")}) as srv:
        await fetcher.get(srv.url("/old"))
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Reply:
    """One canned response.

    ``delay`` sleeps before the status line (a slow server); ``chunk_size`` sends the body
    with ``Transfer-Encoding: chunked``; ``chunk_delay`` sleeps between chunks (a trickle);
    ``stream`` is a factory of body pieces, sent chunked, for bodies too big to prepare;
    ``cut_at`` announces the full ``Content-Length`` but closes after that many bytes.
    """

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunk_size: int | None = None
    chunk_delay: float = 0.0
    stream: Callable[[], Iterable[bytes]] | None = None
    cut_at: int | None = None

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status=status, headers={"Location": location})

    @classmethod
    def fixture(cls, relpath: str, content_type: str, **kw: Any) -> Reply:
        """A reply whose body is ``tests/fixtures/<relpath>``, bytes as stored."""
        return cls(
            body=(FIXTURES / relpath).read_bytes(), headers={"Content-Type": content_type}, **kw
        )


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case keys
    hit: int  # 1 for the first request to this path


Handler = Callable[[Request], Reply]
RouteValue = Reply | list[Reply] | Handler


class LocalServer:
    """Context manager: binds 127.0.0.1 on a free port, serves routes from a thread.

    ``hits[path]`` counts requests per path, ``requests`` logs them, ``sent[path]`` is the
    number of body bytes the last response on that path managed to write before the
    client stopped reading (how tests see that a client cut a stream short).
    """

    def __init__(
        self,
        routes: dict[str, RouteValue] | None = None,
        *,
        tls: tuple[str | Path, str | Path] | None = None,
    ) -> None:
        self.routes: dict[str, RouteValue] = dict(routes or {})
        self.hits: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tls = tls
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __setitem__(self, path: str, value: RouteValue) -> None:
        self.routes[path] = value

    @property
    def base(self) -> str:
        assert self._server is not None, "server not started"
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def __enter__(self) -> LocalServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        if self._tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(self._tls[0]), str(self._tls[1]))
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # wakes handlers sleeping in delays so they end promptly
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- used by the handler thread -------------------------------------------------------

    def _reply_for(self, method: str, target: str, headers: dict[str, str]) -> tuple[str, Reply]:
        parts = urlsplit(target)
        path = parts.path or "/"
        with self._lock:
            hit = self.hits.get(path, 0) + 1
            self.hits[path] = hit
            req = Request(method, path, parts.query, headers, hit)
            self.requests.append(req)
        value = self.routes.get(path)
        if value is None:
            return path, Reply(404, b"not found", {"Content-Type": "text/plain"})
        if isinstance(value, Reply):
            return path, value
        if isinstance(value, list):
            return path, value[min(hit, len(value)) - 1]
        return path, value(req)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False means stop now."""
        return not (seconds > 0 and self._stop.wait(seconds))


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _make_handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _serve(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            path, reply = server._reply_for(self.command, self.path, headers)
            try:
                self._write(path, reply)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                self.close_connection = True  # the client hung up: what some tests want

        def _write(self, path: str, reply: Reply) -> None:
            if not server._sleep(reply.delay):
                self.close_connection = True
                return
            body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
            chunked = reply.stream is not None or reply.chunk_size is not None
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif not any(k.lower() == "content-length" for k in reply.headers):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "HEAD":
                return
            server.sent[path] = 0
            if chunked:
                pieces: Iterable[bytes] = (
                    reply.stream() if reply.stream else _chunks(body, reply.chunk_size or 1024)
                )
                for piece in pieces:
                    if not piece:
                        continue
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
                    server.sent[path] += len(piece)
                    if not server._sleep(reply.chunk_delay):
                        self.close_connection = True
                        return
                self.wfile.write(b"0\r\n\r\n")
            elif reply.cut_at is not None:
                self.wfile.write(body[: reply.cut_at])
                self.wfile.flush()
                server.sent[path] = reply.cut_at
                self.close_connection = True
            else:
                self.wfile.write(body)
                server.sent[path] = len(body)

        do_GET = do_POST = do_HEAD = _serve

    return _Handler


def self_signed_cert(tmpdir: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (via the openssl CLI) for TLS-failure tests."""
    import subprocess

    cert, key = tmpdir / "cert.pem", tmpdir / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
