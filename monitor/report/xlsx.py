"""The report as an Excel workbook people sort, filter, sum and print.

Counts are numbers, rates numbers formatted ``0.00%``, changes numbers formatted ``+1.25 个
百分点``, times and days real dates in a Chinese format (Excel has no zones: local wall
times, the report's zone). Each list has a title row, a styled header that repeats on every
printed page, an autofilter, frozen panes, borders and widths, and prints landscape on A4,
one page wide. Text is never a formula: a name that starts like one (``=HYPERLINK(...)``)
is stored as text with Excel's quote prefix.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from monitor import timefmt
from monitor.report.model import Report
from monitor.report.ooxml import stable_package
from monitor.report.tables import (
    PP,
    Deadline,
    Delta,
    Pct,
    Table,
    definitions,
    list_tables,
    summary_tables,
    visible,
    width,
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
PCT = "0.00%"
PP_FORMAT = '+0.00" 个百分点";-0.00" 个百分点";0.00" 个百分点"'
DELTA = "+0;-0;0"
DATETIME = 'yyyy"年"m"月"d"日" hh:mm'
DAY = 'yyyy"年"m"月"d"日"'
LINE_HEIGHT = 15  # points, one line of the default font
HEADER_FILL = "D9E1F2"
TITLE_FILL = "F2F2F2"


class _Styles:
    """openpyxl's style objects, made once (openpyxl is imported when a workbook is made)."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="808080")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.title = Font(bold=True, size=15)
        self.section = Font(bold=True, size=12)
        self.bold = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor=HEADER_FILL)
        self.section_fill = PatternFill("solid", fgColor=TITLE_FILL)
        self.center = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.left = Alignment(horizontal="left", vertical="top", wrap_text=False)
        self.wrap = Alignment(horizontal="left", vertical="top", wrap_text=True)
        self.right = Alignment(horizontal="right", vertical="top")
        self.middle = Alignment(horizontal="center", vertical="top")


def _typed(v: Any, tz: str) -> tuple[Any, str | None]:
    """What a report value is in a cell: the plain value and its number format, if any."""
    if isinstance(v, Pct):
        return v.value, PCT
    if isinstance(v, PP):
        return (None if v.value is None else round(v.value, 6)), PP_FORMAT
    if isinstance(v, Delta):
        return v.value, DELTA
    if isinstance(v, Deadline):
        return (v.day, DAY) if v.day else (v.words, None)
    if isinstance(v, datetime):
        return timefmt.local(v, tz).replace(tzinfo=None), DATETIME
    if isinstance(v, date):
        return v, DAY
    return v, None


def _put(cell: Any, v: Any, tz: str, st: _Styles) -> None:
    """One value, typed: a number with its format, a date, or inert text."""
    v, fmt = _typed(v, tz)
    if v is None:
        cell.value = "—"
        cell.alignment = st.middle
        return
    if isinstance(v, str):
        v = visible(v)
        cell.value = v
        cell.data_type = "s"  # never a formula, whatever the text
        cell.alignment = st.left
        if v.startswith(FORMULA_START):
            cell.quotePrefix = True
        return
    cell.value = v
    if fmt:
        cell.number_format = fmt
    cell.alignment = st.right


def _table(ws: Any, t: Table, top: int, tz: str, st: _Styles, *, caption: bool = True) -> int:
    """Write ``t`` from row ``top`` (its caption, header, rows); the row after it."""
    row = top
    if caption:
        ws.cell(row, 1, t.title).font = st.section
        row += 1
    for c, col in enumerate(t.cols, 1):
        cell = ws.cell(row, c, col.header)
        cell.font, cell.fill, cell.alignment, cell.border = (
            st.bold,
            st.header_fill,
            st.center,
            st.border,
        )
    body = t.rows or [["（无）"] + [None] * (len(t.cols) - 1)]
    for values in body:
        row += 1
        ws.row_dimensions[row].height = _height(t, values)
        for c, (col, v) in enumerate(zip(t.cols, values, strict=True), 1):
            cell = ws.cell(row, c)
            if v is None and not t.rows:
                cell.value = None
            else:
                _put(cell, v, tz, st)
                if isinstance(v, str):
                    cell.alignment = st.wrap if col.wrap else st.left
            cell.border = st.border
    if not t.rows:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(t.cols))
        ws.cell(row, 1).alignment = st.middle
    return row + 1


