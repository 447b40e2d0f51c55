"""The 通报 as files people open: the XLSX read back with openpyxl, the DOCX with python-docx,
the HTML page against a golden file, and a past period giving the same bytes.

The city (tests/report_city.py): a city office, a department, three counties, sixteen
accounts (three of them 无法判定 in Q4), Q3 and Q4 2026. ``XUNCHA_UPDATE_GOLDEN=1`` rewrites
tests/golden/report/.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from sqlmodel import Session

from monitor.app import App
from monitor.config import ReportConfig, Settings
from monitor.report import Period, build_report, docx_bytes, render_html, xlsx_bytes
from monitor.report.model import Report
from monitor.store.engine import session_scope
from monitor.store.models import Unit
from probes.checks.kinds import CATEGORIES, KINDS
from tests.conftest import add_account, make_settings, open_app
from tests.report_city import AFTER_Q4, at, build_city, finding
from tests.test_history import add_snap, post

GOLDEN = Path(__file__).parent / "golden" / "report"
CONFIG = ReportConfig(
    issuing_office="黔岭市人民政府办公室",
    document_number="黔岭府办通〔{year}〕{seq}号",
    recipients="各县（区）人民政府办公室，市政府各部门",
    copy_to="市委网信办",
)
Q4 = Period.parse("2026Q4")


@pytest.fixture
def city(tmp_path: Path) -> Iterator[App]:
    app = open_app(make_settings(tmp_path))
    build_city(app)
    yield app
    app.close()


def q4(app: App, now: datetime = AFTER_Q4, unit: str | None = None) -> Report:
    with Session(app.engine) as s:
        return build_report(s, app.settings, Q4, unit, now=now)


def codes_in(text: str) -> list[str]:
    """Kind, rule-set and rule codes where people read words."""
    words = [*KINDS, *CATEGORIES, "national", "max_gap_days", "commercial", "install."]
    return [w for w in words if re.search(rf"(?<![A-Za-z_]){re.escape(w)}", text)]


# -- XLSX --------------------------------------------------------------------------------------


def test_xlsx_numbers_dates_and_print_setup(city: App) -> None:
    report = q4(city)
    wb = load_workbook(io.BytesIO(xlsx_bytes(report)))
    assert wb.sheetnames == ["汇总", "单项否决", "扣分", "无法判定", "说明"]

    summary = wb["汇总"]
    cells = {c.value: c for row in summary.iter_rows() for c in row if c.value is not None}
    assert cells[report.title].font.bold
    rows = list(summary.iter_rows())
    total = next(r for r in rows if r[0].value == "全部单位")
    # accounts, checked, check ratio, unqualified, pass rate, deducted, unjudged: numbers
    assert [c.value for c in total[1:8]] == [
        15,
        12,
        pytest.approx(12 / 15),
        5,
        pytest.approx(7 / 12),
        6,
        3,
    ]
    assert total[3].number_format == total[5].number_format == "0.00%"
    assert all(c.data_type == "n" for c in total[1:8])
    change = next(r for r in rows if r[0].value == "合格率" and r[3].value is not None)
    assert change[3].value == pytest.approx((7 / 12 - 13 / 14) * 100)  # percentage points
    assert "个百分点" in change[3].number_format and change[3].data_type == "n"
    fewer = next(r for r in rows if r[0].value == "已检查数" and r[3].value is not None)
    assert (fewer[3].value, fewer[3].number_format) == (-2, "+0;-0;0")
    assert summary.page_setup.orientation == "landscape" and summary.page_setup.fitToWidth == 1

    for sheet, listed in (("单项否决", report.vetoes), ("扣分", report.deductions)):
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        assert ws.max_row == len(listed) + 1
        assert ws.auto_filter.ref == f"A1:M{ws.max_row}"
        assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "D2"
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert all(c.border.left.style == "thin" and c.font.bold for c in ws[1])
        col = {h: i for i, h in enumerate(header)}
        for row in ws.iter_rows(min_row=2):
            # 问题类别 is a category, 问题 the specific problem, 依据规则 words
            category = row[col["问题类别"]].value
            assert category in {c.label for c in CATEGORIES.values()}
            assert row[col["问题"]].value != category
            assert codes_in(" ".join(str(c.value) for c in row)) == []
            checked = row[col["检查时间"]]
            if checked.value != "—":
                assert isinstance(checked.value, datetime) and checked.is_date
                assert checked.number_format == 'yyyy"年"m"月"d"日" hh:mm'
        deadlines = [r[col["整改期限"]] for r in ws.iter_rows(min_row=2)]
        if sheet == "单项否决":
            assert {c.value for c in deadlines} == {"立即整改"}
        else:
            assert all(c.is_date and c.number_format == 'yyyy"年"m"月"d"日"' for c in deadlines)
    # 无法判定: who, why in words, how often looked at, the last look as a date and evidence
    ws = wb["无法判定"]
    header = [c.value for c in ws[1]]
    assert header == ["序号", "新媒体类型", "新媒体名称", "主办单位", "所属地区/部门",
                      "无法判定的原因", "本期巡查次数", "最近巡查时间", "证据"]  # fmt: skip
    assert ws.max_row == 4 and ws.auto_filter.ref == "A1:I4" and ws.freeze_panes == "D2"
    assert "无法判定账号清单（3 项）" in ws.oddHeader.center.text
    unjudged = {r[2]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert unjudged["青溪文旅"][5] == "抖音未向未登录访客展示作品列表"
    assert unjudged["青溪文旅"][6] == 13 and unjudged["青溪文旅"][4] == "青溪县人民政府办公室"
    assert unjudged["黔岭政务"][5] == "抓取失败：服务器内部错误（HTTP 503）"
    assert unjudged["花溪区人民政府网站"][5].startswith("无法判断更新时间")
    assert unjudged["花溪区人民政府网站"][7] == datetime(2026, 12, 25, 10)  # local wall time
    assert ws["H2"].is_date and ws["G2"].data_type == "n"
    for r in ws.iter_rows(min_row=2, values_only=True):  # never in the lists of problems
        assert r[2] not in {c.value for s in ("单项否决", "扣分") for c in wb[s]["C"]}
    ads = next(
        r for r in wb["扣分"].iter_rows(min_row=2, values_only=True) if r[2] == "黔岭教育发布"
    )
    # opened 10-30 11:00 Beijing, 72 h to put right; still open at the quarter's end
    assert ads[11] == datetime(2026, 11, 2) and ads[12] == "逾期未整改"
    assert ads[4] == "黔岭市教育局" and ads[7] == "政务新媒体不得刊登或链接商业广告"


def test_xlsx_and_docx_carry_control_characters_visibly(city: App) -> None:
    """A scraped name with a character XML cannot hold is written, spelled out."""
    add_account(
        city, "odd", "yl", "http://127.0.0.1/odd", name="云岭\x0b发布\x00", platform="weibo"
    )
    add_snap(city, "odd", at(12, 1), posts=[post("o", at(10, 1))])  # 61 days: a veto
    report = q4(city)
    wb = load_workbook(io.BytesIO(xlsx_bytes(report)))
    names = [r[2] for r in wb["单项否决"].iter_rows(min_row=2, values_only=True)]
    assert "云岭\\x0b发布\\x00" in names
    doc = Document(io.BytesIO(docx_bytes(report, CONFIG)))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "云岭\\x0b发布\\x00" in cells


# -- DOCX --------------------------------------------------------------------------------------


def _paragraphs(doc: Any) -> list[str]:
    return [p.text.replace("\n", "") for p in doc.paragraphs]


def test_docx_is_a_bulletin_with_sections_and_lists(city: App) -> None:
    report = q4(city)
    data = docx_bytes(report, CONFIG, issued=date(2027, 1, 8), seq="3")
    doc = Document(io.BytesIO(data))
    text = _paragraphs(doc)

    # letterhead from [report], the title, 主送, the numbered sections, signature and date
    assert text[:2] == ["黔岭市人民政府办公室", ""]
    assert "黔岭府办通〔2027〕3号" in text
    assert "关于2026年第四季度全市政务新媒体检查情况的通报" in text
    assert "各县（区）人民政府办公室，市政府各部门：" in text
    heads = [t for t in text if re.match(r"^[一二三]、", t)]
    assert heads == ["一、总体情况", "二、存在问题", "三、工作要求"]
    body = "\n".join(text)
    assert "纳入检查的政务新媒体共15个，实际完成检查12个，检查率80.00%" in body
    assert "合格率58.33%" in body and "合格率下降34.52个百分点" in body
    assert "此外，3个账号本期无法判定（平台未向巡查展示内容或无法读取、读不出内容的发布时间" in body
    assert "既不计为合格也不计为不合格，不计入合格率，见附件3。" in body
    assert (
        "分平台看，合格率由高到低依次为：移动客户端100.00%（检查1个，其中1个存在扣分问题）" in body
    )
    # typical problems by category, vetoes first, with counts and named cases
    problems = text[text.index("二、存在问题") + 1 : text.index("三、工作要求")]
    assert problems[0].startswith("（一）更新不及时。共4个账号存在此类问题")
    assert "其中单项否决4个" in problems[0]
    assert "青溪县人民政府办公室主办的微信公众号“青溪县人民政府”检查时已15天未更新" in problems[0]
    assert any(p.startswith("（四）刊登或链接商业广告。共2个账号") for p in problems)
    assert codes_in(body) == []
    requirements = text[text.index("三、工作要求") + 1 :]
    assert requirements[0].startswith("（一）抓好问题整改。")
    assert "2027年1月8日" in text and "抄送：市委网信办。" in text

    # the annexes: 单项否决, 扣分, 无法判定, per county, statistics
    annexes = [t for t in text if re.fullmatch(r"附件\d", t)]
    assert annexes == ["附件1", "附件2", "附件3", "附件4", "附件5"]
    assert "2026年第四季度全市政务新媒体无法判定账号清单" in text
    vetoes, deductions, unjudged, *places = doc.tables
    assert [c.text for c in unjudged.rows[0].cells][4] == "无法判定的原因"
    assert {r.cells[2].text: r.cells[4].text for r in unjudged.rows[1:]}["青溪文旅"] == (
        "抖音未向未登录访客展示作品列表"
    )
    assert len(vetoes.rows) == len(report.vetoes) + 1
    assert len(deductions.rows) == len(report.deductions) + 1
    assert [c.text for c in vetoes.rows[0].cells][:3] == ["序号", "新媒体类型", "新媒体名称"]
    assert {r.cells[-2].text for r in vetoes.rows[1:]} == {"立即整改"}
    assert "2026年11月2日前" in {r.cells[-2].text for r in deductions.rows[1:]}
    # 整改情况 as the XLSX has it, in the last column
    assert vetoes.rows[0].cells[-1].text == "整改情况"
    assert [r.cells[-1].text for r in vetoes.rows[1:]] == [v.status for v in report.vetoes]
    # 附件4: each county and department under the city, its own accounts' problems only
    places_start = text.index("附件4")
    headings = [t for t in text[places_start:] if re.match(r"^（[一二三四五六]）", t)]
    assert headings == [
        "（一）黔岭市人民政府办公室（本级）",
        "（二）花溪区人民政府办公室",
        "（三）黔岭市教育局",
        "（四）青溪县人民政府办公室",
        "（五）云岭县人民政府办公室",
    ]
    qingxi = places[3]  # its health bureau's account is under the county
    names = [r.cells[2].text for r in qingxi.rows[1:]]
    assert sorted(names) == ["青溪健康", "青溪县人民政府", "青溪发布"]
    assert [r.cells[0].text for r in qingxi.rows[1:]].count("单项否决") == 2
    assert "纳入检查4个，完成检查3个，不合格2个，合格率33.33%，无法判定1个（青溪文旅）" in body

    # GB/T 9704: A4, 37 mm top, 28 mm left; the annexes landscape
    first, annex = doc.sections[0], doc.sections[-1]

    def mm(v: Any) -> int:
        return round(v.mm)  # stored in twentieths of a point

    assert (mm(first.page_width), mm(first.page_height)) == (210, 297)
    assert (mm(first.top_margin), mm(first.left_margin)) == (37, 28)
    assert (mm(annex.page_width), mm(annex.page_height)) == (297, 210)
    # Word reads the Chinese face from eastAsia: every run names it, no theme font overrides
    runs = [r for p in doc.paragraphs for r in p.runs if r.text.strip()]
    faces = {r._r.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) for r in runs}
    assert faces == {"仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"}
    assert not doc.styles.element.xpath(".//w:rFonts[@w:eastAsiaTheme]")
    title = next(p for p in doc.paragraphs if p.text.startswith("关于"))
    assert title.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert doc.core_properties.created == Q4.end == doc.core_properties.modified


def test_docx_without_letterhead_and_for_a_county(city: App) -> None:
    """No office configured: no letterhead, the unit's name signs; a county's own report is
    titled with its place and lists its own units."""
    report = q4(city, unit="qx")
    doc = Document(io.BytesIO(docx_bytes(report, ReportConfig())))
    text = _paragraphs(doc)
    assert text[0] == "青溪县人民政府办公室"  # the chosen unit is the issuer by default
    assert "关于2026年第四季度青溪县政务新媒体检查情况的通报" in text
    assert "2027年1月1日" in text  # the day the figures are as of: the quarter's end
    assert "各有关单位：" in text
    doc = Document(io.BytesIO(docx_bytes(q4(city), ReportConfig())))
    assert _paragraphs(doc)[0].startswith("关于2026年第四季度")  # no office, no letterhead


def test_document_number_pattern_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="文号只能用"):
        Settings(data_dir=tmp_path, report={"document_number": "黔岭府办通〔{yr}〕号"})
    plain = ReportConfig(document_number="黔岭府办通〔2027〕5号")
    assert plain.document_number.format(year=2027, seq="") == "黔岭府办通〔2027〕5号"


# -- HTML --------------------------------------------------------------------------------------


def test_html_page_matches_its_golden_file(city: App) -> None:
    page = render_html(q4(city), config=CONFIG)
    golden = GOLDEN / "city-2026Q4.html"
    if os.environ.get("XUNCHA_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(page, encoding="utf-8")
    assert page == golden.read_text(encoding="utf-8"), (
        "the report page changed: look at it, then XUNCHA_UPDATE_GOLDEN=1 to accept"
    )
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    assert codes_in(re.sub(r"<[^>]+>", " ", page)) == []


# -- the same bytes ----------------------------------------------------------------------------


def test_a_past_period_gives_the_same_bytes(city: App) -> None:
    """Written at two different moments, after later patrols and registry changes that do not
    touch the quarter, XLSX and DOCX are byte-identical, and so is the HTML."""
    with time_machine.travel(datetime(2027, 1, 8, 9, 11, 5), tick=False):
        first = q4(city)
        files = (xlsx_bytes(first), docx_bytes(first, CONFIG), render_html(first, config=CONFIG))
    # Q1 2027: new checks, new and resolved findings, a new account, a unit's duty phones
    add_snap(city, "ql-wx", at(1, 10, year=2027), posts=[post("n", at(1, 9, year=2027))])
    add_snap(city, "qx-wx", at(1, 10, year=2027), posts=[post("m", at(1, 9, year=2027))])
    finding(city, "hx-wx", "privacy", "high", at(1, 11, year=2027))
    add_account(city, "new", "hx", "http://127.0.0.1/new", name="花溪新号", platform="douyin")
    with session_scope(city.engine) as s:
        unit = s.get(Unit, "hx")
        assert unit is not None
        unit.duty_mobiles = ["13800000000"]
    later = AFTER_Q4 + timedelta(days=40, hours=7)
    with time_machine.travel(datetime(2027, 2, 17, 23, 58, 59), tick=False):
        again = q4(city, now=later)
        assert xlsx_bytes(again) == files[0]
        assert docx_bytes(again, CONFIG) == files[1]
        assert render_html(again, config=CONFIG) == files[2]


# -- the console -------------------------------------------------------------------------------


def test_console_offers_the_docx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.web import auth
    from tests.test_web import FAST_HASHER, build_world, client_for, login

    monkeypatch.setattr(auth, "_hasher", FAST_HASHER)
    app = open_app(make_settings(tmp_path, report={"issuing_office": "贵州省人民政府办公厅"}))
    try:
        build_world(app)
        sup = login(client_for(app), "sup")
        assert '<option value="docx">DOCX</option>' in sup.get("/reports").text
        r = sup.get("/reports/download?period=2026Q4&unit=GZ&format=docx")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].endswith("wordprocessingml.document")
        assert r.headers["content-disposition"].endswith('.docx"')
        text = _paragraphs(Document(io.BytesIO(r.content)))
        assert text[0] == "贵州省人民政府办公厅"  # [report] issuing_office
        assert "一、总体情况" in text and "附件1" in text
    finally:
        app.close()
