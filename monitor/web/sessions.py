"""The 登录会话 page (admins only): the platform sessions the patrol uses, importing a cookie
file, removing a session, and 扫码登录 (``monitor.sessions.qrlogin``), all without JavaScript:
the QR page reloads itself (a meta refresh) until the login is done or the code expires."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from monitor.sessions import manage
from monitor.sessions.cookiefile import MAX_BYTES, CookieFileError
from monitor.sessions.platforms import LOGIN
from monitor.sessions.qrlogin import QrLogins
from monitor.store import sessions as store
from monitor.store.sealing import SealError
from monitor.web.auth import Principal
from monitor.web.deps import DB, Now, PageUser, XApp, actor, require_csrf
from monitor.web.pages import render

router = APIRouter(include_in_schema=False)

REFRESH_SECONDS = 2  # the QR page reloads this often while it waits for a scan


def _admin(user: Principal) -> None:
    if user.role != "admin":
        raise HTTPException(403, "仅管理员可以管理平台登录会话。")


def _logins(request: Request) -> QrLogins:
    return request.app.state.logins


def _page(
    request: Request, session: Session, user: Principal, xapp: Any, *, notice: str = "",
    notes: list[str] | None = None, error: str = "", status: int = 200,
) -> Response:  # fmt: skip
    tz = xapp.settings.timezone
    rows = store.listing(session)
    response = render(
        request, "sessions.html", user, rows=rows,
        shown=[manage.session_dict(r, tz) for r in rows],
        platforms=[(code, manage.name_of(code)) for code in LOGIN],
        notice=notice, notes=notes or [], error=error, states=store.STATES,
    )  # fmt: skip
    response.status_code = status
    return response


@router.get("/sessions")
def sessions_page(
    request: Request, session: DB, user: PageUser, xapp: XApp, added: int | None = None,
    removed: int | None = None,
) -> Response:  # fmt: skip
    _admin(user)
    notice = ""
    if added is not None:
        notice = f"已导入登录会话 #{added}。"
    elif removed is not None:
        notice = f"已删除登录会话 #{removed}，其 Cookie 已从数据库中抹去。"
    notes = request.query_params.getlist("note")
    return _page(request, session, user, xapp, notice=notice, notes=notes)


@router.post("/sessions/import")
async def sessions_import(
    request: Request,
    session: DB,
    user: PageUser,
    xapp: XApp,
    now: Now,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form()] = "",
    platform: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    pace: Annotated[str, Form()] = "",
) -> Response:
    _admin(user)
    require_csrf(user, csrf)
    data = await file.read(MAX_BYTES + 1)
    try:
        code = manage.platform_code(platform)
        seconds = float(pace) if pace.strip() else None
        row, kept = manage.import_file(
            xapp.engine, xapp.settings, code, data, label=label, pace=seconds,
            by=f"{user.name}（控制台）", now=now, actor=actor(request, user),
        )  # fmt: skip
    except ValueError as e:  # a bad file, platform or pace (CookieFileError, SessionError)
        name = file.filename or "文件"
        said = f"{name}：{e}" if isinstance(e, CookieFileError) else str(e)
        if not isinstance(e, CookieFileError | manage.SessionError):
            said = f"间隔秒数无效：{pace}"
        return _page(request, session, user, xapp, error=said, status=400)
    except SealError as e:
        return _page(request, session, user, xapp, error=str(e), status=500)
    xapp.sessions.refresh()
    notes = [("note", n) for n in kept.notes(manage.name_of(code))]
    return RedirectResponse(f"/sessions?{urlencode([('added', row.id), *notes])}", status_code=303)


@router.post("/sessions/{session_id}/remove")
def sessions_remove(
    request: Request, user: PageUser, xapp: XApp, now: Now, session_id: int,
    csrf: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    _admin(user)
    require_csrf(user, csrf)
    try:
        manage.remove(xapp.engine, session_id, f"{user.name}（控制台）", now, actor(request, user))
    except manage.SessionError as e:
        raise HTTPException(404, str(e)) from e
    xapp.sessions.refresh()
    return RedirectResponse(f"/sessions?removed={session_id}", status_code=303)


@router.post("/sessions/login")
async def sessions_login(
    request: Request, user: PageUser, csrf: Annotated[str, Form()] = "",
    platform: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    _admin(user)
    require_csrf(user, csrf)
    try:
        code = manage.platform_code(platform)
    except manage.SessionError as e:
        raise HTTPException(400, str(e)) from e
    flow = _logins(request).start(code, user.name, actor(request, user))
    return RedirectResponse(f"/sessions/login/{flow.token}", status_code=303)


@router.get("/sessions/login/{token}")
def sessions_login_page(request: Request, user: PageUser, xapp: XApp, token: str) -> Response:
    _admin(user)
    flow = _logins(request).get(token)
    if flow is None:
        raise HTTPException(404, "该扫码登录已结束或不存在（扫码登录只在发起它的服务器上有效）。")
    left = xapp.settings.sessions.login_timeout_seconds - (time.monotonic() - flow.started)
    return render(
        request, "session_login.html", user, flow=flow, platform_name=manage.name_of(flow.platform),
        refresh=REFRESH_SECONDS if flow.open else None, left=max(0, int(left)),
    )  # fmt: skip


@router.get("/sessions/login/{token}/qr.png")
def sessions_login_qr(request: Request, user: PageUser, token: str) -> Response:
    _admin(user)
    flow = _logins(request).get(token)
    if flow is None or flow.qr is None:
        raise HTTPException(404, "还没有二维码。")
    return Response(flow.qr, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/sessions/login/{token}/cancel")
def sessions_login_cancel(
    request: Request, user: PageUser, token: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    _admin(user)
    require_csrf(user, csrf)
    _logins(request).cancel(token)
    return RedirectResponse("/sessions", status_code=303)
