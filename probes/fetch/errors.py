"""What a failed fetch says: :class:`FetchError`, its kinds, and the Chinese words for why.

Apart from the client so that everything that reads the network (the client, its body
decoder, the app downloader) names failures the same way.
"""

from __future__ import annotations

import socket
import ssl
from typing import Literal

import httpx

from probes.model import Redirect

FetchErrorKind = Literal[
    "timeout", "connect", "tls", "too_large", "redirect_loop", "too_many_redirects", "protocol"
]


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


def classify_network_error(exc: Exception, host: str, url: str) -> FetchError:
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
        return FetchError("tls", f"{host} 的 TLS 证书无效：{short(text)}", url)
    if "Name or service not known" in text or "nodename nor servname" in text:
        return FetchError("connect", f"无法解析域名 {host}", url)
    if isinstance(exc, httpx.ConnectError):
        return FetchError("connect", f"无法连接 {host}：{short(text) or '连接失败'}", url)
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


def short(s: str, limit: int = 120) -> str:
    """``s`` cut to ``limit`` characters for a message line."""
    return s if len(s) <= limit else s[: limit - 1] + "…"
