"""The report's tables as typed values, shared by every format.

A cell keeps what it is — a count, a rate, a change in percentage points, a time, a day, a
deadline — so the XLSX can store numbers and dates with a format (they sort and sum) while
CSV, HTML and DOCX print the same value as text (``text``). Nothing here knows a format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from monitor import timefmt
from monitor.report.model import GroupRow, ProblemRow, Report, Totals, UnjudgedRow, cn_date

NONE = "—"
# characters XML 1.0 cannot hold (openpyxl and python-docx refuse them): a scraped name with
# one is shown with the character spelled out, so nothing is hidden and the file is written
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def visible(s: str) -> str:
    """``s`` with the characters XML cannot hold written as ``\\x0b``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}", s)


@dataclass(frozen=True)
class Pct:
    """A rate, 0..1 (None: nothing to divide by)."""

    value: float | None


@dataclass(frozen=True)
class PP:
    """A change of a rate, in percentage points (None: one side unknown)."""

    value: float | None


@dataclass(frozen=True)
class Delta:
    """A change of a count: +3, -1."""

    value: int


@dataclass(frozen=True)
class Deadline:
    """整改期限: a local day, or 立即整改."""

    day: date | None
    words: str  # 立即整改, 2026年12月7日前, —


@dataclass(frozen=True)
class Col:
    header: str
    width: float  # characters, for the XLSX (a CJK character counts two)
    wrap: bool = False


@dataclass
class Table:
    title: str
    cols: list[Col]
    rows: list[list[Any]]
    annex: str = ""  # its title as an annex or a printed page's header; "" = 《title》问题清单

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.cols]

    @property
    def annex_title(self) -> str:
        return self.annex or f"{self.title}问题清单"


def width(s: str) -> int:
    """A text's width in spreadsheet columns: a Chinese character takes two."""
    return sum(1 if c.isascii() else 2 for c in s)


def pct(x: float | None) -> str:
    return NONE if x is None else f"{x * 100:.2f}%"


def delta_pp(cur: float | None, prev: float | None) -> PP:
    return PP(None if cur is None or prev is None else (cur - prev) * 100)


def text(v: Any, tz: str = timefmt.DEFAULT_TZ) -> str:
    """A cell as CSV, HTML and DOCX print it."""
    if v is None:
        return NONE
    if isinstance(v, Pct):
        return pct(v.value)
    if isinstance(v, PP):
        return NONE if v.value is None else f"{v.value:+.2f} 个百分点"
    if isinstance(v, Delta):
        return f"{v.value:+d}"
    if isinstance(v, Deadline):
        return v.words
    if isinstance(v, datetime):
        return timefmt.shown(v, tz)
    if isinstance(v, date):
        return cn_date(v)
    return str(v)


def is_number(v: Any) -> bool:
    """Right-aligned where a table is printed."""
    return isinstance(v, int | float | Pct | PP | Delta) and not isinstance(v, bool)


TOTAL_COLS = [
    Col("统计范围", 30),
    Col("纳入统计账号数", 16),
    Col("已检查数", 10),
    Col("检查率", 10),
    Col("不合格数", 10),
    Col("合格率", 10),
    Col("扣分账号数", 12),
    Col("无法判定数", 12),
]
CHANGE_COL = Col("合格率较上期", 18)

# the account a line is about: the problem list and the 无法判定 list open alike
_ACCOUNT_COLS = [
    Col("序号", 5),
    Col("新媒体类型", 11, wrap=True),
    Col("新媒体名称", 18, wrap=True),
    Col("主办单位", 18, wrap=True),
    Col("所属地区/部门", 14, wrap=True),
]

LIST_COLS = [
    *_ACCOUNT_COLS,
    Col("问题类别", 14, wrap=True),
    Col("问题", 28, wrap=True),
    Col("依据规则", 22, wrap=True),
    Col("检查时间", 19),
    Col("检查时更新日期", 19),
    Col("证据", 18, wrap=True),
    Col("整改期限", 15),
    Col("整改情况", 11),
]


UNJUDGED_COLS = [
    *_ACCOUNT_COLS,
    Col("无法判定的原因", 40, wrap=True),
    Col("本期巡查次数", 12),
    Col("最近巡查时间", 19),
    Col("证据", 18, wrap=True),
]


def totals_cells(name: str, t: Totals) -> list[Any]:
    return [
        name,
        t.accounts,
        t.checked,
        Pct(t.check_ratio),
        t.unqualified,
        Pct(t.pass_rate),
        t.deducted,
        t.unjudged,
    ]


def group_cells(r: GroupRow) -> list[Any]:
    prev = r.previous.pass_rate if r.previous else None
    return [*totals_cells(r.label, r.totals), delta_pp(r.totals.pass_rate, prev)]


