"""The 审计管理员's page and API: the audit log, read only (``/audit``, ``/api/v1/audit``).

Filters (操作, 操作人, 结果, 日期) are kept in every link; ``verify=1`` walks the whole chain
(``monitor.store.audit.verify``); an export (CSV or JSON, every field with the hashes, so
anyone can check the chain outside) is itself recorded. Nobody, this role included, has a
way to change a row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from monitor import timefmt
from monitor.show import audit as shown
from monitor.store import audit
from monitor.web.auth import Principal
from monitor.web.deps import DB, Now, XApp, actor, api_right, page_right
from monitor.web.pages import render
from monitor.web.paging import link, pager

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["xuncha"])

Auditor = Annotated[Principal, Depends(page_right("audit"))]
ApiAuditor = Annotated[Principal, Depends(api_right("audit"))]
PAGE_SIZE = 100


def _filter(
    tz: str, action: str, actor_name: str, result: str, since: str, until: str
) -> audit.Filter:
    if action and action not in audit.ACTIONS:
        raise HTTPException(400, f"没有操作 '{action}'")
    success = {"ok": True, "failed": False}.get(result)
    try:
        start, end = shown.day_start(since, tz), shown.day_start(until, tz, end=True)
    except ValueError as e:
        raise HTTPException(400, str(e)) from e
    return audit.Filter(
        action=action or None, actor=actor_name.strip() or None, success=success,
        since=start, until=end,
    )  # fmt: skip


@dataclass(frozen=True)
class Filtered:
    """The page's filters as given (kept in every link) and as the log's query reads them."""

    params: dict[str, str]
    flt: audit.Filter


def _filtered(
    xapp: XApp,
    action: str = "",
    actor_name: Annotated[str, Query(alias="actor")] = "",
    result: str = "",
    since: str = "",
    until: str = "",
) -> Filtered:
    flt = _filter(xapp.settings.timezone, action, actor_name, result, since, until)
    params = {"action": action, "actor": actor_name, "result": result, "since": since,
              "until": until}  # fmt: skip
    return Filtered(params, flt)


PageFilter = Annotated[Filtered, Depends(_filtered)]


@router.get("/audit")
def audit_page(
    request: Request,
    session: DB,
    user: Auditor,
    which: PageFilter,
    page: int = 1,
    verify: bool = False,
) -> Response:
    flt, params = which.flt, which.params
    total = audit.count(session, flt)
    pg = pager("/audit", params, total, page, PAGE_SIZE)
    rows = audit.newest(session, flt, limit=PAGE_SIZE, offset=pg.offset)
    verdict = audit.verify(session) if verify else None
    return render(
        request, "audit.html", user, rows=rows, pager=pg, params=params, verdict=verdict,
        actions=audit.ACTIONS, vias=audit.VIAS, export=link("/audit/export", params),
        verify_link=link("/audit", params, verify=1), details=shown.details,
    )  # fmt: skip


@router.get("/audit/export")
def audit_export(
    request: Request,
    session: DB,
    user: Auditor,
    which: PageFilter,
    xapp: XApp,
    now: Now,
    format: Annotated[str, Query(pattern="^(csv|json)$")] = "csv",
) -> Response:
    tz = xapp.settings.timezone
    rows = [shown.row_dict(r, tz) for r in audit.oldest_first(session, which.flt)]
    params = {**which.params, "format": format}
    audit.record(session, actor(request, user), "audit_export", now, target=f"{len(rows)} 条",
                 detail={k: v for k, v in params.items() if v})  # fmt: skip
    session.commit()
    stamp = timefmt.local(now, tz).strftime("%Y%m%d-%H%M%S")
    if format == "json":
        body = json.dumps(rows, ensure_ascii=False, indent=1).encode()
        media = "application/json"
    else:
        body = shown.to_csv(rows).encode("utf-8-sig")  # Excel reads the BOM as UTF-8
        media = "text/csv; charset=utf-8"
    return Response(
        body, media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{format}"'},
    )  # fmt: skip


@api_router.get("/audit", summary="审计记录（仅审计管理员；新的在前，可筛选、分页）")
def audit_api(
    session: DB,
    user: ApiAuditor,
    xapp: XApp,
    response: Response,
    action: str = "",
    actor_name: Annotated[str, Query(alias="actor")] = "",
    result: Annotated[str, Query(pattern="^(|ok|failed)$")] = "",
    since: str = "",
    until: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    tz = xapp.settings.timezone
    flt = _filter(tz, action, actor_name, result, since, until)
    response.headers["X-Total-Count"] = str(audit.count(session, flt))
    rows = audit.newest(session, flt, limit=limit, offset=offset)
    return [shown.row_dict(r, tz) for r in rows]
