"""The report as a 公文 (python-docx): the 通报 a supervisor signs and publishes.

Its shape is GB/T 9704-2012's, roughly: A4 with a 156 × 225 mm type area (top 37 mm, left
28 mm), the issuing office in red over the document number and a red rule, the title in
小标宋 二号, 主送, the body in 仿宋 三号 on a 29 pt line (22 lines a page), headings 一、 in
黑体 and （一） in 楷体, the annex list, the signature and the date (Arabic numerals), page
numbers "— 1 —" outside, odd pages right and even pages left. The sections are the ones
supervisors write (seed notices): 一、总体情况 二、存在问题 三、工作要求, then the annexes —
单项否决 and 扣分 lists, the accounts that could not be judged (无法判定, with the reason:
neither 合格 nor 不合格, outside the pass rate), a list per place (the unit tree: each unit
under the report's unit, each county of a city, with its accounts' problems), and the
statistics — landscape.

The typesetting (faces named for Word's East Asian slot, rules, tables) is ``typeset``; the
faces are ``[report.fonts]``. The file is the same bytes for the same report
(``ooxml.stable_package``: the properties' and the zip's times are the report's cut-off).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from monitor import timefmt
from monitor.config import ReportConfig
from monitor.report import summary
from monitor.report.model import ProblemRow, Report, UnjudgedRow, cn_date
from monitor.report.ooxml import stable_package
from monitor.report.tables import Table, pct, summary_tables, text
from monitor.report.typeset import (
    BODY_PT,
    LINE_PT,
    RED,
    TITLE_PT,
    Col,
    Doc,
    page_numbers,
    page_setup,
    pt,
    table,
    text_width,
)

ANNEXES = (
    "单项否决问题清单",
    "扣分问题清单",
    "无法判定账号清单",
    "各地区（部门）问题清单",
    "检查情况统计表",
)
# a table this short fits a landscape page: it is kept whole (a longer one breaks, its
# header repeated on each page)
KEEP_ROWS = 12
UNJUDGED_ANNEX = f"附件{ANNEXES.index('无法判定账号清单') + 1}"
TITLE_CHARS = 20  # 二号 characters on one line of the 156 mm type area
# the annex lists' columns (typeset.Col)
LIST_COLS: list[Col] = [
    ("序号", 10, True),
    ("新媒体类型", 22, True),
    ("新媒体名称", 30, False),
    ("主办单位", 32, False),
    ("问题类别", 22, False),
    ("问题", 42, False),
    ("检查时更新日期", 23, True),
    ("证据", 20, True),
    ("整改期限", 26, True),
    ("整改情况", 18, True),  # as the XLSX has it: 已整改 / 未整改 / 逾期未整改 / 整改中
]
# the 无法判定 list's columns: why, how often it was looked at, the last look
UNJUDGED_COLS: list[Col] = [
    ("序号", 10, True),
    ("新媒体类型", 24, True),
    ("新媒体名称", 34, False),
    ("主办单位", 36, False),
    ("无法判定的原因", 76, False),
    ("本期巡查", 18, True),
    ("最近巡查", 27, True),
    ("证据", 20, True),
]


@dataclass
class Letterhead:
    """What the document says of itself, from ``[report]`` and the command line."""

    office: str  # 发文机关 ("" = no letterhead)
    number: str  # 文号, formatted
    recipients: str  # 主送
    signature: str  # 落款
    copy_to: str  # 抄送
    issued: date  # 成文日期


def letterhead(
    report: Report, config: ReportConfig, tz: str, issued: date | None = None, seq: str = ""
) -> Letterhead:
    """The letterhead for ``report``: the office is ``[report] issuing_office`` or the chosen
    unit; the date is ``issued`` or the day of the report's cut-off (a finished period: the
    day after it, so the same whenever it is written)."""
    office = config.issuing_office or (report.unit_name or "")
    when = issued or timefmt.local_date(report.cutoff or report.period.end, tz)
    number = config.document_number.format(year=when.year, seq=seq or "　　")
    return Letterhead(
        office=office,
        number=number,
        recipients=config.recipients,
        signature=config.signature or office,
        copy_to=config.copy_to,
        issued=when,
    )


def _title_lines(report: Report) -> tuple[str, str]:
    """The title, broken where its sense breaks (关于…政务新媒体 / 检查情况的通报) when it
    is longer than a line."""
    title = report.title
    tail = "检查情况的通报"
    if text_width(title) <= TITLE_CHARS or not title.endswith(tail):
        return title, ""
    return title[: -len(tail)], tail


def _list_rows(rows: list[ProblemRow], tz: str) -> list[list[str]]:
    return [
        [
            str(i),
            r.platform_label,
            r.account_name,
            r.owner_name,
            r.category,
            r.problem,
            timefmt.local_date(r.latest_post_at, tz).isoformat() if r.latest_post_at else "—",
            f"快照 #{r.snapshot_id}" if r.snapshot_id else "—",
            r.rectify_text(tz),
            r.status,
        ]
        for i, r in enumerate(rows, 1)
    ]


def _unjudged_rows(rows: list[UnjudgedRow], tz: str) -> list[list[str]]:
    return [
        [
            str(i),
            r.platform_label,
            r.account_name,
            r.owner_name,
            r.reason,
            f"{r.looks}次",
            timefmt.local_date(r.last_at, tz).isoformat() if r.last_at else "—",
            f"快照 #{r.snapshot_id}" if r.snapshot_id else "—",
        ]
        for i, r in enumerate(rows, 1)
    ]


def _annex_title(d: Doc, report: Report, n: int) -> None:
    """附件N on a new landscape page, then its title."""
    from docx.enum.section import WD_SECTION

    if n == 1:
        page_setup(d.doc.add_section(WD_SECTION.NEW_PAGE), landscape=True)
    p = d.para(f"附件{n}", face=d.fonts.heading, align="left", indent=0)
    p.paragraph_format.page_break_before = n > 1
    p.paragraph_format.keep_with_next = True
    where = f"{report.period.label}{report.area}政务新媒体"
    title = d.para(f"{where}{ANNEXES[n - 1]}", face=d.fonts.title, size=18, align="center",
                   indent=0, line=40)  # fmt: skip
    title.paragraph_format.keep_with_next = True


def _annexes(d: Doc, report: Report, tz: str) -> None:
    _annex_title(d, report, 1)
    _problem_list(d, report.vetoes, tz)
    _annex_title(d, report, 2)
    _problem_list(d, report.deductions, tz)
    _annex_title(d, report, 3)
    if report.unjudged:
        d.para(
            "下列账号本期每次巡查都未能作出判定（原因为巡查所见），既不计为合格也不计为不合格，"
            "不计入合格率，不作单项否决；巡查系统将继续跟进。",
            align="left",
            indent=0,
        ).paragraph_format.keep_with_next = True
        table(d, UNJUDGED_COLS, _unjudged_rows(report.unjudged, tz))
    else:
        d.para("本期无。", align="left", indent=0)
    _annex_title(d, report, 4)
    _by_place(d, report, tz)
    _annex_title(d, report, 5)
    for t in summary_tables(report)[1:]:
        caption = d.para(t.title, face=d.fonts.subheading, align="left", indent=0)
        caption.paragraph_format.keep_with_next = True
        _stats(d, t, tz)


def _problem_list(d: Doc, rows: list[ProblemRow], tz: str) -> None:
    if not rows:
        d.para("本期无。", align="left", indent=0)
        return
    table(d, LIST_COLS, _list_rows(rows, tz))


def _by_place(d: Doc, report: Report, tz: str) -> None:
    """Each group of the unit tree (a city's counties) with its accounts' problems."""
    rows = report.vetoes + report.deductions
    if not report.by_unit:
        d.para("本期无。", align="left", indent=0)
        return
    for i, g in enumerate(report.by_unit, 1):
        t = g.totals
        head = d.para(f"（{summary.cn_number(i)}）{g.label}", face=d.fonts.subheading,
                      align="left", indent=0)  # fmt: skip
        head.paragraph_format.keep_with_next = True
        mine = [r for r in rows if r.group_key == g.key]
        vetoes = sum(r.severity == "veto" for r in mine)
        unjudged = [r.account_name for r in report.unjudged if r.group_key == g.key]
        aside = f"，无法判定{t.unjudged}个（{'、'.join(unjudged)}）" if unjudged else ""
        figures = d.para(
            f"纳入检查{t.accounts}个，完成检查{t.checked}个，不合格{t.unqualified}个，"
            f"合格率{pct(t.pass_rate)}{aside}；单项否决问题{vetoes}项，"
            f"扣分问题{len(mine) - vetoes}项。",
            indent=0,
        )
        figures.paragraph_format.keep_with_next = bool(mine)
        if not mine:
            d.para("本期检查未发现问题。", align="left", indent=0)
            continue
        cols: list[Col] = [("性质", 20, True), *LIST_COLS[1:]]
        cols[2] = ("新媒体名称", 24, False)  # 性质 takes the room of 序号 and some of this
        cells = _list_rows(mine, tz)
        for r, c in zip(mine, cells, strict=True):
            c[0] = "单项否决" if r.severity == "veto" else "扣分"
        t = table(d, cols, cells)
        if len(cells) <= KEEP_ROWS:  # a place's short list is not cut to leave a row alone
            _keep_together(t)


def _keep_together(t: Any) -> None:
    """A short table stays on one page with its caption: every row's paragraphs keep with
    the next (Word and LibreOffice carry the table whole to the next page when it fits one),
    so no last row, and no caption, is left alone on a page."""
    rows = t.rows
    for row in list(rows)[:-1]:
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


def _stats(d: Doc, t: Table, tz: str) -> None:
    """A statistics table: the name column and the change column twice as wide."""
    shares = [2.0 if i in (0, len(t.cols) - 1) else 1.0 for i in range(len(t.cols))]
    unit = 245 / sum(shares)
    cols: list[Col] = [
        (c.header, unit * w, i > 0) for i, (c, w) in enumerate(zip(t.cols, shares, strict=True))
    ]
    rows = [[text(v, tz) for v in r] for r in t.rows]
    if rows:
        _keep_together(table(d, cols, rows))
    else:
        d.para("本期无。", align="left", indent=0)


def _at_foot(p: Any) -> None:
    """Anchor ``p`` to the bottom of the type area (a frame, ``w:framePr``: Word and
    LibreOffice both place it there, whatever the text above leaves free)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    frame = OxmlElement("w:framePr")
    for k, v in (
        ("w", str(round(156 / 25.4 * 1440))),  # the type area's width, in twips
        ("wrap", "around"),
        ("vAnchor", "margin"),
        ("hAnchor", "margin"),
        ("xAlign", "center"),
        ("yAlign", "bottom"),
    ):
        frame.set(qn(f"w:{k}"), v)
    ppr = p._p.get_or_add_pPr()
    ppr.insert(0, frame)  # framePr comes first among the paragraph's properties


def build_document(
    report: Report, config: ReportConfig, head: Letterhead, tz: str = timefmt.DEFAULT_TZ
) -> Any:
    """The 通报 as a python-docx Document."""
    d = Doc(config)
    page_setup(d.doc.sections[0])
    page_numbers(d)
    fonts = config.fonts
    if head.office:  # 版头: the office in red, the number, the red rule
        size = min(36.0, 440 / max(len(head.office), 1))
        d.para(head.office, face=fonts.title, size=size, align="center", indent=0,
               color=RED, line=size * 1.6)  # fmt: skip
        d.para(line=LINE_PT)
    if head.number or head.office:
        p = d.para(head.number, align="center", indent=0)
        d.rule(p)
        d.para()
    title = d.para(align="center", indent=0, line=36)
    first, rest = _title_lines(report)
    d.run(title, first, fonts.title, TITLE_PT)
    if rest:
        title.runs[-1].add_break()
        d.run(title, rest, fonts.title, TITLE_PT)
    d.para()
    d.para(f"{head.recipients}：", align="left", indent=0)
    d.para(
        "为推动政务新媒体健康有序发展，根据《国务院办公厅关于推进政务新媒体健康有序发展的意见》"
        f"（国办发〔2018〕123号）要求，对{report.period.label}{report.area}政务新媒体"
        "运行情况开展了检查。现将有关情况通报如下："
    )
    d.heading("一、总体情况")
    for para in summary.overview(report, UNJUDGED_ANNEX):
        d.para(para.text)
    d.heading("二、存在问题")
    for para in summary.problems(report, config.examples_per_category):
        d.led(para.lead, para.text)
    d.heading("三、工作要求")
    for i, req in enumerate(summary.requirements(config.requirements), 1):
        d.led(f"（{summary.cn_number(i)}）{req.lead}", req.rest)
    d.para()
    for i, name in enumerate(ANNEXES, 1):  # 附件说明: 左空二字, numbers aligned under
        p = d.para(indent=0)
        p.paragraph_format.left_indent = pt(BODY_PT * 5)
        p.paragraph_format.first_line_indent = pt(-BODY_PT * 3 if i == 1 else 0)
        d.run(p, f"{'附件：' if i == 1 else ''}{i}.{name}", fonts.body, BODY_PT)
    d.para()
    d.para()
    day = cn_date(head.issued)
    if head.signature:  # 署名 centred over the date, which stands four characters in
        p = d.para(head.signature, align="right", indent=0)
        inset = 4 + (text_width(day) - text_width(head.signature)) / 2
        p.paragraph_format.right_indent = pt(BODY_PT * max(inset, 0))
    p = d.para(day, align="right", indent=0)
    p.paragraph_format.right_indent = pt(BODY_PT * 4)  # 右空四字
    if head.copy_to:  # 版记: at the foot of the body's last page (GB/T 9704 §8)
        p = d.para(f"抄送：{head.copy_to}。", size=14, align="left", indent=0)
        p.paragraph_format.left_indent = pt(14)
        d.rule(p, "000000", 4, "top")
        d.rule(p, "000000", 4, "bottom")
        _at_foot(p)
    _annexes(d, report, tz)
    core = d.doc.core_properties
    core.title, core.subject = report.title, report.subject
    core.author = core.last_modified_by = head.office or "xuncha"
    core.comments, core.keywords, core.category = "", "", "通报"
    core.revision = 1
    return d.doc


def docx_bytes(
    report: Report,
    config: ReportConfig | None = None,
    tz: str = timefmt.DEFAULT_TZ,
    *,
    issued: date | None = None,
    seq: str = "",
) -> bytes:
    """The document's bytes: the same for the same report, letterhead and date."""
    config = config or ReportConfig()
    head = letterhead(report, config, tz, issued, seq)
    buf = io.BytesIO()
    build_document(report, config, head, tz).save(buf)
    return stable_package(buf.getvalue(), report.cutoff or report.period.end)
