"""Keep-alive across many hosts (probes.fetch.transport), counted by real servers.

A patrol asks many sites in turn; a host asked again soon must get its kept connection,
whatever the number of other hosts asked in between, while the requests in flight stay
bounded by the Fetcher's limits and the idle ones by the pool's bounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from localserver import self_signed_cert

from probes.fetch.http import Fetcher, FetchError, HttpSettings
from probes.fetch.transport import Transport

FAST = HttpSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, retries=0)


class Hosts:
    """``n`` keep-alive servers (one origin each) that count connections and requests."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.closed = 0
        self.ports: list[int] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                await asyncio.sleep(0.001)
                self.in_flight -= 1
                body = b"<p>ok</p>"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            self.closed += 1
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def hosts(n: int) -> AsyncIterator[Hosts]:
    h = Hosts()
    servers = [await asyncio.start_server(h.serve, "127.0.0.1", 0) for _ in range(n)]
    h.ports = [s.sockets[0].getsockname()[1] for s in servers]
    try:
        yield h
    finally:
        for s in servers:
            s.close()


def settings(**kw: object) -> HttpSettings:
    return HttpSettings(**{**FAST.__dict__, **kw})  # type: ignore[arg-type]


def test_a_host_asked_again_reuses_its_connection_among_many_hosts() -> None:
    """50 hosts through 8 connections in flight: each host is connected to once and its
    connection carries all its later requests (before, with at most 8 connections kept,
    nearly every request connected anew)."""

    async def main() -> tuple[int, int, int, int | None]:
        async with hosts(50) as h, Fetcher(settings(max_connections=8, per_host=1)) as f:
            urls = [f"http://127.0.0.1:{p}/page" for p in h.ports]
            for _ in range(4):
                got = await asyncio.gather(*(f.get(u) for u in urls))
                assert [r.status for r in got] == [200] * len(urls)
            return h.connections, h.requests, h.max_in_flight, f.connects

    connections, requests, in_flight, counted = asyncio.run(main())
    assert requests == 200
    assert connections == 50 == counted
    assert in_flight <= 8  # the Fetcher's bound, not the pool's


def test_idle_connections_are_bounded_and_the_longest_idle_is_closed_first() -> None:
    async def main() -> tuple[int, int, int]:
        async with hosts(6) as h:
            transport_pool: Transport | None = None
            async with Fetcher(settings(max_connections=4, per_host=1)) as f:
                transport_pool = f._pool
                assert transport_pool is not None
                transport_pool._max_idle = 3
                urls = [f"http://127.0.0.1:{p}/" for p in h.ports]
                for u in urls:  # one at a time: hosts 0..5, the last three kept
                    await f.get(u)
                assert transport_pool.idle == 3
                await asyncio.sleep(0.05)  # the closes reach the servers
                closed = h.closed
                for u in urls[3:]:  # still kept: no new connection
                    await f.get(u)
                before = h.connections
                await f.get(urls[0])  # closed: connected anew
            return closed, before, h.connections

    closed, before, after = asyncio.run(main())
    assert closed == 3
    assert before == 6 and after == 7


def test_an_idle_connection_past_its_expiry_is_closed_and_not_reused() -> None:
    """Closed when it expires even if no request comes (the server's side would stay
    half open), and the next request connects anew."""

    async def main() -> tuple[int, int, int, int]:
        async with hosts(1) as h, Fetcher(settings()) as f:
            assert f._pool is not None
            f._pool._idle_seconds = 0.05
            url = f"http://127.0.0.1:{h.ports[0]}/"
            await f.get(url)
            await f.get(url)
            kept = h.connections
            await asyncio.sleep(0.2)
            closed = h.closed
            await f.get(url)
            return kept, closed, h.connections, f._pool.idle

    assert asyncio.run(main()) == (1, 1, 2, 1)


def test_a_body_not_read_to_its_end_does_not_leave_its_connection_for_the_next() -> None:
    """A page over the size cap stops the read midway: that connection still holds the
    rest of the body, so it is closed, and the next request to the host connects anew."""

    async def main() -> tuple[str, int, int]:
        big = b"x" * 200_000

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(1)
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    body = big if b"/big" in head else b"ok"
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
                    writer.write(body)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        seen: list[int] = []
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        kind = ""
        async with server, Fetcher(settings(max_body_bytes=10_000)) as f:
            try:
                await f.get(f"http://127.0.0.1:{port}/big")
            except FetchError as e:
                kind = e.kind
            small = await f.get(f"http://127.0.0.1:{port}/small")
        return kind, small.status, len(seen)

    assert asyncio.run(main()) == ("too_large", 200, 2)


def test_a_tls_connection_is_kept_too(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))

    async def main() -> tuple[list[int], int]:
        h = Hosts()
        server = await asyncio.start_server(h.serve, "127.0.0.1", 0, ssl=ctx)
        url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        async with server, Fetcher(settings(verify_tls=False)) as f:
            got = [(await f.get(url)).status for _ in range(3)]
        return got, h.connections

    assert asyncio.run(main()) == ([200, 200, 200], 1)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",  # said so
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",  # HTTP/1.0: no keep-alive
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",  # more than announced
    ],
    ids=["connection-close", "http-1.0", "out-of-step"],
)
def test_a_connection_unfit_for_the_next_request_is_not_reused(answer: bytes) -> None:
    """The server keeps each socket open; the client must still not send a second request
    on one the answer said is done, or that holds bytes no request asked for (they would
    be read as the next answer)."""

    async def main() -> tuple[list[bytes], int]:
        seen: list[int] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(1)
            try:
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    writer.write(answer)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        async with server, Fetcher(settings()) as f:
            bodies = []
            for _ in range(2):
                bodies.append((await f.get(url)).content)
                await asyncio.sleep(0.05)  # the extra bytes have arrived
        return bodies, len(seen)

    assert asyncio.run(main()) == ([b"ok", b"ok"], 2)
