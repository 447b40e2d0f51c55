"""The report as people receive it: an Excel workbook, an HTML page, or a CSV file.

Account names and unit names come from scraped pages and hand-filled spreadsheets, so they
are hostile: HTML escapes every value; CSV and XLSX neutralise text that a spreadsheet would
run as a formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``) — CSV by a leading ``'``, XLSX by
storing it as text with Excel's quote prefix. CSV is UTF-8 with a BOM so Excel reads Chinese.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from monitor import timefmt
from monitor.report.model import GroupRow, ProblemRow, Report, Totals

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

TOTAL_HEADERS = [
    "统计范围",
    "纳入统计账号数",
    "已检查数",
    "检查率",
    "不合格数",
    "合格率",
    "扣分账号数",
]
LIST_HEADERS = [
    "序号",
    "新媒体类型",
    "新媒体名称",
    "主办单位",
    "问题类别",
    "问题",
    "检查时间",
    "检查时更新日期",
    "证据",
    "整改期限",
]


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.2f}%"


def delta_pp(cur: float | None, prev: float | None) -> str:
    """Change in percentage points: "+1.25 个百分点"; "—" when either side is unknown."""
    if cur is None or prev is None:
        return "—"
    d = (cur - prev) * 100
    return f"{d:+.2f} 个百分点"


def delta_n(cur: int, prev: int) -> str:
    return f"{cur - prev:+d}"


def _local(dt: datetime | None, tz: str) -> str:
    return timefmt.shown(dt, tz)


def _day(d: date) -> str:
    return d.isoformat()


def totals_cells(name: str, t: Totals) -> list[Any]:
    return [
        name,
        t.accounts,
        t.checked,
        pct(t.check_ratio),
        t.unqualified,
        pct(t.pass_rate),
        t.deducted,
    ]


def change_rows(report: Report) -> list[list[str]]:
    """Rows of the "change against the previous period" table."""
    t, p = report.totals, report.previous
    return [
        ["项目", str(report.period), str(report.period.previous()), "变化"],
        ["纳入统计账号数", str(t.accounts), str(p.accounts), delta_n(t.accounts, p.accounts)],
        ["已检查数", str(t.checked), str(p.checked), delta_n(t.checked, p.checked)],
        ["检查率", pct(t.check_ratio), pct(p.check_ratio), delta_pp(t.check_ratio, p.check_ratio)],
        ["不合格数", str(t.unqualified), str(p.unqualified), delta_n(t.unqualified, p.unqualified)],
        ["合格率", pct(t.pass_rate), pct(p.pass_rate), delta_pp(t.pass_rate, p.pass_rate)],
    ]


def group_cells(r: GroupRow) -> list[Any]:
    prev = r.previous.pass_rate if r.previous else None
    return [*totals_cells(r.label, r.totals), delta_pp(r.totals.pass_rate, prev)]


def problem_cells(i: int, r: ProblemRow, tz: str) -> list[Any]:
    return [
        i,
        r.platform_label,
        r.account_name,
        r.owner_name,
        r.category,
        r.problem,
        _local(r.checked_at, tz),
        _local(r.latest_post_at, tz),
        r.evidence,
        _day(r.rectify_by),
    ]


def definitions(report: Report) -> list[str]:
    p = report.period
    return [
        f"统计周期：{p.label}（{p.first_day.isoformat()} 至 {p.last_day.isoformat()}，"
        f"{timefmt.zone_label(p.tz)}）。",
        "纳入统计账号：本期内至少巡查过一次的账号；已检查：本期内至少一次读取成功"
        "（或确认账号已不存在）。",
        "单项否决：本期某次检查时，按账号适用规则已超过规定天数（全国标准 14 天）未更新"
        "（置顶内容不计），或本期内存在单项否决级问题；不合格数即单项否决账号数，"
        "合格率 =（已检查数 − 不合格数）÷ 已检查数。",
        "扣分：本期内存在的严重问题或预警（不含“即将超期”预警及抓取失败、被拦截）。",
        "本通报只依据本期结束前保存的快照和问题记录生成，任何时候重新生成结果相同；"
        "账号名称、平台和主办单位取登记表当前信息。",
        *report.notes,
    ]


def _sections(report: Report, tz: str) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, header, rows) for every table: shared by all three formats."""
    return [
        ("总体情况", TOTAL_HEADERS, [totals_cells(report.unit_name or "全部单位", report.totals)]),
        ("与上期比较", [], change_rows(report)),
        (
            "按平台",
            ["平台", *TOTAL_HEADERS[1:], "合格率较上期"],
            [group_cells(r) for r in report.by_platform],
        ),
        (
            "按地区/部门",
            ["地区/部门", *TOTAL_HEADERS[1:], "合格率较上期"],
            [group_cells(r) for r in report.by_unit],
        ),
        (
            "单项否决",
            LIST_HEADERS,
            [problem_cells(i, r, tz) for i, r in enumerate(report.vetoes, 1)],
        ),
        (
            "扣分",
            LIST_HEADERS,
            [problem_cells(i, r, tz) for i, r in enumerate(report.deductions, 1)],
        ),
    ]


