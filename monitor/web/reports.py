"""Report downloads (monitor.report) within the asker's units, as safe attachments."""

from __future__ import annotations

from datetime import datetime

from fastapi import HTTPException
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from monitor.app import App
from monitor.store.scope import units_below
from monitor.web.auth import Principal
from monitor.web.deps import NotFound

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    # the 通报 as a 公文 (monitor.report.bulletin): letterhead and wording from [report]
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


def report_unit(session: Session, p: Principal, unit: str | None) -> str | None:
    """The unit a report may cover: its whole subtree must be within the asker's units."""
    unit = unit or p.unit_code
    if unit is None:
        if p.units is None:
            return None  # an admin: all units
        raise HTTPException(400, "请选择单位")
    if not p.sees(unit):
        raise NotFound
    if p.units is not None and not units_below(session, unit) <= p.units:
        raise HTTPException(403, "报表包含下级单位，超出您的查看范围；请联系主管单位或管理员生成。")
    return unit


def report_response(
    session: Session, xapp: App, p: Principal, period_text: str, unit: str | None, fmt: str,
    now: datetime,
) -> Response:  # fmt: skip
    from monitor.report import Period, PeriodError, ReportError, build_report
    from monitor.report.write import report_bytes, report_filename

    if fmt not in FORMATS and fmt != "json":
        raise HTTPException(400, f"不支持的格式 '{fmt}'：可选 {'、'.join(FORMATS)}")
    tz = xapp.settings.timezone
    try:
        period = (
            Period.parse(period_text.strip(), tz) if period_text else Period.containing(now, tz)
        )
    except PeriodError as e:
        raise HTTPException(400, str(e)) from e
    code = report_unit(session, p, unit)
    try:
        report = build_report(session, xapp.settings, period, code, now=now)
    except ReportError as e:
        raise HTTPException(400, str(e)) from e
    if fmt == "json":  # the API's machine-readable form
        return JSONResponse(report.to_dict())
    name = report_filename(report, fmt, code or "all")
    return Response(
        report_bytes(report, fmt, tz, xapp.settings.report),
        media_type=FORMATS[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        },
    )
