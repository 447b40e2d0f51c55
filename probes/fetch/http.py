"""The probes' HTTP client: one shared pool, politeness limits, evidence of every hop.

Why not plain ``httpx.get``: a patrol of thousands of accounts must not hammer one
government server (per-host limit), must keep the redirect chain hop by hop as evidence
(DOMAIN §4), must survive hostile answers (huge or compressed-bomb bodies, loops, trickling
servers) without holding more than a bounded amount of memory, and must read GBK pages that
do not say so. Errors that stop a fetch become :class:`FetchError` with a Chinese message a
duty officer can act on; HTTP error statuses are answers, returned as :class:`Response`.
"""

from __future__ import annotations

import asyncio
import codecs
import http.cookiejar
import random
import re
import socket
import ssl
import time
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit

import anyio
import charset_normalizer
import httpx
import structlog

from probes.model import Redirect

log = structlog.get_logger("xuncha.fetch")

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 xuncha/0.1"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: A Retry-After longer than this is not waited for: the answer (429/503) is returned.
MAX_RETRY_AFTER_SECONDS = 30.0

FetchErrorKind = Literal[
    "timeout", "connect", "tls", "too_large", "redirect_loop", "too_many_redirects", "protocol"
]


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
    text: str  # decoded body ("" for binary media types)
    encoding: str  # codec used for ``text`` ("" when not decoded)
    redirects: list[Redirect] = field(default_factory=list)  # hop by hop, final answer excluded
    elapsed_ms: int = 0
    truncated: bool = False  # the server closed before the announced end of the body

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class FetchError(Exception):
    """A fetch that produced no answer; ``message`` is Chinese, for the duty officer."""

    def __init__(
        self,
        kind: FetchErrorKind,
        message: str,
        url: str = "",
        redirects: list[Redirect] | None = None,
        *,
        sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.kind: FetchErrorKind = kind
        self.message = message
        self.url = url
        self.redirects: list[Redirect] = redirects or []  # hops seen before it failed
        # False only when the request surely never reached the server (no connection):
        # the one case in which a non-idempotent POST may be sent again
        self.sent = sent


class PlatformJar:
    """The cookies of one platform (``""``: readers that name none).

    A platform hands out its own visitor cookies; keeping them apart means a platform's
    cookies never reach another platform's hosts, and clearing one platform's cookies after
    a "blocked" answer leaves the others' sessions alone. ``renewal`` lets one reader task
    renew the platform's cookies while the others wait and then reuse them.
    """

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.cookies = httpx.Cookies()
        self.renewal = asyncio.Lock()

    def value(self, name: str) -> str | None:
        """The value of cookie ``name`` for any domain (the first one), or None."""
        for c in self.cookies.jar:
            if c.name == name:
                return c.value
        return None

    def set(self, name: str, value: str, domain: str, path: str = "/") -> None:
        self.cookies.set(name, value, domain=domain, path=path)

    def clear(self) -> None:
        self.cookies.clear()

    def state(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(sorted((c.domain, c.name, c.value or "") for c in self.cookies.jar))

    def __len__(self) -> int:
        return len(self.cookies.jar)


class _RefuseAll(http.cookiejar.DefaultCookiePolicy):
    """The shared client's own jar keeps nothing: cookies live in :class:`PlatformJar`."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


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


POOL_SIZE = 8  # connections per httpx pool (see Fetcher.__aenter__)


def pool_split(connections: int) -> tuple[int, int]:
    """(pools, connections per pool) for ``connections`` in pools of at most ``POOL_SIZE``;
    together they hold at least ``connections``."""
    pools = -(-connections // POOL_SIZE)
    return pools, -(-connections // pools)


class Fetcher:
    """Async context manager owning the ``httpx`` clients shared by all probes.

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
        self._clients: list[httpx.AsyncClient] = []
        self._busy: list[int] = []  # requests in flight per client
        self._global = asyncio.Semaphore(self.settings.max_connections)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._jars: dict[str, PlatformJar] = {}

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        # httpcore walks its whole pool (a poll() per idle connection, and a list of them
        # per idle connection) on every request and every response closed: a bare fetch
        # through one pool of 32 needed ~1.3x the CPU per request of one through four pools
        # of 8 (bench/http_path.py, stages bare and bare_pools). So the connections are split
        # over pools of POOL_SIZE; a request takes the least busy, and the global
        # semaphore (held while a request runs) means that one always has room.
        if self._transport is not None:  # a test's transport: one client owns it
            shards, size = 1, s.max_connections
        else:
            shards, size = pool_split(s.max_connections)
        self._clients = [self._new_client(size) for _ in range(shards)]
        self._busy = [0] * shards
        return self

    def _new_client(self, size: int) -> httpx.AsyncClient:
        s = self.settings
        return httpx.AsyncClient(
            headers={
                "User-Agent": s.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.6",
                # only what _BoundedDecoder can inflate within the size cap
                "Accept-Encoding": "gzip, deflate",
            },
            cookies=http.cookiejar.CookieJar(policy=_RefuseAll()),
            timeout=httpx.Timeout(s.timeout_seconds, connect=s.connect_timeout_seconds),
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            follow_redirects=False,
            proxy=s.proxy,
            verify=s.verify_tls,
            trust_env=False,
            transport=self._transport,
        )

    async def __aexit__(self, *exc: object) -> None:
        clients, self._clients, self._busy = self._clients, [], []
        for client in clients:
            await client.aclose()

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
                    f"重定向循环：{_short(nxt)} 在第 {len(redirects)} 跳重复出现",
                    url,
                    redirects,
                )
            if len(redirects) > self.settings.max_redirects:
                message = f"重定向超过 {self.settings.max_redirects} 次"
                raise FetchError("too_many_redirects", message, url, redirects)
        text, encoding = ("", "")
        media = raw.headers.get("content-type", "")
        if raw.content and _is_textual(media):
            text, encoding = decode_text(raw.content, media)
        return Response(
            url=url,
            final_url=req.url,
            status=raw.status,
            headers=raw.headers,
            content=raw.content,
            text=text,
            encoding=encoding,
            redirects=redirects,
            elapsed_ms=int((time.monotonic() - started) * 1000),
            truncated=raw.truncated,
        )

    # -- internals ------------------------------------------------------------------------

    def _pick_client(self) -> int:
        """The least busy client (the first among equals, so light load reuses one pool)."""
        if not self._clients:
            raise RuntimeError("Fetcher used outside 'async with'")
        busy = self._busy
        return busy.index(min(busy))

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
                with anyio.fail_after(s.timeout_seconds):
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
                    "connect", f"代理服务器连接失败：{_short(str(e))}", url, sent=False
                ) from e
            except (httpx.ConnectError, httpx.ReadError, httpx.WriteError) as e:
                err = _classify_network_error(e, host, url)
                err.sent = not isinstance(e, httpx.ConnectError)
                raise err from e
            except (httpx.ProtocolError, httpx.DecodingError) as e:
                raise FetchError(
                    "protocol", f"{host} 的响应不符合 HTTP 协议（{_short(str(e))}）", url
                ) from e
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
                raise FetchError("protocol", f"网址无效：{_short(url)}", url) from e
            except httpx.TransportError as e:
                raise FetchError("connect", f"与 {host} 的连接出错：{_short(str(e))}", url) from e

    async def _stream(self, req: _Req, cap: int) -> _Raw:
        pick = self._pick_client()
        client = self._clients[pick]
        self._busy[pick] += 1
        try:
            return await self._stream_on(client, req, cap)
        finally:
            if self._busy:  # not closed meanwhile
                self._busy[pick] -= 1

    async def _stream_on(self, client: httpx.AsyncClient, req: _Req, cap: int) -> _Raw:
        url = req.url
        request = client.build_request(req.method, url, headers=req.headers, data=req.data)
        if len(req.jar):  # the cookie machinery is slow: skip it while the jar is empty
            req.jar.cookies.set_cookie_header(request)
        try:
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
            decoder = _BoundedDecoder(coding, url)
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


