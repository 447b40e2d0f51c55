"""公文 typesetting on python-docx: faces, paragraphs, rules, pages, page numbers, tables.

What GB/T 9704-2012 asks of a page, independent of what the page says (``bulletin``). Word
picks a Chinese face from ``w:rFonts/@w:eastAsia`` only, and a theme font wins over a named
one, so every run names its faces explicitly and the template's theme fonts are removed.
python-docx has no API for a repeated header row, a row kept on one page, a paragraph
border or a PAGE field: those few elements are written here by hand.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from monitor.config import ReportConfig
from monitor.report.tables import visible

LATIN = "Times New Roman"
RED = "C00000"
BODY_PT, TITLE_PT, TABLE_PT = 16, 22, 10.5  # 三号, 二号, 五号
LINE_PT = 29  # 22 lines in the 225 mm type area
# a table column: header, width in mm (the landscape type area is 245 mm), and whether its
# cells are centred (short values of a kind) or read left to right (names, words)
Col = tuple[str, float, bool]


class Doc:
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
        normal.font.size = pt(BODY_PT)

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
        r.font.size = pt(size)
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
        pf.space_before = pf.space_after = pt(0)
        if indent:
            pf.first_line_indent = pt(size * indent)
        if line:
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = pt(line)
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


def text_width(s: str) -> float:
    """A line's width in Chinese characters (Arabic numerals are half as wide)."""
    return sum(0.5 if c.isascii() else 1 for c in s)


def pt(v: float) -> Any:
    from docx.shared import Pt

    return Pt(v)


def mm(v: float) -> Any:
    from docx.shared import Mm

    return Mm(v)


def page_setup(section: Any, landscape: bool = False) -> None:
    """A4, GB/T 9704 margins (landscape for the annexes' wide tables)."""
    from docx.enum.section import WD_ORIENT

    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (
        (mm(297), mm(210)) if landscape else (mm(210), mm(297))
    )
    if landscape:
        section.top_margin, section.bottom_margin = mm(28), mm(26)
        section.left_margin, section.right_margin = mm(26), mm(26)
    else:
        section.top_margin, section.bottom_margin = mm(37), mm(35)
        section.left_margin, section.right_margin = mm(28), mm(26)
    section.footer_distance = mm(28) if not landscape else mm(12)


def page_numbers(d: Doc) -> None:
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
            indent.right_indent = pt(14)
        else:
            indent.left_indent = pt(14)
        d.run(p, "— ", "宋体", 14)
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        r = d.run(p, "1", "宋体", 14)
        p._p.remove(r._r)
        field.append(r._r)
        p._p.append(field)
        d.run(p, " —", "宋体", 14)


def table(d: Doc, headers: list[Col], rows: list[list[str]]) -> Any:
    """A bordered table in 仿宋 五号 with its header repeated on every page."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    t = d.doc.add_table(rows=1, cols=len(headers))
    t.style = d.doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for col, (_, width, _c) in zip(t.columns, headers, strict=True):
        col.width = mm(width)  # the grid (LibreOffice reads it) as well as each cell
    head = t.rows[0]
    head_pr = head._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # python-docx has no API for "repeat header row"
    repeat.set(qn("w:val"), "true")
    head_pr.append(repeat)
    for cell, (h, width, _c) in zip(head.cells, headers, strict=True):
        cell.width = mm(width)
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
        d.para(h, face=d.fonts.heading, size=TABLE_PT, align="center", indent=0, line=None,
               cell=cell)  # fmt: skip
        shade = OxmlElement("w:shd")
        for k, v in (("val", "clear"), ("color", "auto"), ("fill", "E7E6E6")):
            shade.set(qn(f"w:{k}"), v)
        cell._tc.get_or_add_tcPr().append(shade)
    if not rows:
        return t
    # One row made through python-docx, then copied for each line: python-docx re-reads the
    # whole table for every row it adds and every cell it touches, which made a province's
    # thousand-line list take half a minute; a copy with its texts set takes microseconds.
    proto = t.add_row()
    keep = OxmlElement("w:cantSplit")  # a row is never broken across two pages
    keep.set(qn("w:val"), "true")
    proto._tr.get_or_add_trPr().append(keep)
    for cell, (_, width, centred) in zip(proto.cells, headers, strict=True):
        cell.width = mm(width)
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
        d.para("x", size=TABLE_PT, align="center" if centred else "left", indent=0, line=None,
               cell=cell)  # fmt: skip
    tbl = t._tbl
    tbl.remove(proto._tr)
    preserve = "{http://www.w3.org/XML/1998/namespace}space"
    for values in rows:
        tr = deepcopy(proto._tr)
        for tc, v in zip(tr.iterchildren(qn("w:tc")), values, strict=True):
            node = next(tc.iter(qn("w:t")))
            node.text = visible(v)
            node.set(preserve, "preserve")
        tbl.append(tr)
    return t
