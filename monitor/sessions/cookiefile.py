"""Reading the cookie files operators export from a logged-in browser.

Three shapes, told apart by their first character:

- Netscape ``cookies.txt`` (curl, yt-dlp, the "Get cookies.txt" extensions): one cookie a
  line, seven tab-separated fields — domain, include-subdomains (TRUE/FALSE), path, secure
  (TRUE/FALSE), expiry (Unix seconds, 0 for a session cookie), name, value; ``#`` starts a
  comment, except ``#HttpOnly_`` before a domain, which marks an HttpOnly cookie.
- A JSON array, as Cookie-Editor and EditThisCookie export it: ``{name, value, domain, path,
  expirationDate, secure, httpOnly, hostOnly, session, sameSite}`` per cookie (field names as
  in secdev02/Network-Support ``COOKIE_EDITOR_GUIDE.md`` and the ``EditThisCookieItem`` of
  cherish-chat/chatgpt-firefox ``config/config.go``; ``sameSite`` is ``no_restriction``,
  ``lax``, ``strict`` or ``unspecified``; no ``expirationDate`` for a session cookie).
- Playwright's ``storage_state``: ``{"cookies": [{name, value, domain, path, expires,
  httpOnly, secure, sameSite}], "origins": [...]}``, ``expires`` -1 for a session cookie.

A mistake names its line (cookies.txt) or entry (JSON). :func:`for_platform` then keeps the
platform's cookies and says what it dropped: another site's cookies never reach a platform.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.sessions.platforms import LOGIN, owns
from probes.fetch.session import Cookie

MAX_BYTES = 1_000_000
_SAME_SITE = {"no_restriction": "None", "none": "None", "lax": "Lax", "strict": "Strict"}


class CookieFileError(ValueError):
    """The file is not a cookie export xuncha reads; the message says where and why."""


def read_cookies(data: bytes) -> tuple[list[Cookie], str]:
    """The cookies of ``data`` and the name of its format."""
    if len(data) > MAX_BYTES:
        raise CookieFileError(f"文件超过 {MAX_BYTES // 1_000_000} MB，不像是 Cookie 导出文件")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CookieFileError("文件不是 UTF-8 文本，不像是 Cookie 导出文件") from None
    stripped = text.lstrip()
    if not stripped:
        raise CookieFileError("文件是空的")
    if stripped[0] in "[{":
        return _json(text)
    return _netscape(text), "cookies.txt"


def playwright_cookies(entries: Sequence[Mapping[str, Any]]) -> list[Cookie]:
    """A browser context's cookies (``BrowserContext.cookies()``, storage_state's shape)."""
    return [_entry(dict(e), i, playwright=True) for i, e in enumerate(entries, 1)]


def _json(text: str) -> tuple[list[Cookie], str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CookieFileError(
            f"不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列：{e.msg}）"
        ) from None
    if isinstance(data, dict):
        entries = data.get("cookies")
        if not isinstance(entries, list):
            raise CookieFileError(
                "JSON 对象中没有 cookies 列表：应为 Playwright storage_state，"
                "或 Cookie-Editor / EditThisCookie 导出的数组"
            )
        return [_entry(e, i, playwright=True) for i, e in enumerate(entries, 1)], "storage_state"
    return [_entry(e, i, playwright=False) for i, e in enumerate(data, 1)], "JSON"


def _entry(e: Any, i: int, *, playwright: bool) -> Cookie:
    where = f"第 {i} 个 Cookie"
    if not isinstance(e, dict):
        raise CookieFileError(f"{where}不是对象（应有 name、value、domain 等字段）")
    for key in ("name", "value", "domain"):
        if key not in e:
            raise CookieFileError(f"{where}缺少 {key} 字段")
        if not isinstance(e[key], str):
            raise CookieFileError(f"{where}的 {key} 不是文本")
    if not e["name"] or not e["domain"].strip("."):
        raise CookieFileError(f"{where}的 name 或 domain 为空")
    raw = e.get("expires") if playwright else e.get("expirationDate")
    if raw is not None and (
        isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw)
    ):
        field_name = "expires" if playwright else "expirationDate"
        raise CookieFileError(f"{where}（{e['name']}）的 {field_name} 不是数字：{raw!r}")
    expires = float(raw) if raw is not None and raw > 0 else None
    if not playwright and e.get("session") is True:
        expires = None
    domain = e["domain"].strip()
    host_only = bool(e["hostOnly"]) if "hostOnly" in e else not domain.startswith(".")
    same = str(e.get("sameSite") or "")
    return Cookie(
        name=e["name"],
        value=e["value"],
        domain=domain,
        path=str(e.get("path") or "/"),
        expires=expires,
        secure=bool(e.get("secure")),
        http_only=bool(e.get("httpOnly")),
        host_only=host_only,
        same_site=_SAME_SITE.get(same.lower(), ""),
    )


def _netscape(text: str) -> list[Cookie]:
    out: list[Cookie] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r\n")
        http_only = line.startswith("#HttpOnly_")
        if http_only:
            line = line[len("#HttpOnly_") :]
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        out.append(_netscape_line(n, line, http_only))
    if not out:
        raise CookieFileError("文件中没有 Cookie（cookies.txt 的每行一个，字段以制表符分隔）")
    return out


def _netscape_line(n: int, line: str, http_only: bool) -> Cookie:
    """One cookie line of cookies.txt (line ``n``), or why it is not one."""
    fields = _netscape_fields(n, line)
    domain, sub, path, secure, expiry, name, value = fields
    flags = []
    for what, v in (("含子域", sub), ("仅 HTTPS", secure)):
        if v.upper() not in ("TRUE", "FALSE"):
            raise CookieFileError(f"第 {n} 行的“{what}”应为 TRUE 或 FALSE，实际为 {v!r}")
        flags.append(v.upper() == "TRUE")
    try:
        seconds = float(expiry)
    except ValueError:
        raise CookieFileError(f"第 {n} 行的过期时间 {expiry!r} 不是数字") from None
    if not name or not domain.strip("."):
        raise CookieFileError(f"第 {n} 行的名称或域名为空")
    return Cookie(
        name=name,
        value=value,
        domain=domain,
        path=path or "/",
        expires=seconds if seconds > 0 else None,
        secure=flags[1],
        http_only=http_only,
        host_only=not flags[0],
    )


def _netscape_fields(n: int, line: str) -> list[str]:
    """The line's seven fields, tab-separated (or by any space, as some tools write them)."""
    fields = line.split("\t")
    if len(fields) != 7:
        fields = line.split(None, 6)
    if len(fields) != 7:
        if "=" in line and ";" in line and "\t" not in line:
            raise CookieFileError(
                f"第 {n} 行像是 Cookie 请求头（name=value; …），不是 cookies.txt：其中没有"
                "域名和过期时间。请用浏览器扩展导出 cookies.txt 或 JSON"
            )
        raise CookieFileError(
            f"第 {n} 行应有 7 个以制表符分隔的字段（域名、含子域、路径、仅 HTTPS、"
            f"过期时间、名称、值），实际 {len(fields)} 个"
        )
    return fields


