"""Inspection reports (通报) for a period, computed from snapshots and findings."""

from monitor.report.build import Report, ReportError, build_report
from monitor.report.period import Period, PeriodError
from monitor.report.write import (
    docx_bytes,
    render_html,
    write_csv,
    write_xlsx,
    xlsx_bytes,
)

__all__ = [
    "Period",
    "PeriodError",
    "Report",
    "ReportError",
    "build_report",
    "docx_bytes",
    "render_html",
    "write_csv",
    "write_xlsx",
    "xlsx_bytes",
]
