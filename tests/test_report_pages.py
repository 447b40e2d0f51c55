"""The 通报 as the pages people print: the DOCX turned into a PDF by LibreOffice, each page's
text (pdftotext) against a golden file, and each page drawn as a PNG to look at.

What a reader holds against a 公文 is where things land on the page: the 检查情况统计表's
title and its table on one page, 抄送 at the foot of the body's last page, no lone row of a
table on a page of its own. ``XUNCHA_UPDATE_GOLDEN=1`` rewrites
``tests/golden/report/city-2026Q4.pages.txt`` (read the diff); ``REPORT_SHOTS=DIR``
keeps the pages as PNG in DIR (they are drawn in the test's own folder otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from monitor.app import App
from monitor.report import docx_bytes
from tests.conftest import make_settings, open_app
from tests.report_city import AFTER_Q4, build_city
from tests.test_report_files import CONFIG, q4

GOLDEN = Path(__file__).parent / "golden" / "report" / "city-2026Q4.pages.txt"
UPDATE = os.environ.get("XUNCHA_UPDATE_GOLDEN") == "1"
PAGE_BREAK = "\n\f\n"


@pytest.fixture
def city(tmp_path: Path) -> Iterator[App]:
    app = open_app(make_settings(tmp_path / "city"))
    build_city(app)
    yield app
    app.close()


def pages_of(docx: Path) -> list[str]:
    """The document as LibreOffice lays it out: one text per page, whitespace folded (where a
    line wraps depends on the installed faces' widths; which page a thing is on does not)."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) is needed: apt-get install libreoffice-writer-nogui"
    profile = docx.parent / "lo-profile"  # its own profile: parallel runs do not share one
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", "pdf", "--outdir", str(docx.parent), str(docx)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = docx.with_suffix(".pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [" ".join(p.split()) for p in pages]


def draw(pdf: Path, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def test_the_bulletin_as_pages(city: App, tmp_path: Path) -> None:
    docx = tmp_path / "city-2026Q4.docx"
    docx.write_bytes(docx_bytes(q4(city), CONFIG, issued=date(2027, 1, 8), seq="3"))
    pages = pages_of(docx)
    shots = draw(docx.with_suffix(".pdf"), Path(os.environ.get("REPORT_SHOTS", tmp_path)))
    assert len(shots) == len(pages)

    # the body ends with the signature, the date and, at the foot of that page, 抄送
    body_end = next(i for i, p in enumerate(pages) if "2027 年 1 月 8 日" in p)
    last = pages[body_end]
    assert "抄送：市委网信办。" in last
    assert re.search(r"抄送：市委网信办。 —\s*\d+\s*—$", last), "抄送 is the page's last line"
    assert not any("抄送" in p for p in pages[body_end + 1 :])
    # the annexes start on a page of their own, in order
    annex_pages = [next(i for i, p in enumerate(pages) if p.startswith(f"附件 {n}")) for n in
                   range(1, 6)]  # fmt: skip
    assert annex_pages == sorted(annex_pages) and annex_pages[0] == body_end + 1
    # 附件5: its title is on the page with its first table, and no table is cut to leave a
    # lone row (each statistics table fits a page: it is kept whole)
    stats = pages[annex_pages[4] :]
    assert "检查情况统计表" in stats[0] and "纳入统计账号数" in stats[0]
    for caption, first_row in (("与上期比较", "纳入统计账号数"), ("按平台", "平台"),
                               ("按地区/部门", "地区/部门")):  # fmt: skip
        page = next(p for p in stats if caption in p)
        assert first_row in page.split(caption, 1)[1], f"{caption} apart from its table"
    # annex 1 tells 整改情况, as the XLSX does
    assert {"已整改", "未整改"} <= set(re.findall(r"[已未]整改", pages[annex_pages[0]]))

    said = PAGE_BREAK.join(pages) + "\n"
    if UPDATE:
        GOLDEN.write_text(said, encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} missing: XUNCHA_UPDATE_GOLDEN=1 writes it"
    want = GOLDEN.read_text(encoding="utf-8")
    assert len(want.split(PAGE_BREAK)) == len(pages), "the page count changed"
    assert said == want, "the pages read differently; XUNCHA_UPDATE_GOLDEN=1 if meant"


def test_nothing_to_compare_with_is_a_dash_not_a_zero(city: App) -> None:
    """Q2 has no quarter before it with checks: the text says 本期不作比较, and the table
    agrees — "—" where "0" and "+13" would compare with nothing."""
    from sqlmodel import Session

    from monitor.report import Period, build_report
    from monitor.report.summary import overview
    from monitor.report.tables import change_table, text

    with Session(city.engine) as s:
        q2 = build_report(s, city.settings, Period.parse("2026Q2"), None, now=AFTER_Q4)
    assert any("本期不作比较" in p.text for p in overview(q2, "附件3"))
    rows = [[text(v) for v in r] for r in change_table(q2).rows]
    assert rows[0][0] == "纳入统计账号数" and rows[0][1] != "—"
    assert all(r[2:] == ["—", "—"] for r in rows), rows
    # and a quarter that has one to compare with shows the figures and the change
    q4_rows = [[text(v) for v in r] for r in change_table(q4(city)).rows]
    assert q4_rows[0][2:] == ["14", "+1"]
