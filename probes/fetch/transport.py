"""The connections under the probes' HTTP client: kept alive per origin, each connection's
socket looked up once.

Why not httpcore's pool: it holds at most ``max_connections`` connections *including idle
ones*, and walks all of them (a ``poll()`` each) on every request and every response
closed. A patrol asks thousands of sites in turn; with more hosts than the pool's size,
a new host's request evicted another host's idle connection, so almost every request
connected anew (``bench/http_path.py --stage hosts``: 0.5-1 connects a request on 50
hosts), and a larger pool cost more CPU per request. :class:`OriginPool` keeps idle
connections in a list per origin (the newest taken first), at most ``IDLE_CONNECTIONS``
over all origins (the longest idle closed first) and each for ``IDLE_SECONDS``; a request
looks only at its own origin's list. How many requests are *in flight* is not its
business: the Fetcher's semaphores (``max_connections``, ``per_host``) bound that, so a
request never waits here for a connection.

What a connection does — HTTP/1.1 by h11, timeouts, hostile answers, TLS, error mapping —
is httpcore's own (``AsyncHTTP11Connection``) and anyio's. Through anyio, asking a socket
whether the server hung up rebuilt the stream's table of typed attributes (a
``getpeername`` call) each time: the socket is found once, when the connection is made.
A proxy's client keeps httpx's own transport.
"""

from __future__ import annotations

import ssl
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpcore
import httpx
from httpcore._async.http11 import AsyncHTTP11Connection
from httpcore._backends.anyio import AnyIOBackend, AnyIOStream
from httpcore._utils import is_socket_readable

#: idle connections kept over all origins (the longest idle is closed first)
IDLE_CONNECTIONS = 256
#: how long an idle connection is kept (httpx's default; many servers close at 5 s too)
IDLE_SECONDS = 5.0


class _Stream(AnyIOStream):
    """An anyio stream that knows its socket."""

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        super().__init__(stream)
        self._socket = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return is_socket_readable(self._socket)
        if info == "socket":
            return self._socket
        return super().get_extra_info(info)

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _Stream:
        tls = await super().start_tls(ssl_context, server_hostname, timeout)
        assert isinstance(tls, AnyIOStream)
        return _Stream(tls._stream)


_Key = tuple[bytes, bytes, int]  # an origin's scheme, host and port (Origin is unhashable)


def _key(origin: httpcore.Origin) -> _Key:
    return origin.scheme, origin.host, origin.port


class _Backend(AnyIOBackend):
    async def connect_tcp(self, *args: Any, **kw: Any) -> _Stream:
        stream = await super().connect_tcp(*args, **kw)
        assert isinstance(stream, AnyIOStream)
        return _Stream(stream._stream)


class OriginPool:
    """httpcore's request interface over HTTP/1.1 connections kept idle per origin."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        max_idle: int = IDLE_CONNECTIONS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        ssl_context.set_alpn_protocols(["http/1.1"])
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._idle_seconds = idle_seconds
        self._backend = _Backend()
        self._idle: dict[_Key, list[AsyncHTTP11Connection]] = {}
        # every idle connection, the longest idle first, with the time it expires
        self._order: OrderedDict[AsyncHTTP11Connection, tuple[_Key, float]] = OrderedDict()
        self._closed = False
        self.connects = 0  # connections opened (bench/http_path.py and the tests count them)

    @property
    def idle(self) -> int:
        """Idle connections kept now."""
        return len(self._order)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        conn = await self._take(_key(request.url.origin)) or await self._connect(request)
        # on failure httpcore closes the connection itself (it is not handed back)
        response = await conn.handle_async_request(request)
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_Returned(response.stream, conn, self),
            extensions=response.extensions,
        )

    async def _take(self, key: _Key) -> AsyncHTTP11Connection | None:
        """The newest idle connection to the origin the server has not closed, if any."""
        kept = self._idle.get(key)
        while kept:
            conn = kept.pop()
            del self._order[conn]
            if not kept:
                del self._idle[key]
            if conn.is_available() and not conn.has_expired():
                return conn
            await conn.aclose()
        return None

    async def _connect(self, request: httpcore.Request) -> AsyncHTTP11Connection:
        origin = request.url.origin
        timeout = request.extensions.get("timeout", {}).get("connect")
        host = origin.host.decode("ascii")
        stream = await self._backend.connect_tcp(host=host, port=origin.port, timeout=timeout)
        self.connects += 1
        try:
            if origin.scheme == b"https":
                sni = request.extensions.get("sni_hostname") or host
                stream = await stream.start_tls(self._ssl_context, sni, timeout)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await stream.aclose()
            raise
        return AsyncHTTP11Connection(origin, stream, keepalive_expiry=self._idle_seconds)

    async def _give_back(self, conn: AsyncHTTP11Connection) -> None:
        """Keep ``conn`` if its answer was read to the end; close what is over the bounds."""
        if self._closed or not conn.is_idle():
            await conn.aclose()
            return
        key = _key(conn._origin)
        now = time.monotonic()
        self._idle.setdefault(key, []).append(conn)
        self._order[conn] = (key, now + self._idle_seconds)
        order = self._order
        while order:
            oldest, (where, expires) = next(iter(order.items()))
            if len(order) <= self._max_idle and expires > now:
                break
            del order[oldest]
            kept = self._idle[where]
            kept.remove(oldest)
            if not kept:
                del self._idle[where]
            await oldest.aclose()

    async def aclose(self) -> None:
        self._closed = True
        idle, self._order = self._order, OrderedDict()
        self._idle = {}
        with anyio.CancelScope(shield=True):
            for conn in idle:
                await conn.aclose()

    async def __aenter__(self) -> OriginPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _Returned:
    """A response's body stream that hands its connection back to the pool once closed."""

    def __init__(self, stream: Any, conn: AsyncHTTP11Connection, pool: OriginPool) -> None:
        self._stream = stream
        self._conn = conn
        self._pool = pool
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        if self._done:
            return
        self._done = True
        # shielded: a request cancelled by its deadline still frees (or keeps) its socket
        with anyio.CancelScope(shield=True):
            try:
                await self._stream.aclose()
            finally:
                await self._pool._give_back(self._conn)


def pool_transport(*, verify: bool) -> tuple[httpx.AsyncHTTPTransport, OriginPool]:
    """httpx's own transport (its request and error mapping) on an :class:`OriginPool`
    (a proxy's pool is httpx's own: the client is given the proxy, not this)."""
    transport = httpx.AsyncHTTPTransport(verify=verify, trust_env=False)
    old = transport._pool
    assert isinstance(old, httpcore.AsyncConnectionPool)
    pool = OriginPool(old._ssl_context)
    transport._pool = pool  # type: ignore[assignment]
    return transport, pool