class _BoundedDecoder:
    """Inflates gzip/deflate without producing more than the room left (zip bombs)."""

    def __init__(self, coding: str, url: str) -> None:
        if coding not in ("gzip", "x-gzip", "deflate", "identity", ""):
            raise FetchError("protocol", f"服务器使用了不支持的压缩编码 '{coding}'", url)
        self.coding = "gzip" if coding == "x-gzip" else coding
        self.url = url
        self._d = zlib.decompressobj(zlib.MAX_WBITS | 16) if self.coding == "gzip" else None
        self._head = b""  # deflate: first bytes, until the flavour is known

    def feed(self, data: bytes, room: int) -> bytes:
        """Return at most ``room + 1`` bytes (one more than fits tells the caller to stop)."""
        if self.coding in ("identity", ""):
            return data[: room + 1]
        if self._d is None:
            # "deflate" comes zlib-wrapped (the RFC) or raw (old IIS): the header tells
            self._head += data
            if len(self._head) < 2:
                return b""
            b0, b1 = self._head[0], self._head[1]
            wrapped = (b0 & 0x0F) == 8 and ((b0 << 8) | b1) % 31 == 0
            self._d = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        out = bytearray()
        pending = data
        while pending and len(out) <= room:
            try:
                out += self._d.decompress(pending, room + 1 - len(out))
            except zlib.error as e:
                raise FetchError("protocol", f"压缩数据损坏（{e}）", self.url) from e
            if self._d.eof:
                # another gzip member may follow; anything else after the end is ignored
                rest = self._d.unused_data
                if self.coding == "gzip" and rest.startswith(b"\x1f\x8b"):
                    self._d = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    pending = rest
                    continue
                break
            pending = self._d.unconsumed_tail
        return bytes(out)

    def flush(self) -> bytes:
        # feed() drained unconsumed input, so this returns only what zlib still buffers
        return self._d.flush() if self._d is not None and not self._d.eof else b""


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("protocol", f"不是网页地址，无法访问：{_short(url)}", url)