# -- CSV --------------------------------------------------------------------------------------


# our own signed figures ("+3", "-1.25 个百分点") are numbers to a spreadsheet, not formulas
_SIGNED_FIGURE = re.compile(r"[+-]\d+(\.\d+)?( 个百分点)?")


def _csv_safe(v: Any) -> Any:
    if isinstance(v, str) and v.startswith(_FORMULA_START) and not _SIGNED_FIGURE.fullmatch(v):
        return "'" + v
    return v


def write_csv(report: Report, stream: IO[str] | IO[bytes], tz: str = "Asia/Shanghai") -> None:
    """One CSV, sections separated by a blank line; UTF-8 with BOM (written to the stream).

    A binary stream gets UTF-8 bytes; a text stream gets text (open it with
    ``encoding="utf-8-sig"`` or let this write the BOM: it does, as U+FEFF).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([_csv_safe(report.title)])
    for title, header, rows in _sections(report, tz):
        w.writerow([])
        w.writerow([title])
        if header:
            w.writerow(header)
        for r in rows:
            w.writerow([_csv_safe(v) for v in r])
        if not rows:
            w.writerow(["（无）"])
    w.writerow([])
    w.writerow(["说明"])
    for line in definitions(report):
        w.writerow([line])
    text = "\ufeff" + buf.getvalue()
    if isinstance(stream, io.TextIOBase) or hasattr(stream, "encoding"):
        stream.write(text)  # type: ignore[arg-type]
    else:
        stream.write(text.encode("utf-8"))  # type: ignore[arg-type]


# -- XLSX -------------------------------------------------------------------------------------


def _xlsx_rows(ws: Any, rows: Iterable[Sequence[Any]], bold_first: bool = False) -> None:
    from openpyxl.styles import Font

    for n, r in enumerate(rows):
        ws.append(list(r))
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                # never a formula, whatever the text: stored as a string, shown as typed
                cell.data_type = "s"
                if cell.value.startswith(_FORMULA_START):
                    cell.quotePrefix = True
            if bold_first and n == 0:
                cell.font = Font(bold=True)


def write_xlsx(report: Report, target: str | Path | IO[bytes], tz: str = "Asia/Shanghai") -> None:
    """A workbook: 汇总 (totals, change, by platform, by unit), 单项否决, 扣分, 说明."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    summary = wb.active
    summary.title = "汇总"
    summary.append([report.title])
    summary["A1"].font = Font(bold=True, size=14)
    summary["A1"].data_type = "s"
    sections = _sections(report, tz)
    for title, header, rows in sections[:4]:
        summary.append([])
        summary.append([title])
        summary[summary.max_row][0].font = Font(bold=True)
        _xlsx_rows(summary, ([header] if header else []) + rows, bold_first=True)
    summary.column_dimensions["A"].width = 28
    for title, header, rows in sections[4:]:
        ws = wb.create_sheet(title)
        _xlsx_rows(ws, [header, *rows], bold_first=True)
        widths = (6, 12, 30, 30, 18, 40, 18, 18, 36, 12)
        for letter, width in zip("ABCDEFGHIJ", widths, strict=True):
            ws.column_dimensions[letter].width = width
        ws.freeze_panes = "A2"
    notes = wb.create_sheet("说明")
    _xlsx_rows(notes, [[line] for line in definitions(report)])
    notes.column_dimensions["A"].width = 120
    wb.save(target)  # type: ignore[arg-type]


# -- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-left:4px solid #b22;
padding-left:.5em}table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right}p.note{color:#555;font-size:.9em}
"""


def _cell(v: Any, tag: str = "td") -> str:
    cls = ' class="n"' if isinstance(v, int | float) else ""
    return f"<{tag}{cls}>{html.escape(str(v))}</{tag}>"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(_cell(h, "th") for h in header) + "</tr>")
    for r in rows:
        out.append("<tr>" + "".join(_cell(v) for v in r) + "</tr>")
    if not rows:
        out.append(f'<tr><td colspan="{max(len(header), 1)}">（无）</td></tr>')
    out.append("</table>")
    return "\n".join(out)


def render_html(report: Report, tz: str = "Asia/Shanghai") -> str:
    """A standalone page (no scripts, no external resources); every value escaped."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{html.escape(report.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
    ]
    t = report.totals
    parts.append(
        "<p>"
        + html.escape(
            f"本期纳入统计政务新媒体 {t.accounts} 个，检查 {t.checked} 个，检查率 "
            f"{pct(t.check_ratio)}；单项否决（不合格）{t.unqualified} 个，合格率 "
            f"{pct(t.pass_rate)}，较上期 {delta_pp(t.pass_rate, report.previous.pass_rate)}；"
            f"存在扣分问题 {len(report.deductions)} 项。"
        )
        + "</p>"
    )
    for title, header, rows in _sections(report, tz):
        if title == "与上期比较":
            header, rows = rows[0], rows[1:]
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(_table(header, rows))
    parts.append("<h2>说明</h2>")
    parts.extend(f'<p class="note">{html.escape(line)}</p>' for line in definitions(report))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
