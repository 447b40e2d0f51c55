"""Streamed download of an app package, with the evidence a user's download would leave.

Why not :class:`probes.fetch.http.Fetcher`: it buffers bodies in memory up to a few MB, while
an APK is tens or hundreds of MB. Here the body goes to a temporary file in bounded chunks,
with a size cap and a whole-request deadline; redirects are followed by hand so every hop is
recorded; and the certificate of every HTTPS host on the way is read on its own (validity,
days to expiry), because the download itself proceeds even over a bad certificate — what a
lapsed or hijacked domain serves is evidence, and the bad certificate is its own finding.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import shutil
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import anyio
import httpx
from cryptography import x509

from probes.fetch.http import DEFAULT_USER_AGENT, REDIRECT_STATUSES, cert_reason
from probes.model import Redirect

HEAD_BYTES = 256 * 1024  # first bytes kept in memory: enough to classify an HTML page
_SECOND_LEVEL = {"gov", "com", "net", "org", "edu", "ac", "mil"}


@dataclass
class DownloadSettings:
    max_bytes: int = 500_000_000  # a government app larger than this is not an app
    timeout_seconds: float = 300.0  # whole download, every hop included
    connect_timeout_seconds: float = 10.0
    max_redirects: int = 10
    user_agent: str = DEFAULT_USER_AGENT
    ca_file: str | None = None  # extra trust anchors (tests, private CAs); None = system
    proxy: str | None = None
    tmp_dir: str | None = None  # where packages are spooled; None = the system temp dir


@dataclass
class TlsFacts:
    """The certificate a host presented: valid for a browser? days until it expires?"""

    host: str
    valid: bool
    days_left: int | None = None
    not_after: str | None = None  # ISO UTC
    subject: str = ""
    issuer: str = ""
    reason: str = ""  # Chinese, when not valid


@dataclass
class Download:
    """One download attempt. ``path`` holds the body until :meth:`cleanup`; ``error`` is
    Chinese and set when nothing usable came back (the hops and TLS facts still are)."""

    url: str
    final_url: str = ""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    redirects: list[Redirect] = field(default_factory=list)
    tls: list[TlsFacts] = field(default_factory=list)
    path: Path | None = None
    length: int = 0
    sha256: str = ""
    head: bytes = b""  # first HEAD_BYTES of the body
    truncated: bool = False  # fewer bytes than Content-Length announced
    elapsed_ms: int = 0
    error: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def cleanup(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)
            self.path = None


def registrable_host(host: str) -> str:
    """Registrable part of a host without a public-suffix list: ``app.sz.gov.cn`` ->
    ``sz.gov.cn``; good enough for Chinese government domains (``*.gov.cn``)."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def host_within(host: str, registered: str) -> bool:
    """Is ``host`` the registered host or one of its subdomains?"""
    host, registered = host.lower().rstrip("."), registered.lower().rstrip(".")
    return host == registered or host.endswith("." + registered)


async def download(url: str, settings: DownloadSettings | None = None) -> Download:
    """GET ``url`` into a temporary file; never raises for network trouble (see ``error``)."""
    s = settings or DownloadSettings()
    d = Download(url=url, final_url=url)
    started = time.monotonic()
    tmpdir = Path(tempfile.mkdtemp(prefix="xuncha-apk-", dir=s.tmp_dir))
    d.path = tmpdir / "download.bin"
    seen_tls: set[tuple[str, int]] = set()
    try:
        async with httpx.AsyncClient(
            headers={"User-Agent": s.user_agent, "Accept": "*/*", "Accept-Encoding": "identity"},
            timeout=httpx.Timeout(s.timeout_seconds, connect=s.connect_timeout_seconds),
            follow_redirects=False,
            verify=False,  # observed, not installed: certificates are judged by tls_facts
            trust_env=False,
            proxy=s.proxy,
        ) as client:
            with anyio.fail_after(s.timeout_seconds):
                await _follow(client, d, s, seen_tls)
    except TimeoutError:
        d.error = f"下载超时（{s.timeout_seconds:g} 秒内未完成）"
    except httpx.TimeoutException:
        d.error = "下载超时：服务器无响应"
    except (httpx.ConnectError, httpx.ConnectTimeout, OSError) as e:
        d.error = f"无法连接 {urlsplit(d.final_url).hostname}：{_short(e) or '连接失败'}"
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        d.error = f"下载地址无效：{_short(d.final_url)}"
    except httpx.HTTPError as e:
        d.error = f"下载出错：{_short(e) or type(e).__name__}"
    d.elapsed_ms = int((time.monotonic() - started) * 1000)
    if d.error is not None and d.length == 0:
        d.cleanup()
    return d