def change_table(report: Report) -> Table:
    """This period beside the previous one. With nothing checked then, the text says
    "本期不作比较", and so does the table: "—" where "0" and "+31" would compare with nothing."""
    t, p = report.totals, report.previous
    cols = [Col("项目", 30), Col(report.period.label, 16), Col(report.period.previous().label, 16)]
    compared = bool(p.checked)

    def row(name: str, cur: Any, prev: Any, change: Any) -> list[Any]:
        return [name, cur, prev if compared else None, change if compared else None]

    return Table(
        "与上期比较",
        [*cols, Col("变化", 18)],
        [
            row("纳入统计账号数", t.accounts, p.accounts, Delta(t.accounts - p.accounts)),
            row("已检查数", t.checked, p.checked, Delta(t.checked - p.checked)),
            row(
                "检查率",
                Pct(t.check_ratio),
                Pct(p.check_ratio),
                delta_pp(t.check_ratio, p.check_ratio),
            ),
            row("不合格数", t.unqualified, p.unqualified, Delta(t.unqualified - p.unqualified)),
            row("合格率", Pct(t.pass_rate), Pct(p.pass_rate), delta_pp(t.pass_rate, p.pass_rate)),
            row("无法判定数", t.unjudged, p.unjudged, Delta(t.unjudged - p.unjudged)),
        ],
    )


def summary_tables(report: Report) -> list[Table]:
    """总体情况, 与上期比较, 按平台, 按地区/部门."""
    scope = report.unit_name or "全部单位"
    by = [Col("平台", 30), *TOTAL_COLS[1:], CHANGE_COL]
    where = [Col("地区/部门", 30), *TOTAL_COLS[1:], CHANGE_COL]
    return [
        Table("总体情况", TOTAL_COLS, [totals_cells(scope, report.totals)]),
        change_table(report),
        Table("按平台", by, [group_cells(r) for r in report.by_platform]),
        Table("按地区/部门", where, [group_cells(r) for r in report.by_unit]),
    ]


def problem_cells(i: int, r: ProblemRow, tz: str) -> list[Any]:
    return [
        i,
        r.platform_label,
        r.account_name,
        r.owner_name,
        r.group_name or NONE,
        r.category,
        r.problem,
        r.rule or NONE,
        r.checked_at,
        r.latest_post_at,
        r.evidence or NONE,
        Deadline(r.rectify_by(tz), r.rectify_text(tz)),
        r.status,
    ]


def unjudged_cells(i: int, r: UnjudgedRow) -> list[Any]:
    return [
        i,
        r.platform_label,
        r.account_name,
        r.owner_name,
        r.group_name or NONE,
        r.reason,
        r.looks,
        r.last_at,
        r.evidence or NONE,
    ]


def unjudged_table(report: Report) -> Table:
    """无法判定: accounts under patrol that no look of the period could judge, and why."""
    rows = [unjudged_cells(i, r) for i, r in enumerate(report.unjudged, 1)]
    return Table("无法判定", UNJUDGED_COLS, rows, annex="无法判定账号清单")


def list_tables(report: Report, tz: str) -> list[Table]:
    """单项否决, 扣分 and 无法判定."""
    return [
        *(
            Table(title, LIST_COLS, [problem_cells(i, r, tz) for i, r in enumerate(rows, 1)])
            for title, rows in (("单项否决", report.vetoes), ("扣分", report.deductions))
        ),
        unjudged_table(report),
    ]


def definitions(report: Report) -> list[str]:
    p = report.period
    return [
        f"统计周期：{p.label}（{p.first_day.isoformat()} 至 {p.last_day.isoformat()}，"
        f"{timefmt.zone_label(p.tz)}）。",
        "纳入统计账号：本期内至少巡查过一次的账号；已检查：本期内至少一次检查能够作出判定"
        "（读到带发布时间的内容，或平台明确显示没有内容、只有置顶内容，或确认账号已不存在）。",
        "无法判定：本期每次巡查都未能作出判定的账号（平台未向巡查展示内容列表、读不出发布时间、"
        "被平台拦截或抓取失败等），按巡查所见的原因单独列出；既不算合格，也不算不合格，"
        "不计入合格率，不作单项否决。",
        "单项否决：本期某次检查时，按账号适用规则已超过规定天数（全国标准 14 天）未更新"
        "（置顶内容不计），或平台明确显示账号没有任何内容，或本期内存在单项否决级问题；"
        "不合格数即单项否决账号数，合格率 =（已检查数 − 不合格数）÷ 已检查数，"
        "无法判定的账号不在其中。",
        "扣分：本期内读到内容的账号存在的严重问题或预警（不含“即将超期”预警，"
        "不含抓取失败、被拦截、无法读取、无法判断更新时间等巡查系统自身的问题）。",
        "整改期限：单项否决和超期未更新须立即整改；其他问题为发现之日起按问题类别给出的期限"
        "（个人信息泄露、领导姓名职务错误、账号被盗用 24 小时，商业广告等 72 小时）。"
        "整改情况为统计截止时的情况。",
        "本通报只依据本期结束前保存的快照和问题记录生成，任何时候重新生成结果相同；"
        "账号名称、平台和主办单位取登记表当前信息。",
        *report.notes,
    ]
