"""Inspection reports (通报) for a period, computed from snapshots and findings."""

from monitor.report.build import Report, ReportError, build_report
from monitor.report.period import Period, PeriodError
from monitor.report.write import render_html, write_csv, write_xlsx

__all__ = [
    "Period",
    "PeriodError",
    "Report",
    "ReportError",
    "build_report",
    "render_html",
    "write_csv",
    "write_xlsx",
]
