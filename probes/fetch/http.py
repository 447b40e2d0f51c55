"""The probes' HTTP client: one shared pool, politeness limits, evidence of every hop.

Why not plain ``httpx.get``: a patrol of thousands of accounts must not hammer one
government server (per-host limit), must keep the redirect chain hop by hop as evidence
(DOMAIN §4), must survive hostile answers (huge or compressed-bomb bodies, loops, trickling
servers) without holding more than a bounded amount of memory, and must read GBK pages that
do not say so. Errors that stop a fetch become :class:`FetchError` with a Chinese message a
duty officer can act on; HTTP error statuses are answers, returned as :class:`Response`.

The client is here; what it leans on has modules of its own: :mod:`probes.fetch.errors`
(failures and their words), :mod:`probes.fetch.cookies` (a jar per platform),
:mod:`probes.fetch.inflate` (bounded decompression), :mod:`probes.fetch.text` (charsets).
Their public names are importable from here too.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import anyio
import httpx
import structlog

from probes.fetch.cookies import NoJar, PlatformJar
from probes.fetch.errors import (
    FetchError,
    FetchErrorKind,
    cert_reason,
    classify_network_error,
    short,
)
from probes.fetch.inflate import BoundedDecoder
from probes.fetch.text import decode_text, is_textual, normalize_charset
from probes.fetch.transport import Transport
from probes.model import Redirect

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_RETRY_AFTER_SECONDS",
    "REDIRECT_STATUSES",
    "RETRY_STATUSES",
    "FetchError",
    "FetchErrorKind",
    "Fetcher",
    "HttpSettings",
    "PlatformJar",
    "Response",
    "cert_reason",
    "decode_text",
    "normalize_charset",
    "parse_retry_after",
]

log = structlog.get_logger("xuncha.fetch")

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 xuncha/0.1"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: A Retry-After longer than this is not waited for: the answer (429/503) is returned.
MAX_RETRY_AFTER_SECONDS = 30.0


@dataclass
class HttpSettings:
    timeout_seconds: float = 20.0  # whole request, headers and body, per attempt
    connect_timeout_seconds: float = 10.0
    max_body_bytes: int = 5_000_000  # after decompression
    retries: int = 2  # extra attempts on transient failures only
    backoff_seconds: float = 0.5  # doubled per attempt, with jitter
    max_connections: int = 16
    per_host: int = 2  # politeness: concurrent requests to one host
    max_redirects: int = 10
    user_agent: str = DEFAULT_USER_AGENT
    proxy: str | None = None  # from config only; environment proxies are ignored
    verify_tls: bool = True


@dataclass
class Response:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]  # lower-case keys
    content: bytes  # decompressed body
    redirects: list[Redirect] = field(default_factory=list)  # hop by hop, final answer excluded
    elapsed_ms: int = 0
    truncated: bool = False  # the server closed before the announced end of the body
    _decoded: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def _decode(self) -> tuple[str, str]:
        # decoded on first use: a page found unchanged by its hash is never decoded
        if self._decoded is None:
            media = self.headers.get("content-type", "")
            self._decoded = (
                decode_text(self.content, media) if self.content and is_textual(media) else ("", "")
            )
        return self._decoded

    @property
    def text(self) -> str:
        """The decoded body ("" for binary media types)."""
        return self._decode()[0]

    @property
    def encoding(self) -> str:
        """The codec ``text`` was decoded with ("" when not decoded)."""
        return self._decode()[1]


@dataclass
class _Req:
    method: str
    url: str
    headers: dict[str, str] | None
    data: dict[str, str] | None
    jar: PlatformJar
    idempotent: bool


@dataclass
class _Raw:
    status: int
    headers: dict[str, str]
    content: bytes
    truncated: bool


class Fetcher:
    """Async context manager owning the ``httpx`` client shared by all probes.

    Redirects are followed here, not by httpx, so every hop is recorded and loops are
    caught. Limits: ``max_connections`` requests at once overall and ``per_host`` per host,
    whichever platform asks. Cookies persist for the life of the fetcher, one
    :class:`PlatformJar` per platform (``platform=`` on :meth:`get`/:meth:`post`): the
    platforms hand out visitor cookies, and one platform's must never reach another's hosts.
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._pool: Transport | None = None  # None with a proxy or a test's transport
        self._global = asyncio.Semaphore(self.settings.max_connections)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._jars: dict[str, PlatformJar] = {}

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        # connections are kept per origin by probes.fetch.transport, not bounded by it:
        # the semaphores below bound the requests in flight
        transport = self._transport
        if transport is None and not s.proxy:
            transport = self._pool = Transport(verify=s.verify_tls)
        self._client = httpx.AsyncClient(
            headers={
                "User-Agent": s.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.6",
                # only what BoundedDecoder can inflate within the size cap
                "Accept-Encoding": "gzip, deflate",
            },
            cookies=NoJar(),
            timeout=httpx.Timeout(s.timeout_seconds, connect=s.connect_timeout_seconds),
            limits=httpx.Limits(
                max_connections=s.max_connections, max_keepalive_connections=s.max_connections
            ),
            follow_redirects=False,
            proxy=s.proxy,
            verify=s.verify_tls,
            trust_env=False,
            transport=transport,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        client, self._client, self._pool = self._client, None, None
        if client is not None:
            await client.aclose()

    @property
    def connects(self) -> int | None:
        """Connections opened so far (None through a proxy or a test's transport)."""
        return None if self._pool is None else self._pool.connects

    def adopt_cookies(self, other: Fetcher) -> None:
        """Take ``other``'s cookie jars (a fetcher replacing it after a reload): visitor
        cookies a platform handed out stay in use instead of being asked for again."""
        self._jars = other._jars

    def jar(self, platform: str = "") -> PlatformJar:
        """The cookie jar of ``platform`` (created empty on first use)."""
        jar = self._jars.get(platform)
        if jar is None:
            jar = self._jars[platform] = PlatformJar(platform)
        return jar

    def clear_cookies(self, platform: str = "") -> None:
        """Forget ``platform``'s cookies (after a "blocked" answer); others keep theirs."""
        self.jar(platform).clear()

    async def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        max_body_bytes: int | None = None,
        platform: str = "",
    ) -> Response:
        """GET ``url``, following redirects; raise :class:`FetchError` if nothing came back.

        ``max_body_bytes`` overrides the configured cap for this call; cookies come from and
        go to ``platform``'s jar.
        """
        req = _Req("GET", url, headers, None, self.jar(platform), idempotent=True)
        return await self._request(req, max_body_bytes)

    async def post(
        self,
        url: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        max_body_bytes: int | None = None,
        platform: str = "",
        idempotent: bool = False,
    ) -> Response:
        """POST ``data`` as a form, with the limits, timeouts, size cap and jar of :meth:`get`.

        A POST may change something on the server, so after a read timeout or a dropped
        connection it is sent again only if the caller says it is ``idempotent``; a failed
        connection (nothing was sent) and 429/503 (not processed) are retried either way.
        A 301/302/303 answer is followed with a GET, as browsers do; 307/308 repeat the POST.
        """
        req = _Req("POST", url, headers, data or {}, self.jar(platform), idempotent)
        return await self._request(req, max_body_bytes)

    async def _request(self, req: _Req, max_body_bytes: int | None) -> Response:
        cap = self.settings.max_body_bytes if max_body_bytes is None else max_body_bytes
        started = time.monotonic()
        url = req.url
        redirects: list[Redirect] = []
        seen: dict[tuple[str, str], tuple[tuple[str, str, str], ...]] = {}
        while True:
            _check_url(req.url)
            seen[(req.method, req.url)] = req.jar.state()
            try:
                raw = await self._fetch_with_retries(req, cap)
            except FetchError as e:
                e.redirects = list(redirects)
                raise
            location = raw.headers.get("location", "").strip()
            if raw.status not in REDIRECT_STATUSES or not location:
                break
            redirects.append(Redirect(url=req.url, status=raw.status))
            nxt = urljoin(req.url, location)
            if req.method == "POST" and raw.status in (301, 302, 303):
                req = _Req("GET", nxt, req.headers, None, req.jar, idempotent=True)
            else:
                req = _Req(req.method, nxt, req.headers, req.data, req.jar, req.idempotent)
            # revisiting a URL is a loop unless a cookie was set meanwhile (visitor-cookie
            # bounces: A -> B sets cookie -> A succeeds)
            if seen.get((req.method, nxt)) == req.jar.state():
                raise FetchError(
                    "redirect_loop",
                    f"重定向循环：{short(nxt)} 在第 {len(redirects)} 跳重复出现",
                    url,
                    redirects,
                )
            if len(redirects) > self.settings.max_redirects:
                message = f"重定向超过 {self.settings.max_redirects} 次"
                raise FetchError("too_many_redirects", message, url, redirects)
        return Response(
            url=url,
            final_url=req.url,
            status=raw.status,
            headers=raw.headers,
            content=raw.content,
            redirects=redirects,
            elapsed_ms=int((time.monotonic() - started) * 1000),
            truncated=raw.truncated,
        )

    # -- internals ------------------------------------------------------------------------

    def _host_limit(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        sem = self._hosts.get(host)
        if sem is None:
            sem = self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return sem

    async def _fetch_with_retries(self, req: _Req, cap: int) -> _Raw:
        """One hop. Retries transient failures only: a 404 or 403 is an answer, not a fault."""
        attempt = 0
        while True:
            try:
                raw = await self._fetch_once(req, cap)
            except FetchError as e:
                if (
                    e.kind not in ("timeout", "connect")
                    or attempt >= self.settings.retries
                    or (e.sent and not req.idempotent)
                ):
                    raise
                attempt += 1
                log.info("http_retry", url=req.url, attempt=attempt, reason=e.kind)
                await asyncio.sleep(self._backoff(attempt))
                continue
            if raw.status not in RETRY_STATUSES or attempt >= self.settings.retries:
                return raw
            if not req.idempotent and raw.status not in (429, 503):
                return raw  # a gateway error may come after the server acted on the POST
            wait = self._retry_wait(raw, attempt + 1)
            if wait is None:
                return raw
            attempt += 1
            log.info("http_retry", url=req.url, attempt=attempt, reason=raw.status, wait=wait)
            await asyncio.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return self.settings.backoff_seconds * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)

    def _retry_wait(self, raw: _Raw, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when Retry-After asks for too long."""
        after = raw.headers.get("retry-after")
        if after is None:
            return self._backoff(attempt)
        seconds = parse_retry_after(after)
        if seconds is None:
            return self._backoff(attempt)
        return seconds if seconds <= MAX_RETRY_AFTER_SECONDS else None

    async def _fetch_once(self, req: _Req, cap: int) -> _Raw:
        url = req.url
        host = urlsplit(url).hostname or url
        s = self.settings
        async with self._global, self._host_limit(url):
            try:
                # httpx's timeouts are per read: a server trickling a byte a second would
                # never trip them, so the whole attempt has a deadline too
                if self._pool is None:  # httpx's own transport: anyio's scopes shield it
                    with anyio.fail_after(s.timeout_seconds):
                        return await self._stream(req, cap)
                async with asyncio.timeout(s.timeout_seconds):  # cheaper than anyio's scope
                    return await self._stream(req, cap)
            except TimeoutError:
                raise FetchError(
                    "timeout", f"{host} 响应超时（{_num(s.timeout_seconds)} 秒）", url
                ) from None
            except httpx.ConnectTimeout:
                raise FetchError(
                    "timeout",
                    f"连接 {host} 超时（{_num(s.connect_timeout_seconds)} 秒）",
                    url,
                    sent=False,
                ) from None
            except httpx.TimeoutException:
                raise FetchError(
                    "timeout", f"{host} 响应超时（{_num(s.timeout_seconds)} 秒）", url
                ) from None
            except httpx.ProxyError as e:
                raise FetchError(
                    "connect", f"代理服务器连接失败：{short(str(e))}", url, sent=False
                ) from e
            except (httpx.ConnectError, httpx.ReadError, httpx.WriteError) as e:
                err = classify_network_error(e, host, url)
                err.sent = not isinstance(e, httpx.ConnectError)
                raise err from e
            except (httpx.ProtocolError, httpx.DecodingError) as e:
                raise FetchError(
                    "protocol", f"{host} 的响应不符合 HTTP 协议（{short(str(e))}）", url
                ) from e
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
                raise FetchError("protocol", f"网址无效：{short(url)}", url) from e
            except httpx.TransportError as e:
                raise FetchError("connect", f"与 {host} 的连接出错：{short(str(e))}", url) from e

    async def _stream(self, req: _Req, cap: int) -> _Raw:
        client = self._client
        if client is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        url = req.url
        request = client.build_request(req.method, url, headers=req.headers, data=req.data)
        if len(req.jar):  # the cookie machinery is slow: skip it while the jar is empty
            req.jar.cookies.set_cookie_header(request)
        try:
            if self._pool is not None:
                # straight to the transport: the client's send would only add its own
                # (empty) cookie jar's parsing of the answer, auth and hooks we do not use
                response = await self._pool.handle_async_request(request)
                response.request = request
            else:
                response = await client.send(request, stream=True)
        except httpx.RemoteProtocolError as e:
            if "disconnected" not in str(e).lower():
                raise
            # the server hung up before answering: transient, like a refused connection
            host = urlsplit(url).hostname or url
            raise FetchError("connect", f"{host} 断开了连接，未返回任何内容", url) from e
        try:
            if "set-cookie" in response.headers:
                req.jar.cookies.extract_cookies(response)
            hdrs = {k.lower(): v for k, v in response.headers.items()}
            if response.status_code in REDIRECT_STATUSES and hdrs.get("location"):
                return _Raw(response.status_code, hdrs, b"", False)  # body of a hop: unread
            coding = hdrs.get("content-encoding", "identity").strip().lower()
            declared = hdrs.get("content-length", "")
            if coding == "identity" and declared.isdigit() and int(declared) > cap:
                raise FetchError("too_large", f"页面超过 {_size(cap)} 上限", url)
            decoder = BoundedDecoder(coding, url)
            body = bytearray()
            truncated = False
            try:
                async for chunk in response.aiter_raw():
                    body += decoder.feed(chunk, cap - len(body))
                    if len(body) > cap:
                        raise FetchError("too_large", f"页面超过 {_size(cap)} 上限", url)
                body += decoder.flush()
                if len(body) > cap:
                    raise FetchError("too_large", f"页面超过 {_size(cap)} 上限", url)
            except httpx.RemoteProtocolError:
                if not body:
                    raise
                truncated = True  # peer closed early: keep what arrived as evidence
            return _Raw(response.status_code, hdrs, bytes(body), truncated)
        finally:
            await response.aclose()


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("protocol", f"不是网页地址，无法访问：{short(url)}", url)


def parse_retry_after(value: str) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _num(x: float) -> str:
    return f"{x:g}"


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} KB"
