"""Report periods: quarters (``2026Q4``), also months (``2026-11``) and years (``2026``).

Inspections speak of local quarters, so boundaries are Asia/Shanghai midnights, handed out
as aware UTC (2026Q4 starts 2026-09-30 16:00 UTC). ``end`` is exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_QUARTER = re.compile(r"^\s*(\d{4})\s*[-_ ]?\s*[Qq]\s*([1-4])\s*$")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


class PeriodError(ValueError):
    """A period the user typed that cannot be understood (message in Chinese)."""


@dataclass(frozen=True)
class Period:
    kind: str  # quarter / month / year
    year: int
    number: int  # quarter 1-4, month 1-12, 1 for a year
    tz: str = "Asia/Shanghai"

    @classmethod
    def parse(cls, text: str, tz: str = "Asia/Shanghai") -> Period:
        if m := _QUARTER.match(text or ""):
            p = cls("quarter", int(m[1]), int(m[2]), tz)
        elif (m := _MONTH.match(text or "")) and 1 <= int(m[2]) <= 12:
            p = cls("month", int(m[1]), int(m[2]), tz)
        elif m := _YEAR.match(text or ""):
            p = cls("year", int(m[1]), 1, tz)
        else:
            raise PeriodError(
                f"无法识别的统计周期 '{text}'：请写成季度 2026Q4，或月份 2026-11，或年份 2026"
            )
        if not 2000 <= p.year <= 2100:
            raise PeriodError(f"统计周期 '{text}' 的年份超出范围（2000–2100）")
        return p

    @classmethod
    def containing(cls, when: datetime, tz: str = "Asia/Shanghai") -> Period:
        d = when.astimezone(ZoneInfo(tz)).date()
        return cls("quarter", d.year, (d.month - 1) // 3 + 1, tz)

    @property
    def first_day(self) -> date:
        if self.kind == "quarter":
            return date(self.year, 3 * self.number - 2, 1)
        if self.kind == "month":
            return date(self.year, self.number, 1)
        return date(self.year, 1, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def _utc(self, d: date) -> datetime:
        return datetime.combine(d, time(0), ZoneInfo(self.tz)).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self._utc(self.first_day)

    @property
    def end(self) -> datetime:
        """Exclusive: the first moment of the next period."""
        return self.next().start

    def _shift(self, step: int) -> Period:
        if self.kind == "year":
            return Period("year", self.year + step, 1, self.tz)
        size = 4 if self.kind == "quarter" else 12
        n = self.year * size + (self.number - 1) + step
        return Period(self.kind, n // size, n % size + 1, self.tz)

    def previous(self) -> Period:
        return self._shift(-1)

    def next(self) -> Period:
        return self._shift(1)

    def __str__(self) -> str:
        if self.kind == "quarter":
            return f"{self.year}Q{self.number}"
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        return str(self.year)

    @property
    def label(self) -> str:
        """Chinese name: 2026年第四季度."""
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.number - 1]}季度"
        if self.kind == "month":
            return f"{self.year}年{self.number}月"
        return f"{self.year}年"
