"""The connections under the probes' HTTP client: HTTP/1.1 on asyncio streams, kept alive
per origin.

Why not httpx's own transport (httpcore, h11, anyio): its pool held at most
``max_connections`` connections *including idle ones* and walked all of them (a ``poll()``
each) on every request and response closed; a patrol asks thousands of sites in turn, so a
new host's request evicted another's idle connection and almost every request connected
anew (``bench/http_path.py --hosts 50``: 1.0 connects a request, ~1 ms of CPU a GET). With
connections kept per origin under httpcore, a GET still cost ~550 µs, most of the
transport's part in httpcore's and anyio's layers (locks, cancel scopes, h11's events);
here ~310 µs (figures in ``bench/http_hosts.py``).

What it keeps: idle connections in a list per origin (the newest taken first), at most
``IDLE_CONNECTIONS`` over all origins (the longest idle closed first), each for
``IDLE_SECONDS``; a request looks only at its own origin's list. The requests *in flight*
are bounded by the Fetcher's semaphores (``max_connections``, ``per_host``), so a request
never waits here. What it refuses, as h11 does (and with h11's words, so the Fetcher judges
a failure the same way): a status line or header that is not HTTP/1.x, a head over
``HEAD_LIMIT`` bytes, a Transfer-Encoding other than chunked, conflicting Content-Lengths,
a malformed chunk, a body cut short. Timeouts are httpx's (connect, and read per read);
failures are httpx's exceptions, their causes chained (``errors.classify_network_error``
reads TLS and DNS reasons from them). A proxy's client keeps httpx's own transport.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

import httpx

#: idle connections kept over all origins (the longest idle is closed first)
IDLE_CONNECTIONS = 256
#: how long an idle connection is kept (httpx's default; many servers close at 5 s too)
IDLE_SECONDS = 5.0
#: a response's head (status line and headers), or a chunk's size line, at most (h11's bound
#: as httpcore sets it)
HEAD_LIMIT = 100 * 1024
#: informational (1xx) heads skipped before the answer, at most
MAX_INFORMATIONAL = 16
_READ = 64 * 1024

_STATUS = re.compile(rb"HTTP/(1\.[01]) ([0-9]{3})(?: ([^\x00\r\n]*))?")
_NAME = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(rb"[^\x00\r\n]*")
_CHUNK = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n")
_UNSAFE = re.compile(rb"[\x00\r\n]")

_Key = tuple[bytes, bytes, int]  # scheme, host, port


class _Conn:
    __slots__ = ("expires", "key", "reader", "writer")

    def __init__(self, key: _Key, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.key = key
        self.reader = reader
        self.writer = writer
        self.expires = 0.0

    def reusable(self, now: float) -> bool:
        """Not expired, and the server neither hung up nor sent anything unasked."""
        r = self.reader
        return (
            now < self.expires
            and not self.writer.transport.is_closing()
            and not r.at_eof()
            and r.exception() is None
            and not r._buffer  # bytes nobody asked for: the connection is out of step
        )

    def close(self) -> None:
        self.writer.close()


class Transport(httpx.AsyncBaseTransport):
    """An httpx transport speaking HTTP/1.1 itself, its idle connections kept per origin."""

    def __init__(
        self,
        *,
        verify: bool = True,
        max_idle: int = IDLE_CONNECTIONS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._ssl = httpx.create_ssl_context(verify=verify, trust_env=False)
        self._ssl.set_alpn_protocols(["http/1.1"])
        self._max_idle = max_idle
        self._idle_seconds = idle_seconds
        self._idle: dict[_Key, list[_Conn]] = {}
        self._order: OrderedDict[_Conn, None] = OrderedDict()  # the longest idle first
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None  # the next sweep of expired ones
        self.connects = 0  # connections opened (bench/http_path.py and the tests count them)

    @property
    def idle(self) -> int:
        """Idle connections kept now."""
        return len(self._order)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.raw_scheme
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(f"不支持的协议：{url.scheme}")
        key = (scheme, url.raw_host, url.port or (443 if scheme == b"https" else 80))
        timeouts = request.extensions.get("timeout", {})
        head = _request_head(request)
        body = await request.aread()
        conn = self._take(key) or await self._connect(key, request, timeouts.get("connect"))
        try:
            conn.writer.write(head + body if body else head)
            if conn.writer.transport.get_write_buffer_size() > _READ:
                await conn.writer.drain()
            stream = await _read_head(conn, request.method, timeouts.get("read"))
        except BaseException:
            conn.close()
            raise
        stream.pool = self
        stream.timeout = timeouts.get("read")
        return httpx.Response(
            stream.status,
            headers=stream.headers,
            stream=stream,
            extensions={"http_version": stream.version, "reason_phrase": stream.reason},
        )

    def _take(self, key: _Key) -> _Conn | None:
        """The newest idle connection to the origin still fit for a request, if any."""
        kept = self._idle.get(key)
        now = time.monotonic()
        while kept:
            conn = kept.pop()
            del self._order[conn]
            if not kept:
                del self._idle[key]
            if conn.reusable(now):
                return conn
            conn.close()
        return None

    async def _connect(self, key: _Key, request: httpx.Request, timeout: float | None) -> _Conn:
        scheme, raw_host, port = key
        host = raw_host.decode("ascii")
        tls = None
        sni = None
        if scheme == b"https":
            tls = self._ssl
            sni = request.extensions.get("sni_hostname") or host
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=sni, limit=HEAD_LIMIT
                )
        except TimeoutError as e:
            raise httpx.ConnectTimeout(f"连接超时：{host}") from e
        except OSError as e:  # refused, unreachable, DNS, TLS (ssl.SSLError is an OSError)
            raise httpx.ConnectError(str(e) or type(e).__name__) from e
        self.connects += 1
        return _Conn(key, reader, writer)

    def _give_back(self, conn: _Conn) -> None:
        """Keep ``conn`` for its origin; close what is over the bounds or expired."""
        if self._closed:
            conn.close()
            return
        now = time.monotonic()
        conn.expires = now + self._idle_seconds
        self._idle.setdefault(conn.key, []).append(conn)
        self._order[conn] = None
        self._sweep(now)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._idle_seconds, self._tick)

    def _tick(self) -> None:
        """Close what expired while no request came (the server would keep its half open)."""
        self._timer = None
        self._sweep(time.monotonic())
        if self._order and not self._closed:
            wait = max(0.0, next(iter(self._order)).expires - time.monotonic())
            self._timer = asyncio.get_running_loop().call_later(wait, self._tick)

    def _sweep(self, now: float) -> None:
        """Close the longest idle connections while over the bound or expired."""
        order = self._order
        while order:
            oldest = next(iter(order))
            if len(order) <= self._max_idle and oldest.expires > now:
                break
            del order[oldest]
            kept = self._idle[oldest.key]
            kept.remove(oldest)
            if not kept:
                del self._idle[oldest.key]
            oldest.close()

    async def aclose(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        idle, self._order, self._idle = self._order, OrderedDict(), {}
        for conn in idle:
            conn.close()


def _request_head(request: httpx.Request) -> bytes:
    """The request line and headers (httpx has put Host and Content-Length among them)."""
    lines = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), request.url.raw_path)]
    for name, value in request.headers.raw:
        if _UNSAFE.search(name) or _UNSAFE.search(value):
            raise httpx.LocalProtocolError("Illegal header value")  # no header injection
        lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"\r\n")
    return b"".join(lines)


def _failure(e: BaseException) -> Exception:
    """A read's failure as httpx's exception (h11's words where h11 would have failed)."""
    if isinstance(e, TimeoutError):
        return httpx.ReadTimeout("读取超时")
    if isinstance(e, asyncio.LimitOverrunError):
        return httpx.RemoteProtocolError("Receive buffer too long")
    return httpx.ReadError(str(e) or type(e).__name__)  # reset, TLS alert


_MAPPED = (OSError, asyncio.LimitOverrunError)  # TimeoutError is an OSError


async def _read_head(conn: _Conn, method: str, timeout: float | None) -> _Body:
    """The answer's head (1xx heads skipped), as the body stream that follows it. Lines may
    end in a bare LF, as h11 allows; the whole head is read within one read timeout."""
    reader = conn.reader
    try:
        async with asyncio.timeout(timeout):
            for _ in range(MAX_INFORMATIONAL):
                lines = await _head_lines(reader)
                status = _STATUS.fullmatch(lines[0])
                if status is None:
                    raise httpx.RemoteProtocolError("illegal status line: " + repr(lines[0][:80]))
                code = int(status[2])
                if code < 100:
                    raise httpx.RemoteProtocolError("illegal status code")
                if code >= 200:
                    head = _headers(lines[1:])
                    return _Body(conn, method, status[1], code, status[3] or b"", head)
    except _MAPPED as e:
        raise _failure(e) from e
    raise httpx.RemoteProtocolError("too many informational responses")


async def _head_lines(reader: asyncio.StreamReader) -> list[bytes]:
    """A head's lines up to the blank one, without their line ends, within HEAD_LIMIT."""
    lines: list[bytes] = []
    size = 0
    try:
        while True:
            line = await reader.readuntil(b"\n")
            size += len(line)
            if size > HEAD_LIMIT:
                raise httpx.RemoteProtocolError("Receive buffer too long")
            line = line[:-2] if line[-2:-1] == b"\r" else line[:-1]
            if not line:
                if lines:
                    return lines
                continue  # blank lines before a status line are skipped, as h11 does
            lines.append(line)
    except asyncio.IncompleteReadError as e:  # before the head's end, whatever came: as httpcore
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from e


async def _read(coro: object, timeout: float | None) -> bytes:
    """One read of a body within the read timeout, its failures as httpx's."""
    try:
        async with asyncio.timeout(timeout):
            return await coro  # type: ignore[misc, no-any-return]
    except _MAPPED as e:
        raise _failure(e) from e


def _headers(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):  # obsolete line folding, unfolded as h11 does
            if not out:
                raise httpx.RemoteProtocolError("illegal header line")
            name, value = out[-1]
            out[-1] = (name, value + b" " + line.strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _NAME.fullmatch(name) or not _VALUE.fullmatch(value):
            raise httpx.RemoteProtocolError("illegal header line")
        out.append((name, value.strip(b" \t")))
    return out


class _Body(httpx.AsyncByteStream):
    """A response's body as framed by its head; hands its connection back once read."""

    def __init__(
        self,
        conn: _Conn,
        method: str,
        version: bytes,
        status: int,
        reason: bytes,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        self.conn: _Conn | None = conn
        self.pool: Transport | None = None
        self.version = b"HTTP/" + version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.timeout: float | None = None
        self.done = False
        lengths: set[bytes] = set()
        codings: list[bytes] = []
        keep = version == b"1.1"
        for name, value in headers:
            low = name.lower()
            if low == b"content-length":
                lengths.update(v.strip() for v in value.split(b","))
            elif low == b"transfer-encoding":
                codings += [v.strip().lower() for v in value.split(b",") if v.strip()]
            elif low == b"connection" and b"close" in value.lower():
                keep = False
        self.keep = keep
        self.length = -1  # -1: to the end of the connection (no reuse)
        self.chunked = False
        if status in (204, 304) or method == "HEAD":
            self.length = 0
            self.done = True  # nothing to read: the connection is ready for the next
        elif codings:
            if codings != [b"chunked"]:
                raise httpx.RemoteProtocolError("Only Transfer-Encoding: chunked is supported")
            self.chunked = True
        elif lengths:
            if len(lengths) > 1 or not all(v.isdigit() for v in lengths):
                raise httpx.RemoteProtocolError("bad Content-Length")
            self.length = int(lengths.pop())
        if self.length < 0 and not self.chunked:
            self.keep = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert self.conn is not None, "a body is read once"
        reader = self.conn.reader
        timeout = self.timeout
        if self.chunked:
            async for data in self._chunks(reader, timeout):
                yield data
        elif self.length >= 0:
            left = self.length
            while left:
                data = await _read(reader.read(min(left, _READ)), timeout)
                if not data:
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body "
                        f"(received {self.length - left} bytes, expected {self.length})"
                    )
                left -= len(data)
                yield data
        else:
            while data := await _read(reader.read(_READ), timeout):
                yield data
        self.done = True

    async def _chunks(
        self, reader: asyncio.StreamReader, timeout: float | None
    ) -> AsyncIterator[bytes]:
        incomplete = "peer closed connection without sending complete message body "
        try:
            while True:
                line = await _read(reader.readuntil(b"\r\n"), timeout)
                size = _CHUNK.fullmatch(line)
                if size is None:
                    raise httpx.RemoteProtocolError("illegal chunk header")
                left = int(size[1], 16)
                if not left:
                    break
                while left:
                    data = await _read(reader.read(min(left, _READ)), timeout)
                    if not data:
                        raise httpx.RemoteProtocolError(incomplete + "(incomplete chunked read)")
                    left -= len(data)
                    yield data
                if await _read(reader.readexactly(2), timeout) != b"\r\n":
                    raise httpx.RemoteProtocolError("illegal chunk end")
            trailer = 0  # trailers are read and dropped, within the head's bound
            while (line := await _read(reader.readuntil(b"\n"), timeout)).strip(b"\r\n"):
                trailer += len(line)
                if trailer > HEAD_LIMIT:
                    raise httpx.RemoteProtocolError("Receive buffer too long")
        except asyncio.IncompleteReadError as e:
            raise httpx.RemoteProtocolError(incomplete + "(incomplete chunked read)") from e

    async def aclose(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        if self.done and self.keep and self.pool is not None:
            self.pool._give_back(conn)
        else:
            conn.close()  # an answer not read to its end leaves the connection out of step
