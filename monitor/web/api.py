"""The JSON API (``/api/v1``): the console's data for scripts, with bearer tokens.

Same scope as the pages: objects outside the token user's units answer 404. Tokens are
made with ``xuncha users token NAME``; the OpenAPI document is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from monitor.store import audit, changes, history
from monitor.store.findings import AckError, acknowledge
from monitor.store.models import Unit
from monitor.web import data
from monitor.web.deps import DB, ApiLogin, ApiUser, Cache, NotFound, Now, Stats, XApp, actor
from monitor.web.overview import overview as overview_of
from monitor.web.pages import artifact
from monitor.web.reports import report_response
from monitor.web.roles import ACK, ROLES, rights_of
from monitor.web.roster import ACCOUNT_SORTS, AccountFilter, count_accounts, list_accounts

router = APIRouter(prefix="/api/v1", tags=["xuncha"])

# what the two long lists (accounts, findings) take alike
UnitQuery = Annotated[str | None, Query(description="单位编码（含其下级单位）")]
ListLimit = Annotated[int, Query(ge=1, le=5000)]
Offset = Annotated[int, Query(ge=0)]
NOT_FOUND = {404: {"description": "不存在，或不在令牌用户的单位范围内"}}


class AckBody(BaseModel):
    note: str = Field("", max_length=2000, description="确认说明（如：已通知主办单位更新）")


@router.get("/me", summary="当前令牌的用户、角色、权限与可见单位")
def me(session: DB, user: ApiLogin) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "role_label": ROLES.get(user.role, user.role),
        "rights": sorted(rights_of(user.role)),
        "unit": user.unit_code,
        "units": [u.code for u in data.visible_units(session, user)],
    }


@router.get(
    "/overview",
    summary="总览：账号概况、巡查运行、问题统计、趋势、本季度合格率、两个工作日内将超期的账号",
)
def overview(session: DB, user: ApiUser, now: Now, xapp: XApp, stats: Stats) -> dict[str, Any]:
    """``pass_rates``, ``trends.updates`` and ``due_soon`` are computed in the background on
    a large database: each says when it was computed, and ``pending`` while a newer one is
    being computed (``value`` null until the first is ready)."""
    return overview_of(session, user, xapp, now, stats).to_dict(xapp.settings.timezone)


@router.get("/accounts", summary="账号列表（含巡查与更新情况；可筛选、排序、分页）")
def accounts(
    session: DB,
    user: ApiUser,
    now: Now,
    xapp: XApp,
    response: Response,
    unit: UnitQuery = None,
    platform: str | None = None,
    status: Annotated[str, Query(pattern="^(active|closed|all)$")] = "active",
    health: Annotated[str | None, Query(pattern="^(failing|risk|patrol|ok)$")] = None,
    q: Annotated[str, Query(max_length=100, description="名称、编号或平台标识")] = "",
    sort: Annotated[str, Query(pattern=f"^({'|'.join(ACCOUNT_SORTS)})$")] = "name",
    desc: bool = False,
    limit: ListLimit = 500,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Sorted by ``sort`` in its natural order (``desc`` reverses it); the header
    ``X-Total-Count`` says how many match, for paging. ``health``: failing = a 单项否决 or 严重
    open, risk = a 预警 and nothing worse, patrol = 巡查异常, ok = none of the unit's open."""
    which = AccountFilter(unit, platform, status, health, q.strip())
    rows = list_accounts(session, user, which, sort=sort, desc=desc, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(count_accounts(session, user, which))
    tz = xapp.settings.timezone
    return [{**data.account_json(r.account, None), **r.to_dict(tz, now)} for r in rows]


def _account(session: Any, user: Any, account_id: str) -> Any:
    a = data.get_account(session, user, account_id)
    if a is None:
        raise NotFound
    return a


@router.get("/accounts/{account_id}", summary="账号详情", responses=NOT_FOUND)
def account(session: DB, user: ApiUser, account_id: str) -> dict[str, Any]:
    a = _account(session, user, account_id)
    return data.account_json(a, session.get(Unit, a.owner_code))


@router.get("/accounts/{account_id}/snapshots", summary="快照列表（新的在前，按 before_id 翻页）",
            responses=NOT_FOUND)  # fmt: skip
def snapshots(
    session: DB,
    user: ApiUser,
    xapp: XApp,
    account_id: str,
    before_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    a = _account(session, user, account_id)
    rows = history.account_history(session, a.id, before_id=before_id, limit=limit)
    return [r.to_dict(xapp.settings.timezone) for r in rows]


@router.get("/accounts/{account_id}/timeline", summary="每日发布数量", responses=NOT_FOUND)
def timeline(
    session: DB,
    user: ApiUser,
    now: Now,
    xapp: XApp,
    cache: Cache,
    account_id: str,
    days: Annotated[int, Query(ge=1, le=730)] = 90,
) -> list[dict[str, Any]]:
    a = _account(session, user, account_id)
    series = data.timeline(session, xapp, cache, a.id, now, days)
    return [{"date": d.isoformat(), "posts": n} for d, n in series]


@router.get("/accounts/{account_id}/profile-changes", summary="资料变更记录",
            responses=NOT_FOUND)  # fmt: skip
def profile_changes(
    session: DB,
    user: ApiUser,
    xapp: XApp,
    cache: Cache,
    account_id: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    a = _account(session, user, account_id)
    changes = data.profile_changes(session, cache, a.id, limit)
    return [c.to_dict(xapp.settings.timezone) for c in changes]


@router.get("/snapshots/{snapshot_id}", summary="快照详情（提取的事实与证据文件列表）",
            responses=NOT_FOUND)  # fmt: skip
def snapshot(session: DB, user: ApiUser, xapp: XApp, snapshot_id: int) -> dict[str, Any]:
    if data.snapshot_account(session, user, snapshot_id) is None:
        raise NotFound
    detail = history.snapshot_detail(session, snapshot_id)
    if detail is None:
        raise NotFound
    return detail.to_dict(xapp.settings.timezone)


@router.get(
    "/snapshots/{snapshot_id}/artifacts/{index}",
    summary="证据文件（截图为图片；网页仅作纯文本或附件）",
    responses=NOT_FOUND,
    response_class=Response,
)
def snapshot_artifact(
    session: DB, user: ApiUser, xapp: XApp, snapshot_id: int, index: int, download: bool = False
) -> Response:
    return artifact(session, user, xapp, snapshot_id, index, download)


@router.get("/diff", summary="比较同一账号的两个快照", responses=NOT_FOUND)
def diff(session: DB, user: ApiUser, xapp: XApp, a: int, b: int) -> dict[str, Any]:
    for sid in (a, b):
        if data.snapshot_account(session, user, sid) is None:
            raise NotFound
    try:
        return changes.diff_snapshots(session, a, b).to_dict(xapp.settings.timezone)
    except ValueError as e:
        raise HTTPException(400, str(e)) from e


@router.get("/findings", summary="问题列表（可筛选、排序、分页）")
def findings(
    session: DB,
    user: ApiUser,
    now: Now,
    xapp: XApp,
    response: Response,
    status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open",
    unit: UnitQuery = None,
    account: str | None = None,
    severity: str | None = None,
    platform: str | None = None,
    kind: str | None = None,
    category: Annotated[str | None, Query(description="问题类别；patrol = 巡查异常")] = None,
    q: Annotated[str, Query(max_length=100, description="问题、账号或单位名称")] = "",
    sort: Annotated[str, Query(pattern=f"^({'|'.join(data.FINDING_SORTS)})$")] = "opened",
    desc: bool = False,
    limit: ListLimit = 500,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Newest first by default (``sort``: opened, updated, deadline — soonest first,
    severity — worst first, account, unit; ``desc`` reverses it); the header
    ``X-Total-Count`` says how many match, for paging."""
    which = data.FindingFilter(
        status, unit, account, severity, platform, kind, category, q.strip()
    )  # fmt: skip
    rows = data.list_findings(
        session, user, which, limit=limit, offset=offset, sort=sort, desc=desc
    )
    response.headers["X-Total-Count"] = str(data.count_findings(session, user, which))
    return [data.finding_json(r, xapp.settings.timezone, now) for r in rows]


@router.get("/findings/{finding_id}", summary="问题详情", responses=NOT_FOUND)
def finding(session: DB, user: ApiUser, now: Now, xapp: XApp, finding_id: int) -> dict[str, Any]:
    row = data.get_finding(session, user, finding_id)
    if row is None:
        raise NotFound
    return data.finding_json(row, xapp.settings.timezone, now)


@router.post("/findings/{finding_id}/ack", summary="确认问题（已知悉）", responses=NOT_FOUND)
def ack(
    request: Request,
    session: DB,
    user: ApiUser,
    now: Now,
    xapp: XApp,
    finding_id: int,
    body: Annotated[AckBody | None, Body()] = None,
) -> dict[str, Any]:
    if data.get_finding(session, user, finding_id) is None:
        raise NotFound
    if not user.may(ACK):
        raise HTTPException(403, "您的角色无权确认问题")
    tz = xapp.settings.timezone
    note = (body.note if body else "").strip()
    try:
        f = acknowledge(session, finding_id, by=user.name, note=note, now=now, tz=tz)
    except AckError as e:
        raise HTTPException(409, str(e)) from e
    detail = {"note": note} if note else None
    audit.record(session, actor(request, user), "ack", now, target=f"问题 #{finding_id}",
                 detail=detail)  # fmt: skip
    session.commit()
    row = data.get_finding(session, user, finding_id)
    assert row is not None and f.id == finding_id
    return data.finding_json(row, tz, now)


@router.get(
    "/reports/{period}",
    summary="报表：xlsx / docx / csv / html 附件，或 json",
    responses=NOT_FOUND,
    response_class=Response,
)
def report(
    session: DB,
    user: ApiUser,
    now: Now,
    xapp: XApp,
    period: str,
    unit: str | None = None,
    format: Annotated[str, Query(pattern="^(xlsx|docx|csv|html|json)$")] = "xlsx",
) -> Response:
    return report_response(session, xapp, user, period, unit, format, now)