async def _follow(
    client: httpx.AsyncClient, d: Download, s: DownloadSettings, seen_tls: set[tuple[str, int]]
) -> None:
    current = d.url
    visited: set[str] = set()
    while True:
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            d.error = f"下载地址无效：{_short(current)}"
            return
        if parts.scheme == "https":
            key = (parts.hostname, parts.port or 443)
            if key not in seen_tls:
                seen_tls.add(key)
                d.tls.append(await tls_facts(parts.hostname, parts.port or 443, s))
        visited.add(current)
        d.final_url = current
        request = client.build_request("GET", current)
        response = await client.send(request, stream=True)
        try:
            d.status = response.status_code
            d.headers = {k.lower(): v for k, v in response.headers.items()}
            location = d.headers.get("location", "").strip()
            if response.status_code in REDIRECT_STATUSES and location:
                d.redirects.append(Redirect(url=current, status=response.status_code))
                nxt = urljoin(current, location)
                if nxt in visited:
                    d.error = f"重定向循环：{_short(nxt)}"
                    return
                if len(d.redirects) > s.max_redirects:
                    d.error = f"重定向超过 {s.max_redirects} 次"
                    return
                current = nxt
                continue
            await _spool(response, d, s)
            return
        finally:
            await response.aclose()


async def _spool(response: httpx.Response, d: Download, s: DownloadSettings) -> None:
    declared = d.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > s.max_bytes:
        d.error = f"安装包声明大小 {int(declared)} 字节，超过 {s.max_bytes} 字节上限"
        return
    assert d.path is not None
    digest = hashlib.sha256()
    head = bytearray()
    with d.path.open("wb") as out:
        try:
            async for chunk in response.aiter_raw():
                d.length += len(chunk)
                if d.length > s.max_bytes:
                    d.error = f"安装包超过 {s.max_bytes} 字节上限"
                    return
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        except httpx.RemoteProtocolError:
            d.truncated = True  # peer closed early: keep what arrived
    if declared.isdigit() and d.length < int(declared):
        d.truncated = True
    d.head = bytes(head)
    d.sha256 = digest.hexdigest()


async def tls_facts(host: str, port: int, s: DownloadSettings | None = None) -> TlsFacts:
    """Handshake twice if need be: once verifying (is it valid?), once not (what is it?)."""
    s = s or DownloadSettings()
    strict = ssl.create_default_context(cafile=s.ca_file) if s.ca_file else None
    if strict is None:
        strict = ssl.create_default_context()
    facts = TlsFacts(host=host, valid=False)
    der: bytes | None = None
    try:
        der = await _peer_cert(host, port, strict, s.connect_timeout_seconds)
        facts.valid = True
    except ssl.SSLCertVerificationError as e:
        facts.reason = cert_reason(e)
    except (ssl.SSLError, OSError, TimeoutError) as e:
        facts.reason = f"TLS 握手失败（{_short(e)}）"
        return facts
    if der is None:
        lax = ssl.create_default_context()
        lax.check_hostname = False
        lax.verify_mode = ssl.CERT_NONE
        try:
            der = await _peer_cert(host, port, lax, s.connect_timeout_seconds)
        except (ssl.SSLError, OSError, TimeoutError):
            return facts
    if der:
        cert = x509.load_der_x509_certificate(der)
        not_after = cert.not_valid_after_utc
        facts.not_after = not_after.isoformat()
        facts.days_left = (not_after - datetime.now(UTC)).days
        facts.subject = cert.subject.rfc4514_string()
        facts.issuer = cert.issuer.rfc4514_string()
    return facts


async def _peer_cert(host: str, port: int, ctx: ssl.SSLContext, timeout: float) -> bytes | None:
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx, server_hostname=host), timeout
    )
    try:
        sslobj = writer.get_extra_info("ssl_object")
        return sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    finally:
        writer.close()
        with contextlib.suppress(ssl.SSLError, OSError):
            await writer.wait_closed()


def _short(e: object, limit: int = 120) -> str:
    s = str(e)
    return s if len(s) <= limit else s[: limit - 1] + "…"
