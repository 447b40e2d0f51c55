"""Request plumbing shared by pages and API: the app, a database session, who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from monitor.app import App
from monitor.web.auth import Principal, session_user, token_user
from monitor.web.cache import AccountCache

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


def db(request: Request) -> Iterator[Session]:
    with Session(xapp(request).engine) as s:
        yield s


DB = Annotated[Session, Depends(db)]
Now = Annotated[datetime, Depends(clock)]
XApp = Annotated[App, Depends(xapp)]
Cache = Annotated[AccountCache, Depends(cache)]


def page_user(request: Request, session: DB, now: Now) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    p = session_user(session, cookie, now) if cookie else None
    if p is None:
        raise LoginRequired
    request.state.user = p  # error pages keep the menu
    return p


_bearer = HTTPBearer(auto_error=False, description="`xuncha users token NAME` 生成的令牌")


def api_user(
    session: DB,
    now: Now,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    p = token_user(session, creds.credentials, now) if creds is not None else None
    if p is None:
        raise HTTPException(
            401, "未登录或令牌无效：请使用 Authorization: Bearer <令牌>",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    return p


PageUser = Annotated[Principal, Depends(page_user)]
ApiUser = Annotated[Principal, Depends(api_user)]
