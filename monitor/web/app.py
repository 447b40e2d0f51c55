"""The FastAPI application: pages, API, security headers, error pages.

Jinja2 autoescapes every template; no template marks scraped text ``|safe``. The CSP
allows only this origin and no scripts at all: the console needs none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from monitor import timefmt
from monitor.app import App
from monitor.show.labels import (
    ARTIFACT,
    KIND,
    KIND_CATEGORY,
    OUTCOME,
    PATROL_KINDS,
    PLATFORM,
    READER,
    SEVERITY,
    STATUS,
    label,
)
from monitor.show.wording import deadline_note, finding_title, kind_label
from monitor.web.cache import AccountCache
from monitor.web.deps import LoginRequired, NotFound, WrongRole
from monitor.web.stats import StatsCache
from probes.checks.rules import RuleSet, rule_text, ruleset_title

HERE = Path(__file__).parent
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


FIELD_NAMES = {
    "name": "名称",
    "bio": "简介",
    "avatar_url": "头像地址",
    "avatar_hash": "头像指纹",
    "verified": "已认证",
    "verified_type": "认证类型",
    "verified_reason": "认证信息",
    "ip_location": "IP 属地",
    "followers": "粉丝数",
    "posts_count": "发布总数",
    "outcome": "抓取结果",
    "status_code": "HTTP 状态",
    "latest_post_at": "最近更新",
    "post_count": "内容条数",
    "final_url": "最终地址",
}


def safe_href(url: Any) -> str:
    """A scraped URL usable as a link only if it is plain http(s); else no link at all."""
    if not isinstance(url, str):
        return ""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""
    return url.strip() if scheme in ("http", "https") else ""


def field_value(field: str, value: Any) -> Any:
    """A snapshot column's value as people read it (``ok`` is 正常)."""
    if field == "outcome" and isinstance(value, str):
        return label(OUTCOME, value)
    return value


def _local(dt: Any, tz: str, seconds: bool = False) -> str:
    """``monitor.timefmt.shown``; a stored ISO string (facts) is parsed first, and a
    string that is not a time is shown as it is."""
    if isinstance(dt, str):
        when = timefmt.parse(dt)
        if when is None:
            return dt
        dt = when
    if not isinstance(dt, datetime):
        return timefmt.NONE
    return timefmt.shown(dt, tz, seconds=seconds)


def _pretty(value: Any, tz: str) -> str:
    """Any value from evidence or facts as a cell: words for None and booleans, our times."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return _local(value, tz)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def make_templates(
    tz: str, rulesets: Callable[[], dict[str, RuleSet]] | None = None
) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.autoescape = True

    def rules() -> dict[str, RuleSet]:
        return rulesets() if rulesets else {}

    env.globals["zone_label"] = timefmt.zone_label(tz)
    env.globals["deadline_note"] = deadline_note
    env.globals["finding_title"] = finding_title  # the words the CLI uses too
    env.globals["kind_label"] = kind_label
    env.globals["patrol_kinds"] = PATROL_KINDS
    env.filters.update(
        local=lambda dt, seconds=False: _local(dt, tz, seconds),
        pretty=lambda v: _pretty(v, tz),
        times=lambda v: timefmt.shown_in(v, tz),  # our own times inside evidence and facts
        href=safe_href,
        sev=lambda c: label(SEVERITY, c or ""),
        platform=lambda c: label(PLATFORM, c or ""),
        kind=lambda c: label(KIND, c or ""),
        category=lambda c: label(KIND_CATEGORY, c or ""),  # the kind's 问题类别
        status=lambda c: label(STATUS, c or ""),
        outcome=lambda c: label(OUTCOME, c or ""),
        urlq=lambda s: quote(str(s), safe=""),
        field=lambda f: FIELD_NAMES.get(f, f),
        fieldvalue=field_value,
        artifact=lambda c: label(ARTIFACT, c or ""),
        reader=lambda c: label(READER, c or "") if c in READER else label(PLATFORM, c or ""),
        rule=lambda code: rule_text(code or "", rules()),  # never a rule's code
        ruleset=lambda name: ruleset_title(name or "", rules()),
        pct=lambda v: "—" if v is None else f"{v * 100:.1f}%",
    )
    return templates


async def _security_headers(request: Request, call_next: Callable[..., Any]) -> Response:
    started = time.perf_counter()
    response: Response = await call_next(request)
    # server time, for ops and bench/web.py (browser dev tools show it too)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    if "cache-control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(request: Request, status: int, message: str) -> Response:
    """JSON for the API, the console's error page for people."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status)
    return request.app.state.templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "user": getattr(request.state, "user", None)},
        status_code=status,
    )  # fmt: skip


def _error_pages(web: FastAPI) -> None:
    """Every refusal and error as a page (or JSON for the API), a missing login as the
    login page."""

    @web.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @web.exception_handler(WrongRole)
    async def _wrong_role(request: Request, exc: WrongRole) -> Response:
        # an administrator who opens the overview (a bookmark, the logo) lands on their page
        if request.url.path == "/" and request.method == "GET":
            return RedirectResponse(exc.user.home, status_code=303)
        return _error_page(request, 403, exc.message)

    @web.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error_page(request, 404, "未找到：该对象不存在，或不在您有权查看的单位范围内。")

    @web.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "请求有误"
        if exc.status_code == 404 and message == "Not Found":
            message = "未找到该页面。"
        response = _error_page(request, exc.status_code, message)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(".".join(str(x) for x in e.get("loc", ())[1:]) for e in exc.errors())
        return _error_page(request, 400, f"请求参数有误：{fields or '格式不对'}")


def create_app(xapp: App, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The console for one opened App; ``clock`` is injectable for tests."""
    from monitor.sessions.qrlogin import QrLogins
    from monitor.web import (
        activity,
        admin_audit,
        admin_security,
        admin_system,
        api,
        browse,
        evidence,
        pages,
        rectify,
        sessions,
    )
    from monitor.web import login as login_pages

    web = FastAPI(
        title="巡查 xuncha API",
        description="政务新媒体巡查的只读数据与问题确认接口；每个令牌只能看到其用户所属单位的数据。",
        version="1",
        docs_url=None,  # Swagger UI loads scripts from a CDN: nothing external
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    web.state.xapp = xapp
    web.state.clock = clock or xapp.clock
    web.state.templates = make_templates(xapp.settings.timezone, lambda: xapp.rulesets)
    web.state.cache = AccountCache()
    web.state.stats = StatsCache(xapp.engine)
    # 扫码登录 in progress (monitor.sessions.qrlogin): the patrol reads a new session at once
    web.state.logins = QrLogins(
        xapp.engine, lambda: xapp.settings, xapp.clock, on_saved=xapp.sessions.refresh
    )

    web.middleware("http")(_security_headers)
    _error_pages(web)
    web.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    web.include_router(browse.router)
    web.include_router(login_pages.router)
    web.include_router(pages.router)
    web.include_router(activity.router)  # 清理整合 and the annual sheet (monitor/web/activity.py)
    web.include_router(api.router)
    web.include_router(admin_audit.api_router)  # GET /api/v1/audit: the 审计管理员's only
    for admin in (admin_audit, admin_security, admin_system):  # the three administrators
        web.include_router(admin.router)
    web.include_router(evidence.router)  # pictures of stored pages (monitor/web/evidence.py)
    web.include_router(sessions.router)  # platform login sessions, admins only
    web.include_router(rectify.router)  # 已整改 (the signed link too) and the 复核 queue
    return web
