"""The 清理整合 page (/activity): each account's posts per month, followers and silence, the
candidates a supervisor weighs for 清理整合 with their reasons, and the XLSX of both; and the
annual sheet's download (/reports/annual). Always within the asker's units."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from monitor.app import App
from monitor.report.activity import Activity, Candidate, activity, candidates
from monitor.report.period import Period
from monitor.store.scope import units_below
from monitor.web import data
from monitor.web.auth import Principal
from monitor.web.deps import DB, Now, PageUser, XApp
from monitor.web.reports import FORMATS, report_unit

router = APIRouter(include_in_schema=False)
XLSX = FORMATS["xlsx"]


def _codes(session: Session, p: Principal, unit: str) -> set[str] | None:
    """The units shown: the chosen one and those below it (within the asker's), or all of
    the asker's."""
    if not unit:
        return p.units
    if not p.sees(unit):
        raise HTTPException(404, "没有这个单位，或不在您的查看范围内")
    below = units_below(session, unit)
    return below if p.units is None else below & p.units


def _months(now: datetime, xapp: App) -> tuple[Period, Period]:
    tz = xapp.settings.timezone
    d = now.astimezone(ZoneInfo(tz)).date()
    last = Period("month", d.year, d.month, tz)
    first = last
    for _ in range(xapp.settings.activity.months - 1):
        first = first.previous()
    return first, last


def _figures(
    session: Session, xapp: App, p: Principal, unit: str, now: datetime
) -> tuple[list[Activity], list[Candidate], list[str]]:
    first, last = _months(now, xapp)
    acts = activity(
        session, first.first_day, last.last_day, now, xapp.settings.timezone,
        _codes(session, p, unit),
    )  # fmt: skip
    cfg = xapp.settings.activity
    found = candidates(
        acts, silent_days=cfg.silent_days, low_per_month=cfg.low_posts_per_month,
        similarity=cfg.duplicate_similarity,
    )  # fmt: skip
    months = [m.month for m in acts[0].months] if acts else []
    return acts, found, months


@router.get("/activity")
def activity_page(
    request: Request, session: DB, user: PageUser, now: Now, xapp: XApp, unit: str = ""
) -> Response:
    acts, found, months = _figures(session, xapp, user, unit, now)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "activity.html",
        {
            "user": user, "acts": acts, "found": found, "months": months, "unit": unit,
            "units": data.unit_options(session, user), "cfg": xapp.settings.activity,
        },
    )  # fmt: skip


@router.get("/activity/download")
def activity_download(
    session: DB, user: PageUser, now: Now, xapp: XApp, unit: str = ""
) -> Response:
    from monitor.report.annual import xlsx_bytes
    from monitor.show.labels import PLATFORM, label

    acts, found, months = _figures(session, xapp, user, unit, now)
    cand = [
        [c.activity.account_id, c.activity.name, label(PLATFORM, c.activity.platform),
         c.activity.owner_name, c.activity.silent_for, c.activity.posts,
         round(c.activity.per_month, 1) if c.activity.covered else None,
         c.activity.followers, "；".join(c.reasons)]
        for c in found
    ]  # fmt: skip
    per_month = [
        [a.account_id, a.name, label(PLATFORM, a.platform), a.owner_name, m.month,
         *((m.posts, m.originals, m.reposts) if m.seen or m.posts else (None, None, None)),
         m.followers, m.silent_days if m.seen else None]
        for a in acts for m in a.months
    ]  # fmt: skip
    span = f"{months[0]} 至 {months[-1]}" if months else ""
    body = xlsx_bytes([
        ("清理整合候选", f"清理整合候选（{span}）", ("账号编号", "账号名称", "平台", "主办单位",
         "未更新天数", "期间发布", "月均发布", "粉丝数", "原因"), cand),
        ("月度活跃", f"各账号月度发布与粉丝（{span}，每条内容按编号只计一次）", ("账号编号",
         "账号名称", "平台", "主办单位", "月份", "发布", "原创", "转发", "月末粉丝数",
         "无发布天数"), per_month),
    ])  # fmt: skip
    return _attachment(body, f"清理整合-{months[-1] if months else 'none'}.xlsx", XLSX)


@router.get("/reports/annual")
def annual_download(
    session: DB, user: PageUser, now: Now, xapp: XApp, year: str = "", unit: str = "",
    format: str = "xlsx",
) -> Response:  # fmt: skip
    from monitor.report.annual import annual_bytes, annual_rows
    from monitor.store.models import Unit

    if format not in ("xlsx", "csv"):
        raise HTTPException(400, f"年度报表不支持格式 '{format}'：可选 xlsx、csv")
    if not (year.strip().isdigit() and 2000 <= int(year) <= 2100):
        raise HTTPException(400, f"无法识别的年份 '{year}'：请写成 2026")
    code = report_unit(session, user, unit or None)
    codes = units_below(session, code) if code else None
    u = session.get(Unit, code) if code else None
    scope = f"{u.name}及下级单位" if u else "全部单位"
    rows = annual_rows(session, int(year), now, xapp.settings.timezone, codes)
    body = annual_bytes(rows, int(year), format, xapp.settings.timezone, scope)
    return _attachment(body, f"年度报表-{int(year)}-{code or 'all'}.{format}", FORMATS[format])


def _attachment(body: bytes, name: str, media_type: str) -> Response:
    from urllib.parse import quote

    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
