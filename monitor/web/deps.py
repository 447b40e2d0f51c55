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
from monitor.store import audit
from monitor.web import throttle
from monitor.web.auth import Principal, same_secret, token_user
from monitor.web.cache import AccountCache
from monitor.web.logins import session_user
from monitor.web.roles import DATA, ROLES
from monitor.web.stats import StatsCache

log = structlog.get_logger("xuncha.web")

SESSION_COOKIE = "xuncha_session"
UNKNOWN = "（未识别）"  # the audit log's actor for a wrong API token
LOGIN_CSRF_COOKIE = "xuncha_login_csrf"


class LoginRequired(Exception):
    """A page was asked for without a valid console login: go to the login page."""


class NotFound(Exception):
    """Unknown, or not the asker's: the same answer for both, so nothing leaks."""


class WrongRole(Exception):
    """The asker's role may not do this (monitor/web/roles.py): 403, or their own page."""

    def __init__(self, user: Principal) -> None:
        super().__init__(user.role)
        self.user = user

    @property
    def message(self) -> str:
        return f"您的角色（{ROLES.get(self.user.role, self.user.role)}）无权使用此功能。"


def require_csrf(p: Principal, token: str) -> None:
    """A form posted from the user's own page: its token is the login's (no other site's form)."""
    if not same_secret(p.csrf_token, token):
        raise HTTPException(403, "表单已过期或来源不明，请刷新页面后重试。")


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


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def actor(request: Request, p: Principal | str) -> audit.Actor:
    """Who the audit log names for this request: the user, the console or the API, the
    client's address."""
    via = "api" if request.url.path.startswith("/api/") else "web"
    return audit.Actor(p if isinstance(p, str) else p.name, via, client_address(request))


def page_login(request: Request, session: DB, now: Now) -> Principal:
    """Whoever holds a valid console login, of any role."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    idle = timedelta(minutes=xapp(request).settings.web.idle_minutes)
    p = session_user(session, cookie, now, idle, client_address(request)) if cookie else None
    if p is None:
        raise LoginRequired
    request.state.user = p  # error pages keep the menu
    return p


def _right(login: Callable[..., Principal], right: str) -> Callable[..., Principal]:
    """A dependency: whoever ``login`` lets in, if their role has ``right`` (else WrongRole)."""

    # ``login`` is this call's, not the module's: the string annotation ``Annotated[...,
    # Depends(login)]`` could not be resolved, so the dependency is the parameter's default
    def need(p: Principal = Depends(login)) -> Principal:  # noqa: B008
        if not p.may(right):
            raise WrongRole(p)
        return p

    return need


def page_right(right: str) -> Callable[..., Principal]:
    """A dependency: a console user whose role has ``right``."""
    return _right(page_login, right)


# a user whose role reads the patrol's data (not one of the three administrators)
page_user = page_right(DATA)


_bearer = HTTPBearer(auto_error=False, description="`xuncha users token NAME` 生成的令牌")


def api_login(
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
            detail: dict[str, object] = {"reason": "token"}
            if attempt.count >= attempts:
                log.warning("api_token_paused_now", address=address, failures=attempt.count)
                detail["paused"] = "address"
            who = audit.Actor(UNKNOWN, "api", address)
            audit.record(session, who, "login", now, target="API 令牌", success=False,
                         detail=detail)  # fmt: skip
            session.commit()
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


def api_right(right: str) -> Callable[..., Principal]:
    """A dependency: a token holder whose role has ``right``."""
    return _right(api_login, right)


api_user = api_right(DATA)  # a token holder whose role reads the patrol's data


PageLogin = Annotated[Principal, Depends(page_login)]
PageUser = Annotated[Principal, Depends(page_user)]
ApiLogin = Annotated[Principal, Depends(api_login)]
ApiUser = Annotated[Principal, Depends(api_user)]
