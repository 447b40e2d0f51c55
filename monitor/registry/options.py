"""What the import checks in a row beyond its columns' own shapes: the reader's 参数 (a
网页 reader needs ``item``; selectors must parse; a signer hash is 64 hex digits; download
links are web links; numbers are numbers) and the notification channels (an address must
be one xuncha can send to). A row that passes these reads and sends; a row that failed them
used to surface later, as fetch failures or held messages, far from the sheet it came from.

The CSS parser is the one the readers use (lexbor, through selectolax), so a selector
accepted here is one a check can run; apprise is asked about channel addresses exactly as
``xuncha doctor`` asks (no network). Both are imported when first needed: the patrol's
processes import the registry package and need neither.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: 参数 keys whose values are CSS selectors, for the webpage reader and WeChat page lists
SELECTOR_KEYS = ("item", "date", "title", "link", "pinned")
MAX_SELECTOR_CHARS = 500
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+")
_HOST = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.I)


def option_problems(
    platform: str, reader: str, options: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(column, reason) for each 参数 the row's reader could not use; ``reader`` is as
    written ("" = by platform), ``platform`` the registry's code."""
    out: list[tuple[str, str]] = []
    page_list = platform == "wechat" and (
        options.get("list_kind") == "page" or (not options.get("list_kind") and "item" in options)
    )
    if reader == "webpage" and "item" not in options:
        out.append(("options", "读取方式为 网页 时，参数须有 item（一条内容的 CSS 选择器）"))
    if platform == "wechat" and options.get("list_kind") == "page" and "item" not in options:
        out.append(("options", "list_kind=page 时，参数须有 item（一条内容的 CSS 选择器）"))
    if reader == "webpage" or page_list or "item" in options:
        for key in SELECTOR_KEYS:
            if key in options and (why := selector_problem(options[key])):
                out.append(("options", f"参数 {key} 的选择器 '{options[key]}' {why}"))
    for key, check in _VALUES.items():
        if key in options and (why := check(options[key])):
            out.append(("options", f"参数 {key}={options[key]!r} {why}"))
    return out


def selector_problem(selector: str) -> str | None:
    """Why lexbor would not run ``selector``; None when it would."""
    if len(selector) > MAX_SELECTOR_CHARS:
        return f"太长（最多 {MAX_SELECTOR_CHARS} 个字符）"
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except SelectolaxError:
        return "无法解析，不是有效的 CSS 选择器"
    return None


def _signer(value: str) -> str | None:
    hex_digits = value.replace(":", "").replace(" ", "").lower()
    if _SHA256.fullmatch(hex_digits):
        return None
    return "不是签名证书的 SHA-256（64 位十六进制，或 keytool 的 AB:CD:… 形式）"


def _package(value: str) -> str | None:
    return None if _PACKAGE.fullmatch(value) else "不是安卓包名（如 cn.gov.example.app）"


def is_http_url(value: str) -> bool:
    """An absolute http(s) URL with a host and no whitespace."""
    if any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 literal
        return False


def _links(value: str) -> str | None:
    bad = [u for u in value.split() if not is_http_url(u)]
    return f"中 {'、'.join(bad[:3])} 不是 http(s) 网址" if bad else None


def _link(value: str) -> str | None:
    return None if is_http_url(value) else "不是 http(s) 网址"


def _digits(value: str) -> str | None:
    return None if value.isascii() and value.isdigit() else "应为数字"


def _articles(value: str) -> str | None:
    ok = value.isascii() and value.isdigit() and 0 <= int(value) <= 5
    return None if ok else "应为 0 到 5 的整数（打开最新几篇文章页）"


def _list_kind(value: str) -> str | None:
    return None if value in ("rss", "page") else "应为 rss 或 page"


def _zone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        return "不是时区名（如 Asia/Shanghai）"
    return None


def _host(value: str) -> str | None:
    return None if _HOST.fullmatch(value) else "不是域名（如 www.example.gov.cn）"


_VALUES = {
    "signer_sha256": _signer,
    "package": _package,
    "download_url": _links,
    "list_url": _link,
    "registered_host": _host,
    "ios_id": _digits,
    "articles": _articles,
    "list_kind": _list_kind,
    "tz": _zone,
}


def channel_problem(url: str) -> str | None:
    """Why xuncha could not send to ``url`` (a channel address, not ``@name``); None if it
    could: a scheme one of xuncha's own messengers answers to (``alerts.messengers``), or an
    address apprise can build a notifier from."""
    from alerts import messengers

    if messengers.own(messengers.scheme_of(url)) or _apprise_knows(url):
        return None
    return "不是可发送的通知地址（apprise 不认识它；钉钉、企业微信、飞书机器人见 docs/config.md）"


def _apprise_knows(url: str) -> bool:
    import apprise

    asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)
    try:
        return apprise.Apprise.instantiate(url, asset=asset) is not None
    except Exception:
        return False