@dataclass
class Kept:
    """What an import keeps for a platform, and what it left out and why."""

    platform: str
    fmt: str  # "cookies.txt", "JSON" or "storage_state"
    cookies: list[Cookie] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)  # other sites' hosts
    expired: int = 0
    login_names: list[str] = field(default_factory=list)  # of the platform's login cookies

    def expires_at(self) -> datetime | None:
        """The earliest expiry of its login cookies (None: none says when)."""
        login = set(LOGIN[self.platform].login_cookies)
        times = [c.expires for c in self.cookies if c.name in login and c.expires]
        return datetime.fromtimestamp(min(times), UTC) if times else None

    def notes(self, platform_name: str) -> list[str]:
        """What the operator should know, in Chinese."""
        lines = []
        if self.dropped:
            shown = "、".join(d for d, _ in self.dropped.most_common(5))
            more = "等" if len(self.dropped) > 5 else ""
            lines.append(
                f"丢弃了 {sum(self.dropped.values())} 个其他网站的 Cookie（{shown}{more}）"
            )
        if self.expired:
            lines.append(f"丢弃了 {self.expired} 个已过期的 Cookie")
        if not self.login_names:
            names = "、".join(LOGIN[self.platform].login_cookies)
            lines.append(
                f"注意：文件中没有{platform_name}的登录 Cookie（{names}），导出时可能未登录"
            )
        return lines


def for_platform(
    cookies: Sequence[Cookie], fmt: str, platform: str, stand_ins: Mapping[str, str],
    now: datetime,
) -> Kept:  # fmt: skip
    """The platform's cookies that have not expired; :class:`CookieFileError` if none."""
    kept = Kept(platform, fmt)
    stamp = now.timestamp()
    for c in cookies:
        if not owns(platform, c.host, stand_ins):
            kept.dropped[c.host] += 1
        elif c.expires is not None and c.expires <= stamp:
            kept.expired += 1
        else:
            kept.cookies.append(c)
    if not kept.cookies:
        why = "（都已过期）" if kept.expired and not kept.dropped else ""
        domains = "、".join(LOGIN[platform].domains)
        raise CookieFileError(
            f"文件中没有该平台（{domains}）可用的 Cookie{why}：请在登录后的浏览器里打开该平台，"
            "再导出 Cookie"
        )
    login = set(LOGIN[platform].login_cookies)
    kept.login_names = sorted({c.name for c in kept.cookies if c.name in login})
    return kept
