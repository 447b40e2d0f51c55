"""Dates the way Chinese sites print them, turned into aware UTC.

Pages show local (Beijing) wall-clock time in many shapes — ``2026-11-24``, ``2026年11月24日
09:30``, ``11-24`` without a year, ``昨天 18:00``, ``3小时前``, ``刚刚``, or unix seconds
(:func:`from_epoch_text`) — and a staleness verdict is only as good as the date it reads,
so every shape is parsed against an explicit ``now`` (tests and replays need a fixed clock).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"

#: A year-less date this far ahead of ``now`` is taken as last year's; less is clock skew
#: between the site and us, and must not turn a fresh post into a year-old one.
FUTURE_SLACK = timedelta(days=1)

_TIME = r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:时]\s*(?P<M>\d{1,2})(?:\s*[:分]\s*(?P<S>\d{1,2}))?)?"
_OFFSET = r"(?:\s*(?P<off>Z|[+-]\d{2}:?\d{2})(?!\d))?"
_FULL = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)"
    r"\s*日?" + _TIME + _OFFSET
)
_MONTH_DAY = re.compile(
    r"(?<![\d./\-年])(?P<m>\d{1,2})\s*(?:月\s*(?P<d1>\d{1,2})\s*日?|[-/](?P<d2>\d{1,2}))(?![\d./\-])"
    + _TIME
)
_DAY_WORD = re.compile(r"(?P<word>今天|昨天|前天)" + _TIME)
_AGO = re.compile(r"(?P<n>\d+|半)\s*(?P<unit>秒钟?|分钟|分|个?小时|天|日|周|星期)\s*前")
_JUST_NOW = frozenset({"刚刚", "刚才"})

_UNITS = {
    "秒": timedelta(seconds=1),
    "秒钟": timedelta(seconds=1),
    "分": timedelta(minutes=1),
    "分钟": timedelta(minutes=1),
    "小时": timedelta(hours=1),
    "个小时": timedelta(hours=1),
    "天": timedelta(days=1),
    "日": timedelta(days=1),
    "周": timedelta(weeks=1),
    "星期": timedelta(weeks=1),
}
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}


@cache
def zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def localize(dt: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Aware UTC from a datetime; a naive one is read as wall-clock time in ``tz``."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz))
    return dt.astimezone(UTC)


def parse_cn_datetime(text: str, *, now: datetime, tz: str = DEFAULT_TZ) -> datetime | None:
    """The date in ``text`` as aware UTC, or None.

    ``text`` may hold more than the date (a list item's whole text): a full date with year
    wins over "今天/昨天", which wins over "N小时前", which wins over a year-less "11-24";
    among several full dates the last one is taken, since lists print the date after the
    title. A date without a time is 00:00 local.
    """
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    local_tz = zone(tz)
    now_local = localize(now).astimezone(local_tz)
    for finder in (_full_date, _day_word, _ago, _month_day):
        found = finder(text, now_local, local_tz)
        if found is not None:
            return found.astimezone(UTC)
    return None


def date_without_clock(text: str, *, tz: str = DEFAULT_TZ) -> tuple[datetime | None, bool]:
    """What :func:`from_epoch_text`, then :func:`parse_cn_datetime`, read in ``text`` when
    that answer holds whatever ``now`` is: ``(date or None, True)``; ``(None, False)`` when
    it depends on ``now`` (Unix time, checked against it; "今天", "3小时前", a year-less
    "11-24"), and the caller must ask them with the clock. A reader that remembers what a
    page said may remember only answers of the first kind."""
    if not text or _epoch_digits(text) is not None:
        return None, not text
    text = unicodedata.normalize("NFKC", text)
    local_tz = zone(tz)
    found = _full_date(text, None, local_tz)  # parse_cn_datetime's first finder
    if found is not None:
        return found.astimezone(UTC), True
    # no shape of any finder here (not even a full date it turned down): its None holds at
    # any time too
    if _FULL.search(text) or _DAY_WORD.search(text) or _AGO.search(text):
        return None, False
    return None, text.strip() not in _JUST_NOW and not _MONTH_DAY.search(text)


def _last(
    pattern: re.Pattern[str], text: str, build: Callable[[re.Match[str]], datetime | None]
) -> datetime | None:
    result = None
    for m in pattern.finditer(text):
        result = build(m) or result
    return result


def _clock(m: re.Match[str]) -> tuple[int, int, int] | None:
    if m.group("H") is None:
        return 0, 0, 0
    h, mi, s = int(m.group("H")), int(m.group("M")), int(m.group("S") or 0)
    return (h, mi, s) if h < 24 and mi < 60 and s < 60 else None


def _offset(value: str | None, default: tzinfo) -> tzinfo:
    if not value:
        return default
    if value == "Z":
        return UTC
    sign = -1 if value[0] == "-" else 1
    digits = value[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _full_date(text: str, now: datetime | None, tz: tzinfo) -> datetime | None:
    def build(m: re.Match[str]) -> datetime | None:
        clock = _clock(m)
        if clock is None:
            return None
        try:
            when = datetime(int(m.group("y")), int(m.group("m")), int(m.group("d")), *clock)
        except ValueError:
            return None
        return when.replace(tzinfo=_offset(m.group("off"), tz))

    return _last(_FULL, text, build)


def _month_day(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    def build(m: re.Match[str]) -> datetime | None:
        clock = _clock(m)
        if clock is None:
            return None
        month, day = int(m.group("m")), int(m.group("d1") or m.group("d2"))
        for year in (now.year, now.year - 1):
            try:
                when = datetime(year, month, day, *clock, tzinfo=tz)
            except ValueError:
                continue  # 2-29 in a common year, 13-01, ...
            if when <= now + FUTURE_SLACK:
                return when
        return None

    return _last(_MONTH_DAY, text, build)


def _day_word(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    def build(m: re.Match[str]) -> datetime | None:
        # a bare "今天" inside a headline ("今天，我市…") is not a date; "今天 09:30" is
        if m.group("H") is None and text.strip() != m.group("word"):
            return None
        clock = _clock(m)
        if clock is None:
            return None
        day = now.date() - timedelta(days=_DAYS_BACK[m.group("word")])
        return datetime(day.year, day.month, day.day, *clock, tzinfo=tz)

    return _last(_DAY_WORD, text, build)


def _ago(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    m = _AGO.search(text)
    if m is not None:
        n = 0.5 if m.group("n") == "半" else int(m.group("n"))
        return (now - n * _UNITS[m.group("unit")]).replace(microsecond=0)
    if text.strip() in _JUST_NOW:  # only as the whole field: headlines start with "刚刚，"
        return now.replace(microsecond=0)
    return None


#: No post a reader judges was made before this: a number dated earlier is no timestamp.
_EPOCH_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)


def _epoch_digits(text: str) -> str | None:
    """``text`` as Unix seconds (10 digits) or milliseconds (13), or None."""
    digits = text.strip()
    return digits if digits.isdigit() and len(digits) in (10, 13) else None


def from_epoch_text(text: str, *, now: datetime) -> datetime | None:
    """Unix seconds (10 digits) or milliseconds (13) written as text — a 公众号 album's
    ``.js_article_create_time``, a ``data-create_time`` attribute — as aware UTC; None for
    anything else, or for a time before 2000 or more than a day after ``now``."""
    digits = _epoch_digits(text)
    if digits is None:
        return None
    when = datetime.fromtimestamp(int(digits) / (1000 if len(digits) == 13 else 1), UTC)
    if when < _EPOCH_FLOOR or when > localize(now) + FUTURE_SLACK:
        return None
    return when


#: Ids that carry their time: a MongoDB ObjectId (Xiaohongshu's note ids) is 24 hex digits
#: whose first 8 are the Unix second it was made.
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
#: No platform that uses them made a post before this: an id dated earlier is not an ObjectId.
_OBJECT_ID_EPOCH = datetime(2010, 1, 1, tzinfo=UTC)


def from_object_id(ident: str, *, now: datetime) -> datetime | None:
    """When an ObjectId-shaped ``ident`` was made, as aware UTC; None when ``ident`` is not
    one, or its time is before 2010 or more than a day ahead of ``now`` (not a real id)."""
    if not _OBJECT_ID.fullmatch(ident or ""):
        return None
    when = datetime.fromtimestamp(int(ident[:8], 16), UTC)
    if when < _OBJECT_ID_EPOCH or when > localize(now) + FUTURE_SLACK:
        return None
    return when
