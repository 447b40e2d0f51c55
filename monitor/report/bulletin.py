"""The report as a 公文 (python-docx): the 通报 a supervisor signs and publishes.

Its shape is GB/T 9704-2012's, roughly: A4 with a 156 × 225 mm type area (top 37 mm, left
28 mm), the issuing office in red over the document number and a red rule, the title in
小标宋 二号, 主送, the body in 仿宋 三号 on a 29 pt line (22 lines a page), headings 一、 in
黑体 and （一） in 楷体, the annex list, the signature and the date (Arabic numerals), page
numbers "— 1 —" outside, odd pages right and even pages left. The sections are the ones
supervisors write (seed notices): 一、总体情况 二、存在问题 三、工作要求, then the annexes —
单项否决 and 扣分 lists, a list per place (the unit tree: each unit under the report's unit,
each county of a city, with its accounts' problems), and the statistics — landscape.

Word picks a Chinese face from ``w:rFonts/@w:eastAsia`` only, and a theme font wins over a
named one, so every run names its faces explicitly and the template's theme fonts are
removed. The faces are ``[report.fonts]``. The file is the same bytes for the same report
(``ooxml.stable_package``: the properties' and the zip's times are the report's cut-off).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from monitor import timefmt
from monitor.config import ReportConfig
from monitor.report import summary
from monitor.report.model import ProblemRow, Report, cn_date
from monitor.report.ooxml import stable_package
from monitor.report.tables import Table, pct, summary_tables, text, visible

LATIN = "Times New Roman"
RED = "C00000"
BODY_PT, TITLE_PT, TABLE_PT = 16, 22, 10.5  # 三号, 二号, 五号
LINE_PT = 29  # 22 lines in the 225 mm type area
ANNEXES = ("单项否决问题清单", "扣分问题清单", "各地区（部门）问题清单", "检查情况统计表")
TITLE_CHARS = 20  # 二号 characters on one line of the 156 mm type area
# the annex lists' columns: header, width in mm (the landscape type area is 245 mm), and
# whether its cells are centred (short codes of a kind) or read left to right (names, words)
Col = tuple[str, float, bool]
LIST_COLS: list[Col] = [
    ("序号", 10, True),
    ("新媒体类型", 24, True),
    ("新媒体名称", 34, False),
    ("主办单位", 36, False),
    ("问题类别", 24, False),
    ("问题", 46, False),
    ("检查时更新日期", 23, True),
    ("证据", 20, True),
    ("整改期限", 28, True),
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


class _Doc:
    """A python-docx Document with the 公文 faces and paragraph kinds."""

    def __init__(self, config: ReportConfig) -> None:
        from docx import Document

        self.fonts = config.fonts
        self.doc = Document()
        self._plain_fonts()

    # -- faces -----------------------------------------------------------------------------

    def _plain_fonts(self) -> None:
        """Drop the template's theme fonts (they win over named ones) and make the body face
        the default, so empty paragraphs and table cells are 仿宋 too."""
        from docx.oxml.ns import qn

        root = self.doc.styles.element
        for rfonts in root.iter(qn("w:rFonts")):
            for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
                rfonts.attrib.pop(qn(f"w:{attr}"), None)
        normal = self.doc.styles["Normal"]
        self._face(normal.element.get_or_add_rPr(), self.fonts.body)
        normal.font.size = _pt(BODY_PT)

    @staticmethod
    def _face(rpr: Any, face: str) -> None:
        from docx.oxml.ns import qn

        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, rfonts)
        for attr in ("ascii", "hAnsi", "cs"):
            rfonts.set(qn(f"w:{attr}"), LATIN)
        rfonts.set(qn("w:eastAsia"), face)

    def run(
        self, p: Any, s: str, face: str, size: float, *, bold: bool = False, color: str = ""
    ) -> Any:
        from docx.shared import RGBColor

        r = p.add_run(visible(s))
        self._face(r._r.get_or_add_rPr(), face)
        r.font.size = _pt(size)
        r.font.bold = bold
        if color:
            r.font.color.rgb = RGBColor.from_string(color)
        return r

    # -- paragraphs ------------------------------------------------------------------------

    def para(
        self,
        s: str = "",
        *,
        face: str | None = None,
        size: float = BODY_PT,
        align: str = "justify",
        indent: float = 2,
        bold: bool = False,
        color: str = "",
        line: float | None = LINE_PT,
        cell: Any = None,
    ) -> Any:
        """A paragraph; ``indent`` in characters of its size (公文 indent two)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING

        p = cell.add_paragraph() if cell is not None else self.doc.add_paragraph()
        p.alignment = {
            "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "left": WD_ALIGN_PARAGRAPH.LEFT,
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
        }[align]
        pf = p.paragraph_format
        pf.space_before = pf.space_after = _pt(0)
        if indent:
            pf.first_line_indent = _pt(size * indent)
        if line:
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = _pt(line)
        if s:
            self.run(p, s, face or self.fonts.body, size, bold=bold, color=color)
        return p

    def heading(self, s: str) -> Any:
        """一、总体情况 (黑体)."""
        return self.para(s, face=self.fonts.heading)

    def led(self, lead: str, rest: str) -> Any:
        """（一）更新不及时。 in 楷体, then the body."""
        p = self.para()
        if lead:
            self.run(p, lead, self.fonts.subheading, BODY_PT)
        self.run(p, rest, self.fonts.body, BODY_PT)
        return p

    def rule(self, p: Any, color: str = RED, size: int = 12, where: str = "bottom") -> None:
        """A line under (or over) a paragraph: the red rule, the 版记 lines. ``size`` in
        eighths of a point."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        ppr = p._p.get_or_add_pPr()
        borders = OxmlElement("w:pBdr")
        edge = OxmlElement(f"w:{where}")
        for k, v in (("val", "single"), ("sz", str(size)), ("space", "4"), ("color", color)):
            edge.set(qn(f"w:{k}"), v)
        borders.append(edge)
        ppr.append(borders)


def _width(s: str) -> float:
    """A line's width in Chinese characters (Arabic numerals are half as wide)."""
    return sum(0.5 if c.isascii() else 1 for c in s)


