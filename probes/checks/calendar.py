"""Chinese working days: Mon–Fri, minus official holidays, plus make-up working days (调休).

Rules like "update every working day" depend on the State Council's yearly arrangement, which
moves weekends around (a Sunday can be a working day). Each year's arrangement comes from the
first source that knows it:

1. user extension files (``[calendar] extra_files``; a later file wins over an earlier one),
   so a unit can add next year as soon as the notice is published;
2. the shipped ``probes/data/calendar/cn.toml`` (reviewed against the official notices);
3. the ``holidays`` library, whose ``China`` class carries the arrangements (days off as
   holidays, make-up days in ``weekend_workdays``).

A year none of them knows is *unknown*: it is never treated as known. ``is_workday`` still
answers (Mon–Fri minus the statutory holidays the library lists, no 调休), but records the guess
so ``doctor`` and the log can say so.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import holidays
import structlog

log = structlog.get_logger(__name__)

SHIPPED_FILE = Path(__file__).resolve().parent.parent / "data" / "calendar" / "cn.toml"

_YEAR_KEYS = ("holidays", "workdays", "source", "note")
_SEARCH_LIMIT = 400  # days; no holiday period comes close: a loop guard, not a rule


class CalendarError(ValueError):
    """A calendar file a person can fix; the message names the file and the key."""


@dataclass(frozen=True)
class YearArrangement:
    """One year's official arrangement."""

    year: int
    holidays: frozenset[date]  # days off, weekends inside a holiday period included
    workdays: frozenset[date]  # make-up working days (always a Saturday or Sunday)
    source: str

    def is_workday(self, d: date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays


@dataclass(frozen=True)
class CalendarGap:
    """A year whose arrangement is unknown, and whether it is needed already."""

    year: int
    days_left: int  # until its New Year's Day; 0 once it has begun
    urgent: bool

    def describe(self) -> str:
        """What to do, in the operator's terms (doctor, the daemon's log)."""
        if self.days_left == 0:
            when = f"{self.year} 年已开始"
        else:
            when = f"距 {self.year} 年还有 {self.days_left} 天"
        return (
            f"工作日历缺少 {self.year} 年的节假日与调休安排（{when}）：国务院办公厅每年约 10–12 月"
            f"在中国政府网（www.gov.cn）发布《国务院办公厅关于{self.year}年部分节假日安排的通知》，"
            "发布后请按其内容写入 [calendar] extra_files 指定的 TOML 文件"
            "（格式见 docs/config.md 的 [calendar] 一节），或升级 holidays 库"
        )


# -- calendar files -------------------------------------------------------------------------


def _fail(path: Path, key: str, zh: str, en: str) -> CalendarError:
    where = f"{path}: {key}" if key else str(path)
    return CalendarError(f"日历文件 {where}: {zh} / calendar file {where}: {en}")


def _dates(path: Path, year: int, key: str, value: Any) -> set[date]:
    """A list of TOML dates, "YYYY-MM-DD" strings or "YYYY-MM-DD..YYYY-MM-DD" ranges."""
    if not isinstance(value, list):
        raise _fail(path, f"[{year}].{key}", "应为日期列表", "must be a list of dates")
    out: set[date] = set()
    for i, item in enumerate(value):
        where = f"[{year}].{key}[{i}]"
        if isinstance(item, datetime):
            raise _fail(
                path, where, f"应为日期而非时间: {item}", f"expected a date, not a time: {item}"
            )
        if isinstance(item, date):
            first = last = item
        elif isinstance(item, str):
            start, sep, end = item.partition("..")
            try:
                first = date.fromisoformat(start.strip())
                last = date.fromisoformat(end.strip()) if sep else first
            except ValueError:
                raise _fail(
                    path,
                    where,
                    f"无法识别的日期 '{item}'（应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD）",
                    f"not a date '{item}' (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)",
                ) from None
            if last < first:
                raise _fail(
                    path, where, f"区间首尾颠倒 '{item}'", f"range ends before it starts '{item}'"
                )
        else:
            raise _fail(path, where, f"应为日期: {item!r}", f"expected a date: {item!r}")
        if first.year != year or last.year != year:
            raise _fail(path, where, f"日期 {item} 不在 {year} 年", f"date {item} is not in {year}")
        out.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return out


def load_calendar_file(path: Path) -> dict[int, YearArrangement]:
    """Read one calendar file (format: see ``probes/data/calendar/cn.toml``)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(path, "", "文件不存在", "file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(path, "", f"无法读取: {e}", f"cannot be read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise _fail(path, "", f"不是有效的 TOML: {e}", f"not valid TOML: {e}") from None

    years: dict[int, YearArrangement] = {}
    for key, table in data.items():
        if not (key.isdigit() and len(key) == 4):
            raise _fail(path, key, "键应为年份，如 [2027]", "keys must be years, e.g. [2027]")
        years[int(key)] = _year(path, key, table)
    return years


def _year(path: Path, key: str, table: Any) -> YearArrangement:
    """One year's table of a calendar file: its keys, and days that can be what they say."""
    year = int(key)
    if not isinstance(table, dict):
        raise _fail(path, key, f"应为表 [{year}]", f"must be a table [{year}]")
    for k in table:
        if k not in _YEAR_KEYS:
            raise _fail(
                path,
                f"[{year}].{k}",
                f"未知的键（可用: {', '.join(_YEAR_KEYS)}）",
                f"unknown key (expected one of: {', '.join(_YEAR_KEYS)})",
            )
    for k in ("holidays", "workdays"):
        if k not in table:
            raise _fail(
                path,
                f"[{year}].{k}",
                "缺少此键（没有调休上班日时写 workdays = []）",
                "missing key (write workdays = [] for a year without make-up days)",
            )
    off = _dates(path, year, "holidays", table["holidays"])
    work = _dates(path, year, "workdays", table["workdays"])
    for d in sorted(work):
        if d.weekday() < 5:
            raise _fail(
                path,
                f"[{year}].workdays",
                f"{d} 不是周六或周日：调休上班日只会是周末",
                f"{d} is not a Saturday or Sunday: make-up working days are weekend days",
            )
    if both := sorted(off & work):
        raise _fail(
            path,
            f"[{year}]",
            f"{both[0]} 同时列在 holidays 和 workdays 中",
            f"{both[0]} is listed in both holidays and workdays",
        )
    source = table.get("source", "")
    if not isinstance(source, str):
        raise _fail(path, f"[{year}].source", "应为字符串", "must be a string")
    return YearArrangement(
        year, frozenset(off), frozenset(work), source=f"{path} [{year}] {source}".strip()
    )


# -- the calendar ---------------------------------------------------------------------------


class WorkCalendar:
    """Answers "is this a Chinese working day?", and knows which years it only guesses."""

    def __init__(self, extra_files: Sequence[Path] = (), *, use_library: bool = True) -> None:
        """``extra_files`` win over the shipped file. ``use_library=False`` stops the library
        from being a source of arrangements (only the files count as known); its statutory
        holidays still serve the fallback. For tests, and ``doctor`` comparing sources."""
        self._years: dict[int, YearArrangement] = {}
        for path in [SHIPPED_FILE, *(Path(p) for p in extra_files)]:
            self._years.update(load_calendar_file(path))  # later files win, year by year
        self._use_library = use_library
        self._library: dict[tuple[int, bool], holidays.HolidayBase] = {}
        self._guessed: set[int] = set()

    # -- what is known ----------------------------------------------------------------------

    def _lib(self, year: int, observed: bool = True) -> holidays.HolidayBase:
        key = (year, observed)
        if key not in self._library:
            self._library[key] = holidays.China(years=year, observed=observed)
        return self._library[key]

    def _library_knows(self, year: int) -> bool:
        # the library lists make-up days only for years whose notice it carries
        return self._use_library and any(d.year == year for d in self._lib(year).weekend_workdays)

    def has_data(self, year: int) -> bool:
        """True only if the year's 调休 arrangement is known, never for a guessed year."""
        return year in self._years or self._library_knows(year)

    def source(self, year: int) -> str | None:
        """Where the year's arrangement comes from, or None if it is unknown."""
        if year in self._years:
            return self._years[year].source
        if self._library_knows(year):
            return f"holidays {holidays.__version__} (China)"
        return None

    def missing_years(self, today: date) -> list[int]:
        """This year and next, where unknown: what ``doctor`` asks the operator to add."""
        return [y for y in (today.year, today.year + 1) if not self.has_data(y)]

    def gaps(self, today: date, *, required_days: int) -> list[CalendarGap]:
        """The years :meth:`missing_years` lists, each with how soon it is needed.

        This year's arrangement is needed now. Next year's is published by the State Council
        in the last months of the year, so in December it is often not out yet: it is only
        ``urgent`` once New Year's Day is at most ``required_days`` away.
        """
        out = []
        for year in self.missing_years(today):
            days_left = (date(year, 1, 1) - today).days
            out.append(CalendarGap(year, max(days_left, 0), days_left <= required_days))
        return out

    @property
    def guessed_years(self) -> list[int]:
        """Years ``is_workday`` has answered by guess so far."""
        return sorted(self._guessed)

    # -- days -------------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        if isinstance(d, datetime):  # its date depends on a time zone: the caller decides
            raise TypeError("is_workday takes a local date, not a datetime")
        year = d.year
        if year in self._years:
            return self._years[year].is_workday(d)
        if self._library_knows(year):
            return self._lib(year).is_working_day(d)
        if year not in self._guessed:
            self._guessed.add(year)
            log.warning(
                "calendar_year_unknown",
                year=year,
                hint="add the year's holidays and make-up days to a [calendar] extra_files file",
            )
        # statutory days only: the observed shifts the library estimates are exactly the 调休
        # arrangement that is not known yet
        return d.weekday() < 5 and d not in self._lib(year, observed=False)

    def next_workday(self, d: date, inclusive: bool = False) -> date:
        return self._walk(d, 1, inclusive)

    def previous_workday(self, d: date, inclusive: bool = False) -> date:
        return self._walk(d, -1, inclusive)

    def _walk(self, d: date, step: int, inclusive: bool) -> date:
        day = d if inclusive else d + timedelta(days=step)
        for _ in range(_SEARCH_LIMIT):
            if self.is_workday(day):
                return day
            day += timedelta(days=step)
        raise ValueError(f"no working day within {_SEARCH_LIMIT} days of {d}")

    def workdays_between(self, a: date, b: date) -> int:
        """Working days from ``a`` to ``b``, both included; 0 if ``b`` is before ``a``."""
        return sum(self.is_workday(a + timedelta(days=n)) for n in range((b - a).days + 1))