def _classify_network_error(exc: Exception, host: str, url: str) -> FetchError:
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 10:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return FetchError("tls", f"{host} 的 TLS 证书无效：{cert_reason(e)}", url)
        if isinstance(e, ssl.SSLError):
            return FetchError("tls", f"与 {host} 的 TLS 握手失败（{e.reason or e}）", url)
        if isinstance(e, socket.gaierror):
            return FetchError("connect", f"无法解析域名 {host}", url)
        if isinstance(e, ConnectionRefusedError):
            return FetchError("connect", f"无法连接 {host}：服务器拒绝连接", url)
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return FetchError("tls", f"{host} 的 TLS 证书无效：{_short(text)}", url)
    if "Name or service not known" in text or "nodename nor servname" in text:
        return FetchError("connect", f"无法解析域名 {host}", url)
    if isinstance(exc, httpx.ConnectError):
        return FetchError("connect", f"无法连接 {host}：{_short(text) or '连接失败'}", url)
    return FetchError("connect", f"与 {host} 的连接中断", url)


def cert_reason(e: ssl.SSLCertVerificationError) -> str:
    """Why a certificate was refused, in the words a duty officer reads."""
    msg = (e.verify_message or str(e)).lower()
    if "expired" in msg:
        return "证书已过期"
    if "self-signed" in msg or "self signed" in msg:
        return "自签名证书，不受信任"
    if "hostname" in msg or "ip address mismatch" in msg:
        return "证书与域名不符"
    if "unable to get local issuer" in msg:
        return "证书链不完整或签发机构不受信任"
    return e.verify_message or "校验失败"


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


# -- text decoding --------------------------------------------------------------------------

_GB_FAMILY = frozenset({"gbk", "gb2312", "gb18030", "x-gbk", "cp936", "ms936", "euc-cn"})
_GB_FAMILY |= {"gb_2312-80", "csgb2312", "chinese", "windows-936", "x-euc-cn"}
# multibyte codecs a detector confuses with GBK on short Chinese text
_CJK_LOOKALIKES = frozenset(
    {"big5", "big5hkscs", "cp950", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949", "johab"}
)
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([a-zA-Z0-9_.:\-]+)["']""")
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/zip",
        "application/pdf",
        "application/vnd.android.package-archive",
        "application/gzip",
    }
)


def normalize_charset(name: str | bytes) -> str | None:
    """Python codec name for a declared charset; GBK and GB2312 read as GB18030 (superset)."""
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    n = name.strip().strip("\"'").lower()
    if not n:
        return None
    if n in _GB_FAMILY:
        return "gb18030"
    try:
        codec = codecs.lookup(n).name
    except LookupError:
        return None
    if codec in ("gbk", "gb2312", "gb18030"):
        return "gb18030"
    if codec == "ascii":
        return "utf-8"  # a superset; pages that say ASCII rarely are
    if codec == "iso8859-1":
        return "cp1252"  # what browsers do (WHATWG encoding standard)
    return codec


def _is_textual(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return not (media.startswith(_BINARY_PREFIXES) or media in _BINARY_TYPES)


def decode_text(content: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode a body the way a browser would, returning ``(text, codec)``.

    Order: byte-order mark, HTTP ``charset``, ``<meta charset>``/http-equiv, XML declaration,
    then detection. A declared charset the bytes do not decode under is skipped (Chinese
    servers often announce UTF-8 for GBK pages), so the next source gets its turn.
    """
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if content.startswith(bom):
            return content.decode(codec, errors="replace"), codec
    head = content[:4096]
    candidates: list[str] = []
    if m := _HEADER_CHARSET.search(content_type):
        candidates.append(m.group(1))
    in_document = [_META_CHARSET.search(head), _XML_ENCODING.search(head)]
    if head.lstrip().startswith(b"<?xml"):
        in_document.reverse()  # a feed's own declaration beats HTML quoted in its CDATA
    candidates += [m.group(1).decode("ascii", "ignore") for m in in_document if m]
    tried: set[str] = set()
    for declared in candidates:
        codec = normalize_charset(declared)
        if codec is None or codec in tried:
            continue
        tried.add(codec)
        try:
            return content.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue
    codec = _detect(content)
    return content.decode(codec, errors="replace"), codec


def _detect(content: bytes) -> str:
    try:
        content.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(content).best()
    codec = normalize_charset(best.encoding) if best is not None else None
    # bias for mainland sites: GBK is by far the likeliest legacy encoding there
    if codec is None or codec in _CJK_LOOKALIKES:
        try:
            content.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            pass
    return codec or "utf-8"


def _num(x: float) -> str:
    return f"{x:g}"


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} KB"


def _short(s: str, limit: int = 120) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"