def _title_lines(report: Report) -> tuple[str, str]:
    """The title, broken where its sense breaks (关于…政务新媒体 / 检查情况的通报) when it
    is longer than a line."""
    title = report.title
    tail = "检查情况的通报"
    if _width(title) <= TITLE_CHARS or not title.endswith(tail):
        return title, ""
    return title[: -len(tail)], tail


def _pt(v: float) -> Any:
    from docx.shared import Pt

    return Pt(v)


def _mm(v: float) -> Any:
    from docx.shared import Mm

    return Mm(v)


def _page(section: Any, landscape: bool = False) -> None:
    """A4, GB/T 9704 margins (landscape for the annexes' wide tables)."""
    from docx.enum.section import WD_ORIENT

    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (
        (_mm(297), _mm(210)) if landscape else (_mm(210), _mm(297))
    )
    if landscape:
        section.top_margin, section.bottom_margin = _mm(28), _mm(26)
        section.left_margin, section.right_margin = _mm(26), _mm(26)
    else:
        section.top_margin, section.bottom_margin = _mm(37), _mm(35)
        section.left_margin, section.right_margin = _mm(28), _mm(26)
    section.footer_distance = _mm(28) if not landscape else _mm(12)


def _page_numbers(d: _Doc) -> None:
    """ "— 1 —" in 宋体 四号: odd pages on the right, even on the left, one character in."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d.doc.settings.odd_and_even_pages_header_footer = True
    section = d.doc.sections[0]
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if align == "right" else WD_ALIGN_PARAGRAPH.LEFT
        indent = p.paragraph_format
        if align == "right":
            indent.right_indent = _pt(14)
        else:
            indent.left_indent = _pt(14)
        d.run(p, "— ", "宋体", 14)
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        r = d.run(p, "1", "宋体", 14)
        p._p.remove(r._r)
        field.append(r._r)
        p._p.append(field)
        d.run(p, " —", "宋体", 14)


def _table(d: _Doc, headers: list[Col], rows: list[list[str]]) -> Any:
    """A bordered table in 仿宋 五号 with its header repeated on every page."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    t = d.doc.add_table(rows=1, cols=len(headers))
    t.style = d.doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for col, (_, width, _c) in zip(t.columns, headers, strict=True):
        col.width = _mm(width)  # the grid (LibreOffice reads it) as well as each cell
    head = t.rows[0]
    head_pr = head._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # python-docx has no API for "repeat header row"
    repeat.set(qn("w:val"), "true")
    head_pr.append(repeat)
    for cell, (h, width, _c) in zip(head.cells, headers, strict=True):
        cell.width = _mm(width)
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
        d.para(h, face=d.fonts.heading, size=TABLE_PT, align="center", indent=0, line=None,
               cell=cell)  # fmt: skip
        shade = OxmlElement("w:shd")
        for k, v in (("val", "clear"), ("color", "auto"), ("fill", "E7E6E6")):
            shade.set(qn(f"w:{k}"), v)
        cell._tc.get_or_add_tcPr().append(shade)
    for values in rows:
        cells = t.add_row().cells
        for cell, v, (_, width, centred) in zip(cells, values, headers, strict=True):
            cell.width = _mm(width)
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
            d.para(v, size=TABLE_PT, align="center" if centred else "left", indent=0,
                   line=None, cell=cell)  # fmt: skip
    return t


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
        ]
        for i, r in enumerate(rows, 1)
    ]


