"""The Chinese working-day calendar, on the real 2025 and 2026 State Council arrangements."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
import pytest

from probes.checks.calendar import (
    SHIPPED_FILE,
    CalendarError,
    WorkCalendar,
    load_calendar_file,
)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def _days(year: int) -> list[date]:
    d, out = date(year, 1, 1), []
    while d.year == year:
        out.append(d)
        d += timedelta(days=1)
    return out


# -- the real arrangements ------------------------------------------------------------------


def test_2025_national_day_and_mid_autumn(cal: WorkCalendar) -> None:
    # 10月1日至8日放假; 9月28日（周日）、10月11日（周六）上班
    for day in range(1, 9):
        assert not cal.is_workday(date(2025, 10, day)), f"2025-10-{day:02} is a holiday"
    assert cal.is_workday(date(2025, 9, 28))  # Sunday, make-up working day
    assert cal.is_workday(date(2025, 10, 11))  # Saturday, make-up working day
    assert not cal.is_workday(date(2025, 9, 27))  # an ordinary Saturday
    assert not cal.is_workday(date(2025, 10, 12))  # an ordinary Sunday
    assert cal.is_workday(date(2025, 9, 30)) and cal.is_workday(date(2025, 10, 9))


def test_2025_national_day_walks(cal: WorkCalendar) -> None:
    assert cal.next_workday(date(2025, 9, 30)) == date(2025, 10, 9)
    assert cal.previous_workday(date(2025, 10, 9)) == date(2025, 9, 30)
    assert cal.next_workday(date(2025, 9, 26)) == date(2025, 9, 28)  # Fri -> make-up Sunday
    assert cal.next_workday(date(2025, 10, 10)) == date(2025, 10, 11)  # Fri -> make-up Saturday
    assert cal.next_workday(date(2025, 10, 11)) == date(2025, 10, 13)
    assert cal.previous_workday(date(2025, 9, 29)) == date(2025, 9, 28)
    assert cal.next_workday(date(2025, 10, 9), inclusive=True) == date(2025, 10, 9)
    assert cal.next_workday(date(2025, 10, 1), inclusive=True) == date(2025, 10, 9)
    assert cal.previous_workday(date(2025, 10, 5), inclusive=True) == date(2025, 9, 30)
    # Mon 29, Tue 30, (holiday), Thu 9, Fri 10, make-up Sat 11; Sun 12 off
    assert cal.workdays_between(date(2025, 9, 29), date(2025, 10, 12)) == 5
    assert cal.workdays_between(date(2025, 10, 1), date(2025, 10, 8)) == 0
    assert cal.workdays_between(date(2025, 10, 9), date(2025, 10, 9)) == 1
    assert cal.workdays_between(date(2025, 10, 12), date(2025, 9, 29)) == 0


def test_2026_spring_festival(cal: WorkCalendar) -> None:
    # 2月15日至23日放假; 2月14日（周六）、2月28日（周六）上班
    for day in range(15, 24):
        assert not cal.is_workday(date(2026, 2, day)), f"2026-02-{day} is a holiday"
    assert cal.is_workday(date(2026, 2, 14)) and cal.is_workday(date(2026, 2, 28))
    assert cal.next_workday(date(2026, 2, 14)) == date(2026, 2, 24)
    # Sat 14, then Tue 24 .. Fri 27, Sat 28
    assert cal.workdays_between(date(2026, 2, 14), date(2026, 2, 28)) == 6


def test_2026_national_day(cal: WorkCalendar) -> None:
    # 9月25日至27日中秋; 10月1日至7日国庆; 9月20日（周日）、10月10日（周六）上班
    assert cal.is_workday(date(2026, 9, 20))
    assert not cal.is_workday(date(2026, 9, 25))  # a Friday, Mid-Autumn
    for day in range(1, 8):
        assert not cal.is_workday(date(2026, 10, day))
    assert cal.is_workday(date(2026, 10, 10))
    assert cal.next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert cal.previous_workday(date(2026, 9, 28)) == date(2026, 9, 24)


@pytest.mark.parametrize("year", [2025, 2026])
def test_shipped_file_agrees_with_holidays_library(year: int) -> None:
    shipped = load_calendar_file(SHIPPED_FILE)[year]
    lib = holidays.China(years=year)
    differ = [d for d in _days(year) if shipped.is_workday(d) != lib.is_working_day(d)]
    assert differ == []


@pytest.mark.parametrize("year", [2025, 2026])
def test_shipped_file_agrees_with_chinesecalendar(year: int) -> None:
    chinese_calendar = pytest.importorskip("chinese_calendar")
    shipped = load_calendar_file(SHIPPED_FILE)[year]
    differ = [d for d in _days(year) if shipped.is_workday(d) != chinese_calendar.is_workday(d)]
    assert differ == []


def test_shipped_file_alone_knows_2025_and_2026() -> None:
    files_only = WorkCalendar(use_library=False)
    assert files_only.has_data(2025) and files_only.has_data(2026)
    assert files_only.is_workday(date(2025, 10, 11))
    assert not files_only.has_data(2024)  # known to the library only
    assert WorkCalendar().has_data(2024)
    assert files_only.guessed_years == []


def test_datetime_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError):
        cal.is_workday(datetime(2025, 10, 1, 12))


# -- unknown years: reported, not guessed -----------------------------------------------------


def test_missing_years_reports_2027_files_only() -> None:
    cal = WorkCalendar(use_library=False)
    assert cal.missing_years(date(2026, 11, 24)) == [2027]
    assert cal.missing_years(date(2025, 6, 1)) == []
    assert not cal.has_data(2027)
    assert cal.source(2027) is None


def test_missing_years_reports_2027_with_library() -> None:
    cal = WorkCalendar()
    if any(d.year == 2027 for d in holidays.China(years=2027).weekend_workdays):
        pytest.skip("this holidays release carries 2027: the year is known now")
    assert cal.missing_years(date(2026, 11, 24)) == [2027]


def test_unknown_year_falls_back_and_records_the_guess() -> None:
    cal = WorkCalendar(use_library=False)
    assert cal.guessed_years == []
    assert not cal.is_workday(date(2027, 10, 1))  # statutory National Day
    assert not cal.is_workday(date(2027, 10, 9))  # a Saturday: no make-up day is invented
    assert cal.is_workday(date(2027, 10, 11))  # an ordinary Monday
    assert cal.guessed_years == [2027]
    assert not cal.has_data(2027)  # answering is not knowing
    assert cal.missing_years(date(2027, 1, 5)) == [2027, 2028]


def test_extension_file_adds_a_year(tmp_path: Path) -> None:
    f = tmp_path / "2027.toml"
    f.write_text(
        '[2027]\nsource = "test"\n'
        'holidays = ["2027-10-01..2027-10-07"]\nworkdays = [2027-09-26, "2027-10-09"]\n',
        encoding="utf-8",
    )
    cal = WorkCalendar(extra_files=[f], use_library=False)
    assert cal.has_data(2027)
    assert cal.missing_years(date(2026, 11, 24)) == []
    assert cal.is_workday(date(2027, 9, 26)) and cal.is_workday(date(2027, 10, 9))
    assert not cal.is_workday(date(2027, 10, 4))
    assert cal.guessed_years == []
    assert str(f) in (cal.source(2027) or "")


def test_extension_files_win_over_shipped_data_and_each_other(tmp_path: Path) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    # a (fictional) amendment: 2025-10-09 also off
    first.write_text(
        '[2025]\nholidays = ["2025-10-01..2025-10-09"]\nworkdays = []\n', encoding="utf-8"
    )
    cal = WorkCalendar(extra_files=[first])
    assert not cal.is_workday(date(2025, 10, 9))
    assert not cal.is_workday(date(2025, 10, 11))  # the year is replaced, not merged
    assert cal.is_workday(date(2026, 2, 14))  # other years untouched
    second.write_text(
        '[2025]\nholidays = ["2025-10-01..2025-10-08"]\nworkdays = [2025-10-11]\n',
        encoding="utf-8",
    )
    cal = WorkCalendar(extra_files=[first, second])
    assert cal.is_workday(date(2025, 10, 9)) and cal.is_workday(date(2025, 10, 11))


@pytest.mark.parametrize(
    ("content", "key", "english"),
    [
        ('[2027]\nholidays = ["2027-02-30"]\nworkdays = []\n', "[2027].holidays[0]", "not a date"),
        ("[2027]\nholidays = [2027-10-01]\n", "[2027].workdays", "missing key"),
        ("[2027]\nholidays = []\nworkday = []\nworkdays = []\n", "[2027].workday", "unknown key"),
        ("[2027]\nholidays = []\nworkdays = [2027-10-08]\n", "[2027].workdays", "not a Saturday"),
        ("[2027]\nholidays = [2026-12-31]\nworkdays = []\n", "[2027].holidays[0]", "not in 2027"),
        ('[2027]\nholidays = "2027-10-01"\nworkdays = []\n', "[2027].holidays", "list of dates"),
        (
            '[2027]\nholidays = ["2027-10-07..2027-10-01"]\nworkdays = []\n',
            "[2027].holidays[0]",
            "range ends before",
        ),
        (
            "[2027]\nholidays = [2027-10-09]\nworkdays = [2027-10-09]\n",
            "[2027]",
            "both holidays and workdays",
        ),
        ("[year2027]\nholidays = []\nworkdays = []\n", "year2027", "keys must be years"),
        ("[2027]\nholidays = [2027-10-01T08:00:00]\nworkdays = []\n", "[2027].holidays[0]", "time"),
        ("[2027\nholidays = []\n", "", "not valid TOML"),
    ],
)
def test_malformed_extension_file(tmp_path: Path, content: str, key: str, english: str) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarError) as err:
        WorkCalendar(extra_files=[f])
    message = str(err.value)
    assert f"日历文件 {f}" in message  # Chinese, with the file
    assert f"calendar file {f}" in message  # English, with the file
    assert key in message
    assert english in message


def test_missing_extension_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match=r"文件不存在 / .*file not found"):
        WorkCalendar(extra_files=[tmp_path / "nope.toml"])


def test_next_years_gap_is_urgent_only_near_new_year() -> None:
    cal = WorkCalendar(use_library=False)  # the shipped file, which stops at 2026
    early = cal.gaps(date(2026, 12, 4), required_days=14)
    assert [(g.year, g.days_left, g.urgent) for g in early] == [(2027, 28, False)]
    near = cal.gaps(date(2026, 12, 18), required_days=14)
    assert [(g.year, g.days_left, g.urgent) for g in near] == [(2027, 14, True)]
    begun = cal.gaps(date(2027, 1, 5), required_days=14)
    assert [(g.year, g.urgent) for g in begun] == [(2027, True), (2028, False)]
    assert "国务院办公厅关于2027年部分节假日安排的通知" in early[0].describe()
    assert "2027 年已开始" in begun[0].describe()


def test_the_documented_calendar_file_format_loads(tmp_path: Path) -> None:
    """The example in docs/config.md is a working file, not a sketch."""
    doc = (Path(__file__).parent.parent / "docs" / "config.md").read_text(encoding="utf-8")
    section = doc[doc.index("## `[calendar]`") :]
    start = section.index("```toml") + len("```toml")
    example = section[start : section.index("```", start)]
    path = tmp_path / "calendar-2027.toml"
    path.write_text(example, encoding="utf-8")
    years = load_calendar_file(path)
    arrangement = years[2027]
    assert date(2027, 2, 10) in arrangement.holidays and date(2027, 2, 14) in arrangement.workdays
    cal = WorkCalendar(extra_files=[path], use_library=False)
    assert cal.has_data(2027) and cal.is_workday(date(2027, 2, 14))
    assert not cal.gaps(date(2026, 12, 20), required_days=14)
