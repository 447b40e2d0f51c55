"""The annual sheet (年度报表): one row per account for a year, the figures a 政务新媒体
annual report asks of each account — name, platform, owner unit, posts in the year (originals
and reposts), followers at the year's end, and the year's findings and their 整改: opened,
resolved, overdue (a 整改期限 in the year not met), still open at the year's end.

Posts and followers come from :mod:`monitor.report.activity` (each post once, by id). The
patrol's own problems (暂时无法检查) are not the unit's and are not counted. Written as XLSX
(numbers as numbers) and CSV (UTF-8 with BOM, so Excel opens it in Chinese); the activity page's
download uses the same writer (:func:`xlsx_bytes`).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from monitor.report.activity import Activity, activity
from monitor.report.period import Period
from monitor.report.snapshots import as_utc
from monitor.report.xlsx import FORMULA_START
from monitor.show.labels import PLATFORM, label
from monitor.store.models import Finding
from probes.checks.kinds import PATROL_KINDS, category_label, fix_deadline

HEADERS = (
    "账号编号", "账号名称", "平台", "主办单位", "状态", "年内发布", "其中原创", "其中转发",
    "年末粉丝数", "最近发布", "发现问题", "已整改", "逾期未整改", "年末未整改", "问题类别",
    "可读月数",
)  # fmt: skip


@dataclass
class AnnualRow:
    act: Activity
    opened: int = 0
    resolved: int = 0
    overdue: int = 0
    open_at_end: int = 0
    categories: str = ""

    def cells(self, tz: str) -> list[Any]:
        a = self.act
        last = a.last_post_at
        seen = sum(m.seen for m in a.months)
        # no month of the year could be read (a list never shown, posts without dates): the
        # posts are unknown, not 0
        posts = (
            (a.posts, sum(m.originals for m in a.months), sum(m.reposts for m in a.months))
            if seen or a.posts
            else (None, None, None)
        )
        return [
            a.account_id, a.name, label(PLATFORM, a.platform), a.owner_name,
            "已关停" if a.status == "closed" else "在用", *posts,
            a.followers, _local_day(last, tz) if last else None,
            self.opened, self.resolved, self.overdue, self.open_at_end, self.categories, seen,
        ]  # fmt: skip


def _local_day(when: datetime, tz: str) -> date:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(tz)).date()


def annual_rows(
    session: Session, year: int, now: datetime, tz: str, codes: set[str] | None = None
) -> list[AnnualRow]:
    """The annual sheet of ``year`` for the accounts of ``codes``' units (None: all)."""
    y = Period("year", year, 1, tz)
    end = min(y.end, now)
    rows = {
        a.account_id: AnnualRow(a)
        for a in activity(session, y.first_day, y.last_day, now, tz, codes)
    }
    if not rows:
        return []
    q = (
        select(Finding)
        .where(col(Finding.account_id).in_(sorted(rows)))
        .where(col(Finding.opened_at) < end)
        .where((col(Finding.resolved_at).is_(None)) | (col(Finding.resolved_at) >= y.start))
    )
    kinds: dict[str, Counter[str]] = {k: Counter() for k in rows}
    for f in session.exec(q).all():
        if f.kind in PATROL_KINDS:
            continue
        row = rows[f.account_id]
        opened = as_utc(f.opened_at)
        resolved = as_utc(f.resolved_at) if f.resolved_at else None
        if opened >= y.start:
            row.opened += 1
            kinds[f.account_id][category_label(f.kind)] += 1
        if resolved is not None and y.start <= resolved < end:
            row.resolved += 1
        if resolved is None or resolved >= end:
            row.open_at_end += 1
        deadline = as_utc(f.deadline) if f.deadline else fix_deadline(f.kind, opened)
        missed = deadline is not None and (resolved is None or resolved > deadline)
        if missed and deadline is not None and y.start <= deadline < end:
            row.overdue += 1
    for code, row in rows.items():
        row.categories = "；".join(f"{c} {n}" for c, n in kinds[code].most_common())
    return list(rows.values())


def _csv_cell(v: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading ' (docs/report.md)."""
    if v is None:
        return ""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def csv_bytes(headers: tuple[str, ...], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    w.writerows([_csv_cell(v) for v in r] for r in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(sheets: list[tuple[str, str, tuple[str, ...], list[list[Any]]]]) -> bytes:
    """An XLSX of (sheet name, title line, headers, rows): numbers and days as such, the
    header frozen and filtered so the sheet sorts by any column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from monitor.report.tables import visible

    wb = Workbook()
    wb.remove(wb.active)
    for name, title, headers, rows in sheets:
        ws = wb.create_sheet(name)
        ws.append([title])
        ws["A1"].font = Font(bold=True, size=13)
        ws["A1"].data_type = "s"
        ws.append(list(headers))
        for c in ws[2]:
            c.font = Font(bold=True)
        for r in rows:
            ws.append([visible(v) if isinstance(v, str) else v for v in r])
            for c in ws[ws.max_row]:
                if isinstance(c.value, date):
                    c.number_format = "yyyy-mm-dd"
                elif isinstance(c.value, str):
                    c.data_type = "s"  # never a formula, whatever the text
                    c.quotePrefix = c.value.startswith(FORMULA_START)
        ws.freeze_panes = "A3"
        ws.auto_filter.ref = f"A2:{get_column_letter(len(headers))}{max(ws.max_row, 2)}"
        for i, h in enumerate(headers, 1):
            width = max([len(h) * 2, *(len(str(r[i - 1] or "")) * 2 for r in rows[:200])])
            ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 40)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def annual_bytes(rows: list[AnnualRow], year: int, fmt: str, tz: str, scope: str) -> bytes:
    cells = [r.cells(tz) for r in rows]
    if fmt == "csv":
        return csv_bytes(HEADERS, cells)
    title = f"{scope}政务新媒体 {year} 年度报表（每条内容按编号只计一次；不含巡查自身的抓取问题）"
    return xlsx_bytes([(f"{year}年度", title, HEADERS, cells)])
