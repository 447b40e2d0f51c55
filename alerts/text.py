"""Text that is safe to put in a message, and times as people read them.

Everything interpolated into a message may come from a scraped page (a post title, a nickname,
a link), so it is treated as hostile: link and emphasis syntax, HTML tags and @-mentions are
neutralised with their full-width look-alikes (readable in Chinese text, inert in every
renderer, unlike backslash escapes, which DingTalk and WeCom do not honour), bare URLs in free
text are defanged, and the only links are ones we build ourselves from http(s) URLs we
validated (``safe_url``), labelled with their real host.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# how a time is shown, in the configured zone: the same as monitor.timefmt.MINUTES (this
# package does not import monitor; tests/test_alerts.py holds the two equal)
TIME_FORMAT = "%Y-%m-%d %H:%M"

# DingTalk rejects a request body over 20,000 bytes. apprise serialises with json.dumps
# (ASCII escapes: one Chinese character costs 6 bytes) and sends the title twice, so the
# default budget is measured in escaped JSON, with room for the envelope.
MAX_REQUEST_BYTES = 20_000
ENVELOPE_BYTES = 400
TRUNCATED = "…（内容过长，已截断）"

# Invisible and direction-changing characters let a hostile string disguise itself.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|javascript|data|file|weixin|mailto|tel|sms)\s*:")
_WWW = re.compile(r"(?i)\bwww\.")
MD_INERT = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "`": "｀",
        "~": "～",
        "|": "｜",
        "\\": "＼",
        "@": "＠",
    }
)


def inline(value: object, limit: int) -> str:
    """One line, no invisible characters, no live URLs, at most ``limit`` characters."""
    text = str(value)
    text = _INVISIBLE.sub("", text.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    text = _URL_SCHEME.sub(lambda m: m.group(1) + "：", text)
    text = _WWW.sub("www．", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def inert(value: object, limit: int) -> str:
    """``inline`` and inert in markdown too: what every scraped value becomes."""
    return inline(value, limit).translate(MD_INERT)


def safe_url(url: object) -> str:
    """An http(s) URL with every character that could end a markdown link escaped, or ""."""
    text = _INVISIBLE.sub("", str(url or "")).strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not re.fullmatch(r"[a-z0-9.\-]+", host):
        return ""
    return quote(text, safe=":/?#=&%+,;~-._@$")[:1000]


def host_of(url: str) -> str:
    """The host of a URL ``safe_url`` accepted (its label wherever it is a link)."""
    return urlsplit(url).hostname or ""


def flagged(url: object, limit: int = 80) -> str:
    """An address a detector flags (an advertiser's link, a hijacked or foreign download,
    where a site sent us): named by its host, never a link — a duty officer should recognise
    it, not open it from a chat message. A value with no plain host is shown inert whole."""
    try:
        host = urlsplit(str(url or "").strip()).hostname or ""
    except ValueError:
        host = ""
    return host if re.fullmatch(r"[a-z0-9.\-]{1,253}", host) else inert(url, limit)


# -- times ------------------------------------------------------------------------------------


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == "Asia/Shanghai":  # no tzdata installed; China has had no DST since 1991
            return timezone(timedelta(hours=8), "CST")
        raise


def parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)  # stored times are UTC


def shown(dt: datetime | None, tz: tzinfo) -> str:
    """A time as people read it everywhere: ``TIME_FORMAT`` in the configured zone (the
    console's ``monitor.timefmt.shown`` gives the same string; a test holds them equal)."""
    if dt is None:
        return ""
    return _aware(dt).astimezone(tz).strftime(TIME_FORMAT)


def short(dt: datetime, tz: tzinfo, now: datetime | None = None) -> str:
    """``12月8日 16:00``, the way a deadline is said; with the year when it is not ``now``'s."""
    local = _aware(dt).astimezone(tz)
    year = "" if now is None or _aware(now).astimezone(tz).year == local.year else f"{local.year}年"
    return f"{year}{local.month}月{local.day}日 {local:%H:%M}"


def local_time(dt: datetime | None, tz: str = "Asia/Shanghai") -> str:
    """``shown`` for a zone name: how every message shows a time."""
    return shown(dt, zone(tz))


def duration(delta: timedelta) -> str:
    """``2 天 3 小时``, ``5 小时 10 分钟``, ``12 分钟``."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    return f"{minutes} 分钟"


def span(delta: timedelta) -> str:
    """A rough span for "还剩 …" and "已超期 …": whole days from a day on, else hours, else
    minutes (never rounded up: a duty officer is never told there is more time than there is)."""
    seconds = abs(delta.total_seconds())
    if seconds >= 86_400:
        return f"{int(seconds // 86_400)} 天"
    if seconds >= 3_600:
        return f"{int(seconds // 3_600)} 小时"
    return f"{max(1, int(seconds // 60))} 分钟"


# -- size -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How much a provider takes in one request, and how it counts.

    ``escaped``: counted as ASCII-escaped JSON with the title twice (apprise's DingTalk-like
    payloads: one Chinese character costs 6 bytes), the conservative default for every
    provider whose limit is about 20 KB. Otherwise UTF-8 bytes of title and body together
    (WeCom counts the ``content`` field: 4,096 bytes of markdown).
    """

    max_bytes: int = MAX_REQUEST_BYTES - ENVELOPE_BYTES
    escaped: bool = True

    def size(self, text: str) -> int:
        return len(json.dumps(text)) if self.escaped else len(text.encode())

    def room(self, title: str) -> int:
        """Bytes left for the body once the title is in."""
        return self.max_bytes - (2 if self.escaped else 1) * self.size(title)

    def cut(self, text: str, room: int) -> str:
        """Last resort: the longest start of ``text`` that fits ``room`` with ``TRUNCATED``."""
        room -= self.size(TRUNCATED)
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.size(text[:mid]) <= room:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo] + TRUNCATED


DEFAULT_BUDGET = Budget()
