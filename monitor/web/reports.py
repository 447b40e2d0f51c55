"""Report downloads (monitor.report) within the asker's units, as safe attachments."""

from __future__ import annotations

import io
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
    from monitor.report import (
        Period,
        PeriodError,
        ReportError,
        build_report,
        docx_bytes,
        render_html,
        write_csv,
        xlsx_bytes,
    )

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
    config = xapp.settings.report
    if fmt == "xlsx":
        body = xlsx_bytes(report, tz)
    elif fmt == "docx":
        body = docx_bytes(report, config, tz)
    elif fmt == "csv":
        buf = io.BytesIO()
        write_csv(report, buf, tz)
        body = buf.getvalue()
    else:
        body = render_html(report, tz, config).encode("utf-8")
    name = f"xuncha-report-{period}-{code or 'all'}.{fmt}"
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return Response(
        body,
        media_type=FORMATS[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        },
    )
