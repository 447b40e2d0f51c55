"""The report as a standalone web page, from ``templates/report.html`` (Jinja2).

Autoescaped: account and unit names come from scraped pages and hand-filled spreadsheets,
so every value is escaped; the page loads nothing external and runs no script. Its sections
are the 通报's (一、总体情况 二、存在问题 三、工作要求, the lists as annexes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor import timefmt
from monitor.config import ReportConfig
from monitor.report import summary
from monitor.report.model import Report
from monitor.report.tables import (
    NONE,
    Col,
    Deadline,
    definitions,
    is_number,
    list_tables,
    summary_tables,
    text,
)

# where the page lists the accounts it could not judge (``list_tables``: 单项否决, 扣分, 无法判定)
UNJUDGED_ANNEX = "附件3"

TEMPLATES = Path(__file__).parent / "templates"
WIDE = 22  # a list column this wide (依据规则, 问题) keeps a readable width on the page


def _kind(v: Any, col: Col) -> str:
    """A cell's class: numbers right-aligned, deadlines unbroken, times and long words given
    room (a 13-column list must not squeeze 问题 to a character a line), no value centred."""
    if v is None or v == NONE:
        return "none"
    if is_number(v):
        return "n"
    if isinstance(v, Deadline):
        return "t"
    if not isinstance(v, str):
        return "d"
    return "w" if col.wrap and col.width >= WIDE else ""


def render_html(
    report: Report, tz: str = timefmt.DEFAULT_TZ, config: ReportConfig | None = None
) -> str:
    """The page; the same for the same report whenever it is rendered."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    config = config or ReportConfig()
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    template = env.get_template("report.html")
    return template.render(
        report=report,
        zone=timefmt.zone_label(report.period.tz),
        overview=summary.overview(report, UNJUDGED_ANNEX),
        problems=summary.problems(report, config.examples_per_category),
        requirements=summary.requirements(config.requirements),
        summary_tables=summary_tables(report),
        lists=list_tables(report, tz),
        definitions=definitions(report),
        cell=lambda v: text(v, tz),
        kind=_kind,
        cn_number=summary.cn_number,
    )
