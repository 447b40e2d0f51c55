"""Request plumbing shared by pages and API: the app, a database session, who is asking."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from monitor import timefmt
from monitor.app import App
from monitor.web import throttle
from monitor.web.auth import Principal, session_user, token_user
from monitor.web.cache import AccountCache
from monitor.web.stats import StatsCache

log = structlog.get_logger("xuncha.web")

SESSION_COOKIE = "xuncha_session"
LOGIN_CSRF_COOKIE = "xuncha_login_csrf"


class LoginRequired(Exception):
    """A page was asked for without a valid console login: go to the login page."""


class NotFound(Exception):
    """Unknown, or not the asker's: the same answer for both, so nothing leaks."""


def xapp(request: Request) -> App:
    return request.app.state.xapp


def clock(request: Request) -> datetime:
    now: Callable[[], datetime] = request.app.state.clock
    return now()


def cache(request: Request) -> AccountCache:
    return request.app.state.cache


def stats(request: Request) -> StatsCache:
    return request.app.state.stats


def db(request: Request) -> Iterator[Session]:
    with Session(xapp(request).engine) as s:
        yield s


DB = Annotated[Session, Depends(db)]
Now = Annotated[datetime, Depends(clock)]
XApp = Annotated[App, Depends(xapp)]
Cache = Annotated[AccountCache, Depends(cache)]
Stats = Annotated[StatsCache, Depends(stats)]


def page_user(request: Request, session: DB, now: Now) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    p = session_user(session, cookie, now) if cookie else None
    if p is None:
        raise LoginRequired
    request.state.user = p  # error pages keep the menu
    return p


_bearer = HTTPBearer(auto_error=False, description="`xuncha users token NAME` 生成的令牌")


def api_user(
    request: Request,
    session: DB,
    now: Now,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The token's holder. Wrong tokens are counted per client address (``[web]
    token_attempts`` within ``token_pause_minutes``, on every node): past that, every token
    from the address is refused with 429 until the window passes; other addresses, and
    requests with no token at all, are not touched."""
    if creds is None:
        raise _unauthorized()
    settings = xapp(request).settings.web
    address = request.client.host if request.client else ""
    attempts, pause = settings.token_attempts, timedelta(minutes=settings.token_pause_minutes)
    until = throttle.paused_until(session, throttle.TOKEN, address, now, attempts, pause)
    if until is None:
        p = token_user(session, creds.credentials, now)
        if p is not None:
            return p
        session.rollback()  # the connection goes back to the pool while the attempt is noted
        attempt = throttle.claim(
            xapp(request).engine, throttle.TOKEN, address, address, now, attempts, pause
        )
        if attempt.until is None:
            log.warning("api_token_failed", address=address, failures=attempt.count)
            if attempt.count >= attempts:
                log.warning("api_token_paused_now", address=address, failures=attempt.count)
            raise _unauthorized()
        until = attempt.until
    log.warning("api_token_paused", address=address, until=until.isoformat())
    shown = timefmt.shown(until, xapp(request).settings.timezone)
    raise HTTPException(
        429,
        f"来自该地址的无效令牌过多，暂停受理，请于 {shown} 后再试",
        headers={"Retry-After": str(max(1, math.ceil((until - now).total_seconds())))},
    )


def _unauthorized() -> HTTPException:
    return HTTPException(
        401, "未登录或令牌无效：请使用 Authorization: Bearer <令牌>",
        headers={"WWW-Authenticate": "Bearer"},
    )  # fmt: skip


PageUser = Annotated[Principal, Depends(page_user)]
ApiUser = Annotated[Principal, Depends(api_user)]
