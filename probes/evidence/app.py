"""An app's download and signer: where it came from, what came back, whose key signed it;
and the app stores that no longer list it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from probes.evidence.lines import Line, Run, blank, flagged, joined, line, link, number, quote
from probes.evidence.shape import Part

APK_TYPE = "application/vnd.android.package-archive"
PAGE_KINDS = {
    "hijacked": "返回的是赌博或色情页面",
    "error": "返回的是错误页面",
    "landing": "返回的是网页，不是安装包",
}
TLS_TOLD_DAYS = 30  # a certificate's days left are told under this


@dataclass(frozen=True, kw_only=True)
class App(Part):
    """The registered download and what it gave; the package name and signer against what was
    registered. A hijacked download is never a link; a foreign host is named, not opened."""

    download_url: str | None = None
    final_url: str | None = None
    redirects: list[str] | None = None  # "302 https://…", one per hop
    status_code: int | None = None
    content_type: str | None = None
    length: int | None = None
    page_kind: str | None = None
    problems: list[str] | None = None
    registered_host: str | None = None
    final_host: str | None = None
    tls_valid: bool | None = None
    tls_days_left: int | None = None
    expected: str | None = None  # the registered package name
    observed: str | None = None
    observed_signer: str | None = None  # SHA-256 of the signing certificate
    pinned_signer: str | None = None
    schemes: list[int] | None = None  # APK signature scheme versions
    lineage: list[str] | None = None  # a key rotation's certificates

    @classmethod
    def claims(cls, d: dict[str, Any]) -> bool:
        return "download_url" in d

    def lines(self) -> list[Line]:
        return [*self._where(), *self._answer(), *self._checks()]

    def _where(self) -> list[Line]:
        out = []
        if self.download_url and self.page_kind != "hijacked":
            shown = (flagged(self.download_url),)
            out.append(line("下载地址：", link(self.download_url, otherwise=shown)))
        elif self.download_url:
            out.append(line("下载地址：", flagged(self.download_url)))
        if self.final_url:
            out.append(line("实际下载自：", flagged(self.final_url)))
        if isinstance(self.redirects, list) and self.redirects:
            hops = [_hop(r) for r in self.redirects[:4]]
            if self.final_url:
                hops.append([flagged(self.final_url, 80)])
            out.append(line(f"经 {len(self.redirects)} 次跳转：", *joined(hops, " → ")))
        return out

    def _answer(self) -> list[Line]:
        bits: list[Run] = []
        if number(self.status_code):
            bits.append(f"HTTP {self.status_code}")
        if kind := str(self.content_type or ""):
            bits.append("安装包" if kind.startswith(APK_TYPE) else quote(kind, 60))
        if number(self.length):
            bits.append(_size(self.length))  # type: ignore[arg-type]
        out = [line("下载返回：", *joined([[b] for b in bits], "，"))] if bits else []
        if said := PAGE_KINDS.get(str(self.page_kind)):
            out.append(line(said))
        return out

    def _checks(self) -> list[Line]:
        out = []
        if self.registered_host and self.final_host:
            registered, final = quote(self.registered_host, 80), quote(self.final_host, 80)
            runs = ("登记的下载域名为 ", registered, "，实际从 ", final, " 下载")
            out.append(line(*runs, unless="登记的下载域名"))
        if self.tls_valid is False:
            out.append(line("HTTPS 证书无效"))
        elif number(self.tls_days_left) and self.tls_days_left < TLS_TOLD_DAYS:  # type: ignore[operator]
            out.append(line(f"HTTPS 证书还有 {max(0, int(self.tls_days_left))} 天到期"))  # type: ignore[arg-type]
        if self.expected:
            seen = quote(self.observed or "（无法读取）", 80)
            out.append(line("登记包名 ", quote(self.expected, 80), "，实际为 ", seen))
        if self.pinned_signer or self.observed_signer:
            pinned = _fingerprint(self.pinned_signer)
            seen = _fingerprint(self.observed_signer) or ["无法确认"]
            if pinned:
                out.append(line("签名证书 SHA-256：登记 ", *pinned, "，实际 ", *seen))
            else:
                out.append(line("本次看到的签名证书 SHA-256：", *seen))
        problems = self.problems if isinstance(self.problems, list) else []
        for i, p in enumerate(problems, 1):
            out.append(line("问题：", quote(p), rank=i, unless=str(p)))
        return out


def _size(n: float) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} 字节"


def _hop(redirect: object) -> list[Run]:
    """One hop of a download's redirects ("302 https://…") as "host（302）"."""
    status, _, url = str(redirect).partition(" ")
    if not status.isdigit():
        return [flagged(redirect, 80)]
    return [flagged(url, 80), f"（{status}）"]


def _fingerprint(value: object) -> list[Run]:
    """A certificate's SHA-256 as people compare it: the first and last eight hex digits."""
    text = str(value or "").replace(":", "").lower()
    if not re.fullmatch(r"[0-9a-f]{16,}", text):
        return [] if not value or blank(value) else [quote(value, 40)]
    return [f"{text[:8]}…{text[-8:]}"]


@dataclass(frozen=True, kw_only=True)
class Stores(Part):
    """The app stores where the client is no longer found, with what each said."""

    stores: list[dict[str, Any]] | None = None

    @classmethod
    def claims(cls, d: dict[str, Any]) -> bool:
        return isinstance(d.get("stores"), list)

    def lines(self) -> list[Line]:
        return [line("应用商店：", quote(s.get("detail") or "查不到该客户端"), rank=i)
                for i, s in enumerate(self.stores or [], 1) if isinstance(s, dict)]  # fmt: skip
