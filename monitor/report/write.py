"""The report as people receive it: CSV here; the workbook (``xlsx``), the web page
(``htmlpage``) and the 公文 (``bulletin``) in their own modules, all from ``tables``.

Account names and unit names come from scraped pages and hand-filled spreadsheets, so they
are hostile: HTML escapes every value; CSV and XLSX neutralise text that a spreadsheet would
run as a formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``) — CSV by a leading ``'``, XLSX by
storing it as text with Excel's quote prefix. CSV is UTF-8 with a BOM so Excel reads Chinese.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import IO, Any

from monitor import timefmt
from monitor.config import ReportConfig
from monitor.report.bulletin import docx_bytes
from monitor.report.htmlpage import render_html
from monitor.report.model import Report
from monitor.report.tables import (
    PP,
    Delta,
    definitions,
    list_tables,
    pct,
    summary_tables,
    text,
)
from monitor.report.xlsx import FORMULA_START, write_xlsx, xlsx_bytes

__all__ = [
    "FORMATS",
    "docx_bytes",
    "pct",
    "render_html",
    "report_bytes",
    "report_filename",
    "write_csv",
    "write_xlsx",
    "xlsx_bytes",
]

#: what a report can be written as (``json``: the report's own dict, for machines)
FORMATS = ("xlsx", "docx", "html", "csv", "json")


def report_bytes(
    report: Report,
    fmt: str,
    tz: str = timefmt.DEFAULT_TZ,
    config: ReportConfig | None = None,
    *,
    issued: date | None = None,
    seq: str = "",
) -> bytes:
    """The report as the file of format ``fmt`` (one of ``FORMATS``): what the CLI writes
    and the console hands out. ``issued``/``seq``: the 公文's date and 文号 number."""
    if fmt == "xlsx":
        return xlsx_bytes(report, tz)
    if fmt == "docx":
        return docx_bytes(report, config, tz, issued=issued, seq=seq)
    if fmt == "html":
        return render_html(report, tz, config).encode("utf-8")
    if fmt == "csv":
        buf = io.BytesIO()
        write_csv(report, buf, tz)
        return buf.getvalue()
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r}")


def report_filename(report: Report, fmt: str, unit: str) -> str:
    """``xuncha-report-2026Q4-GZ.xlsx``, safe as a file name and in a header."""
    name = (
        f"xuncha-report-{report.period}-{unit}.{fmt}"
        if unit
        else f"xuncha-report-{report.period}.{fmt}"
    )
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _csv_safe(v: Any, tz: str) -> Any:
    """A cell for CSV: our own signed figures ("+3", "-1.25 个百分点") are numbers to a
    spreadsheet and stay as they are; any other text that starts like a formula gets a '."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    s = text(v, tz)
    if isinstance(v, PP | Delta):
        return s
    return "'" + s if s.startswith(FORMULA_START) else s


def write_csv(report: Report, stream: IO[str] | IO[bytes], tz: str = timefmt.DEFAULT_TZ) -> None:
    """One CSV, sections separated by a blank line; UTF-8 with BOM (written to the stream).

    A binary stream gets UTF-8 bytes; a text stream gets text (open it with
    ``encoding="utf-8-sig"`` or let this write the BOM: it does, as U+FEFF).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([_csv_safe(report.title, tz)])
    for t in [*summary_tables(report), *list_tables(report, tz)]:
        w.writerow([])
        w.writerow([t.title])
        w.writerow(t.headers)
        for r in t.rows:
            w.writerow([_csv_safe(v, tz) for v in r])
        if not t.rows:
            w.writerow(["（无）"])
    w.writerow([])
    w.writerow(["说明"])
    for line in definitions(report):
        w.writerow([_csv_safe(line, tz)])
    out = "\ufeff" + buf.getvalue()
    if isinstance(stream, io.TextIOBase) or hasattr(stream, "encoding"):
        stream.write(out)  # type: ignore[arg-type]
    else:
        stream.write(out.encode("utf-8"))  # type: ignore[arg-type]
