"""The Fetcher's own HTTP/1.1 transport (probes.fetch.transport) judges every answer as
httpx's own transport (httpcore, h11) does: the same status, headers, body and truncation,
or the same kind of failure — on well-formed answers and on hostile ones, written byte by
byte by a real server.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable

import httpx
import pytest

from probes.fetch.http import Fetcher, FetchError, HttpSettings

FAST = HttpSettings(
    timeout_seconds=1.0, connect_timeout_seconds=1.0, retries=0, max_body_bytes=50_000
)
Writer = asyncio.StreamWriter


def _ok(head: bytes, body: bytes = b"") -> Callable[[Writer], Awaitable[None]]:
    async def send(w: Writer) -> None:
        w.write(head + body)
        await w.drain()

    return send


def _close_after(data: bytes) -> Callable[[Writer], Awaitable[None]]:
    async def send(w: Writer) -> None:
        w.write(data)
        await w.drain()
        w.close()

    return send


def _trickle(data: bytes, pause: float) -> Callable[[Writer], Awaitable[None]]:
    async def send(w: Writer) -> None:
        for i in range(len(data)):
            w.write(data[i : i + 1])
            await w.drain()
            await asyncio.sleep(pause)

    return send


def _endless_headers(w: Writer) -> Awaitable[None]:
    async def send() -> None:
        w.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(20_000):
            w.write(b"X-Pad-%d: %s\r\n" % (i, b"a" * 20))
            if i % 200 == 0:
                await w.drain()
        await w.drain()

    return send()


def _chunk_bomb(w: Writer) -> Awaitable[None]:
    async def send() -> None:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFF\r\n")
        for _ in range(100):
            w.write(b"a" * 10_000)
            await w.drain()

    return send()


PAGE = b"<p>" + "政务公开".encode() * 500 + b"</p>"
GZ = gzip.compress(PAGE)
CASES: dict[str, Callable[[Writer], Awaitable[None]]] = {
    "length": _ok(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(PAGE), PAGE),
    "chunked": _ok(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5;ext=1\r\n<p>ok\r\n3\r\n</p\r\n1\r\n>\r\n0\r\nX-Trailer: t\r\n\r\n",
    ),
    "gzip_chunked": _ok(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(GZ), GZ),
    ),
    "to_close": _close_after(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + PAGE),
    "no_reason": _ok(b"HTTP/1.1 404\r\nContent-Length: 2\r\n\r\nno"),
    "continue": _ok(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    "bare_lf": _ok(b"HTTP/1.1 200 OK\nContent-Length: 2\nX-A: b\n\nok"),
    "folded": _ok(b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok"),
    "no_content": _ok(b"HTTP/1.1 204 No Content\r\n\r\n"),
    "same_lengths": _ok(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"),
    "garbage_status": _close_after(b"HTXP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    "binary_status": _close_after(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
    "no_colon": _close_after(b"HTTP/1.1 200 OK\r\nBroken header\r\nContent-Length: 2\r\n\r\nok"),
    "two_lengths": _close_after(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"
    ),
    "bad_length": _close_after(b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"),
    "other_coding": _close_after(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok"),
    "bad_chunk": _close_after(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok"),
    "hung_up": _close_after(b""),
    "hung_up_in_head": _close_after(b"HTTP/1.1 200 OK\r\nContent-Len"),
    "short_body": _close_after(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"),
    "short_chunks": _close_after(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\npartial"
    ),
    "endless_headers": _endless_headers,
    "chunk_bomb": _chunk_bomb,
    "slowloris_head": _trickle(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100, 0.05),
    "slow_body": _trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + b"a" * 50, 0.05),
}


async def _outcome(case: str, transport: httpx.AsyncBaseTransport | None) -> object:
    async def serve(reader: asyncio.StreamReader, writer: Writer) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            await CASES[case](writer)
            await asyncio.sleep(3)  # keep the connection open unless the case closed it
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    async with server, Fetcher(FAST, transport=transport) as f:
        try:
            r = await f.get(url)
        except FetchError as e:
            return ("error", e.kind)
        finally:
            server.close()
    headers = {k: v for k, v in r.headers.items() if k.startswith("x-") or k == "content-type"}
    return (r.status, headers, r.content, r.truncated)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_fetchers_transport_judges_as_httpx_own(case: str) -> None:
    ours = asyncio.run(_outcome(case, None))
    theirs = asyncio.run(_outcome(case, httpx.AsyncHTTPTransport(trust_env=False)))
    assert ours == theirs


def test_hostile_answers_are_refused_in_the_kind_the_officer_reads() -> None:
    """What the cases above come to (so the equality is not two equal mistakes)."""
    kinds = {case: asyncio.run(_outcome(case, None)) for case in (
        "garbage_status", "endless_headers", "chunk_bomb", "slowloris_head", "hung_up",
        "bad_chunk", "other_coding",
    )}  # fmt: skip
    assert kinds == {
        "garbage_status": ("error", "protocol"),
        "endless_headers": ("error", "protocol"),
        "chunk_bomb": ("error", "too_large"),
        "slowloris_head": ("error", "timeout"),
        "hung_up": ("error", "connect"),
        "bad_chunk": ("error", "protocol"),
        "other_coding": ("error", "protocol"),
    }
    status, _, content, truncated = asyncio.run(_outcome("short_body", None))  # type: ignore[misc]
    assert (status, content, truncated) == (200, b"partial", True)