def _annex_title(d: _Doc, report: Report, n: int) -> None:
    """附件N on a new landscape page, then its title."""
    from docx.enum.section import WD_SECTION

    if n == 1:
        _page(d.doc.add_section(WD_SECTION.NEW_PAGE), landscape=True)
    p = d.para(f"附件{n}", face=d.fonts.heading, align="left", indent=0)
    p.paragraph_format.page_break_before = n > 1
    p.paragraph_format.keep_with_next = True
    where = f"{report.period.label}{report.area}政务新媒体"
    title = d.para(f"{where}{ANNEXES[n - 1]}", face=d.fonts.title, size=18, align="center",
                   indent=0, line=40)  # fmt: skip
    title.paragraph_format.keep_with_next = True


def _annexes(d: _Doc, report: Report, tz: str) -> None:
    _annex_title(d, report, 1)
    _problem_list(d, report.vetoes, tz)
    _annex_title(d, report, 2)
    _problem_list(d, report.deductions, tz)
    _annex_title(d, report, 3)
    _by_place(d, report, tz)
    _annex_title(d, report, 4)
    for t in summary_tables(report)[1:]:
        caption = d.para(t.title, face=d.fonts.subheading, align="left", indent=0)
        caption.paragraph_format.keep_with_next = True
        _stats(d, t, tz)


def _problem_list(d: _Doc, rows: list[ProblemRow], tz: str) -> None:
    if not rows:
        d.para("本期无。", align="left", indent=0)
        return
    _table(d, LIST_COLS, _list_rows(rows, tz))


def _by_place(d: _Doc, report: Report, tz: str) -> None:
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
        figures = d.para(
            f"纳入检查{t.accounts}个，完成检查{t.checked}个，不合格{t.unqualified}个，"
            f"合格率{pct(t.pass_rate)}；单项否决问题{vetoes}项，扣分问题{len(mine) - vetoes}项。",
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
        _table(d, cols, cells)


def _stats(d: _Doc, t: Table, tz: str) -> None:
    """A statistics table: the name column and the change column twice as wide."""
    shares = [2.0 if i in (0, len(t.cols) - 1) else 1.0 for i in range(len(t.cols))]
    unit = 245 / sum(shares)
    cols: list[Col] = [
        (c.header, unit * w, i > 0) for i, (c, w) in enumerate(zip(t.cols, shares, strict=True))
    ]
    rows = [[text(v, tz) for v in r] for r in t.rows]
    if rows:
        _table(d, cols, rows)
    else:
        d.para("本期无。", align="left", indent=0)


def build_document(
    report: Report, config: ReportConfig, head: Letterhead, tz: str = timefmt.DEFAULT_TZ
) -> Any:
    """The 通报 as a python-docx Document."""
    d = _Doc(config)
    _page(d.doc.sections[0])
    _page_numbers(d)
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
    for para in summary.overview(report):
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
        p.paragraph_format.left_indent = _pt(BODY_PT * 5)
        p.paragraph_format.first_line_indent = _pt(-BODY_PT * 3 if i == 1 else 0)
        d.run(p, f"{'附件：' if i == 1 else ''}{i}.{name}", fonts.body, BODY_PT)
    d.para()
    d.para()
    day = cn_date(head.issued)
    if head.signature:  # 署名 centred over the date, which stands four characters in
        p = d.para(head.signature, align="right", indent=0)
        inset = 4 + (_width(day) - _width(head.signature)) / 2
        p.paragraph_format.right_indent = _pt(BODY_PT * max(inset, 0))
    p = d.para(day, align="right", indent=0)
    p.paragraph_format.right_indent = _pt(BODY_PT * 4)  # 右空四字
    if head.copy_to:
        d.para()
        p = d.para(f"抄送：{head.copy_to}。", size=14, align="left", indent=0)
        p.paragraph_format.left_indent = _pt(14)
        d.rule(p, "000000", 4, "top")
        d.rule(p, "000000", 4, "bottom")
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


def write_docx(
    report: Report,
    target: str | Path | IO[bytes],
    config: ReportConfig | None = None,
    tz: str = timefmt.DEFAULT_TZ,
    **kw: Any,
) -> None:
    data = docx_bytes(report, config, tz, **kw)
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)