def _height(t: Table, values: list[Any]) -> float:
    """A row tall enough for its wrapped cells. Neither openpyxl nor the file format can say
    "fit the text" (Excel fits on edit, LibreOffice not at all on opening), so the lines are
    counted here: the text's width over the column's, a Chinese character counting two."""
    lines = 1
    for col, v in zip(t.cols, values, strict=True):
        if col.wrap and isinstance(v, str):
            lines = max(lines, -(-width(v) // max(int(col.width) - 1, 1)))
    return LINE_HEIGHT * lines + 3


def _print_setup(ws: Any, title_rows: str | None) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _quoted(s: str) -> str:
    """Text for a printed page header, where ``&`` starts a code (&P, &N)."""
    return visible(s).replace("&", "&&")


def _widths(ws: Any, tables: list[Table]) -> None:
    from openpyxl.utils import get_column_letter

    n = max(len(t.cols) for t in tables)
    for i in range(n):
        w = max(t.cols[i].width for t in tables if i < len(t.cols))
        ws.column_dimensions[get_column_letter(i + 1)].width = w


def _title(ws: Any, text: str, width: int, st: _Styles) -> None:
    ws.cell(1, 1, visible(text)).font = st.title
    ws.cell(1, 1).alignment = st.center
    ws.cell(1, 1).data_type = "s"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.row_dimensions[1].height = 30


def build_workbook(report: Report, tz: str) -> Any:
    """The workbook: 汇总, 单项否决, 扣分, 无法判定, 说明."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    st = _Styles()
    wb = Workbook()
    summary = wb.active
    summary.title = "汇总"
    tables = summary_tables(report)
    width = max(len(t.cols) for t in tables)
    _title(summary, report.title, width, st)
    p = report.period
    summary.cell(
        2,
        1,
        f"统计周期：{p.label}（{p.first_day.isoformat()} 至 {p.last_day.isoformat()}，"
        f"{timefmt.zone_label(p.tz)}）",
    )
    row = 4
    for t in tables:
        row = _table(summary, t, row, tz, st) + 1
    _widths(summary, tables)
    _print_setup(summary, "1:1")

    for t in list_tables(report, tz):
        # the header in row 1, so the list sorts, filters and pivots as a plain table; its
        # title is the printed page's header
        ws = wb.create_sheet(t.title)
        last = _table(ws, t, 1, tz, st, caption=False) - 1
        _widths(ws, [t])
        ws.freeze_panes = "D2"  # the header, and 序号 · 类型 · 名称 while scrolling right
        if t.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(t.cols))}{last}"
        _print_setup(ws, "1:1")
        ws.oddHeader.center.text = f"{_quoted(report.title)} · {t.annex_title}（{len(t.rows)} 项）"

    notes = wb.create_sheet("说明")
    for i, line in enumerate(definitions(report), 1):
        notes.cell(i, 1, visible(line)).alignment = st.wrap
    notes.column_dimensions["A"].width = 110
    _print_setup(notes, None)
    notes.page_setup.orientation = "portrait"
    return wb


def xlsx_bytes(report: Report, tz: str = timefmt.DEFAULT_TZ) -> bytes:
    """The workbook's bytes: the same for the same report whenever it is written."""
    buf = io.BytesIO()
    build_workbook(report, tz).save(buf)
    when = report.cutoff or report.period.end
    return stable_package(buf.getvalue(), when)


def write_xlsx(
    report: Report, target: str | Path | IO[bytes], tz: str = timefmt.DEFAULT_TZ
) -> None:
    data = xlsx_bytes(report, tz)
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)
