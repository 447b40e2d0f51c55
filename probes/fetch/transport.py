"""The connection pool under the probes' HTTP client: httpcore's, with each connection's
socket looked up once.

Why: before every request, and after every response is closed, httpcore asks each idle
connection of the pool whether its socket became readable (the server hung up). Through
anyio every such question rebuilt the stream's whole table of typed attributes (local and
peer addresses, a ``getpeername`` call) to find the socket: about a tenth of the patrol's
CPU on pages that had not changed (py-spy, ``xuncha run`` on ``bench/peer.py``'s pages).
Here the socket is found when the connection is made (or wrapped in TLS) and kept; the
rest — connecting, TLS, timeouts, error mapping — is httpcore's and anyio's own.
"""

from __future__ import annotations

import ssl
from typing import Any

import anyio
import httpcore
import httpx
from httpcore._backends.anyio import AnyIOBackend, AnyIOStream
from httpcore._utils import is_socket_readable


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


class _Backend(AnyIOBackend):
    async def connect_tcp(self, *args: Any, **kw: Any) -> _Stream:
        stream = await super().connect_tcp(*args, **kw)
        assert isinstance(stream, AnyIOStream)
        return _Stream(stream._stream)


def pool_transport(*, verify: bool, max_connections: int) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (its request and error mapping), its pool on :class:`_Backend`
    (a proxy's pool is httpx's own: the client is given the proxy, not this)."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
    old = transport._pool
    assert isinstance(old, httpcore.AsyncConnectionPool)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=old._ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=_Backend(),
    )
    return transport
