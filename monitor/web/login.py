"""Logging in and out of the console (等保 2.0 身份鉴别).

A login is counted before its password is looked at (``monitor.web.throttle``: per name and
per address), then needs the right password and, for a user enrolled in it, the TOTP code
(``monitor.web.logins``); every outcome is in the audit log (``monitor.store.audit``), and
a right password wipes only its own address's wrong ones. Administrators land on their own
page (``monitor.web.roles``).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from monitor import timefmt
from monitor.store import audit
from monitor.store.models import User
from monitor.web import throttle
from monitor.web.auth import check_password, principal_for, same_secret
from monitor.web.deps import (
    DB,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Now,
    PageLogin,
    actor,
    client_address,
    require_csrf,
)
from monitor.web.logins import (
    end_session,
    known_address,
    remember_address,
    start_session,
    totp_ok,
)
from monitor.web.pages import render, safe_next

log = structlog.get_logger("xuncha.web")

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=safe_next(next), csrf=token, error="")
    secure = request.app.state.xapp.settings.web.secure_cookies
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, max_age=3600
    )
    return response


@router.post("/login")
def login(
    request: Request,
    session: DB,
    now: Now,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    xsettings = request.app.state.xapp.settings
    settings = xsettings.web
    if not same_secret(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf):
        raise HTTPException(403, "登录表单已过期，请刷新页面后重试。")

    def refuse(error: str, status: int, *, ask_code: bool = False) -> Response:
        response = render(
            request, "login.html", None, next=safe_next(next), csrf=csrf, error=error,
            typed=name, ask_code=ask_code,
        )  # fmt: skip
        response.status_code = status
        return response

    name = name.strip()
    address = client_address(request)
    who = audit.Actor(name[:100], "web", address)
    attempts, pause = settings.login_attempts, timedelta(minutes=settings.login_pause_minutes)
    known = known_address(session, name, address, now, settings.known_address_days)
    session.rollback()  # the connection goes back to the pool while the claim takes one
    # the attempt is recorded (in its own transaction, one at a time per address and name,
    # on every node) before the password is looked at: parallel guesses cannot outrun it
    attempt = throttle.claim_login(
        request.app.state.xapp.engine, name, address, now, attempts=attempts,
        address_attempts=settings.login_address_attempts, pause=pause, known=known,
    )  # fmt: skip
    until = attempt.until
    if until is not None:
        log.warning("login_paused", user=name, address=address, by=attempt.by,
                    until=until.isoformat())  # fmt: skip
        response = refuse(
            _paused_words(attempt, attempts, timefmt.shown(until, xsettings.timezone)), 429
        )
        response.headers["Retry-After"] = str(max(1, math.ceil((until - now).total_seconds())))
        return response

    def failed(reason: str, error: str = "用户名或密码错误，或账户已停用。") -> Response:
        log.warning("login_failed", user=name, address=address, reason=reason,
                    failures=attempt.count, address_failures=attempt.address_count)  # fmt: skip
        detail: dict[str, object] = {"reason": reason}
        if paused := _paused_now(
            attempt, name, address, attempts, settings.login_address_attempts, known
        ):
            detail["paused"] = paused
        audit.record(session, who, "login", now, target=name[:100], success=False,
                     detail=detail)  # fmt: skip
        session.commit()
        return refuse(error, 401, ask_code=reason == "code")

    user = session.exec(select(User).where(User.name == name)).first()
    if not check_password(user, password):
        return failed("password")
    assert user is not None
    refused = _second_factor(
        session, user, code, now, attempt, settings.totp_required_roles, refuse, failed
    )
    if refused is not None:
        return refused
    p = principal_for(session, user)
    if p is None:
        throttle.forget(session, attempt)  # the right password: not a guess
        return failed("no_scope", "该账户的所属单位已不在登记表中，请联系管理员。")
    throttle.clear(session, throttle.PASSWORD, name, address)
    remember_address(session, user, address, now, settings.known_address_days)
    token = start_session(session, user, now, settings.session_hours)
    audit.record(session, who, "login", now, target=name)
    session.commit()
    target = safe_next(next)
    response = RedirectResponse(p.home if target == "/" else target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def _second_factor(
    session: Session,
    user: User,
    code: str,
    now: datetime,
    attempt: throttle.Attempt,
    totp_roles: Collection[str],
    refuse: Callable[..., Response],
    failed: Callable[[str, str], Response],
) -> Response | None:
    """After the right password: the TOTP code of a user enrolled in it, or the refusal of a
    role that must be enrolled and is not; None: no second factor stands in the way."""
    if user.totp_secret:
        if not code.strip():  # the right password: ask for the code, no guess spent
            throttle.forget(session, attempt)
            session.commit()
            return refuse("该账户已启用动态口令：请输入密码和验证器应用上的 6 位动态口令。", 401,
                          ask_code=True)  # fmt: skip
        if not totp_ok(session, user, code, now):
            return failed("code", "动态口令错误或已用过：请输入密码和验证器上当前的 6 位动态口令。")
    elif user.role in totp_roles:
        throttle.forget(session, attempt)
        return failed("totp_not_enrolled", "该角色须使用动态口令登录，请联系安全管理员绑定。")
    return None


def _paused_words(attempt: throttle.Attempt, attempts: int, shown: str) -> str:
    """Why a login is not looked at, and until when: the address's pause or the name's."""
    if attempt.by == throttle.ADDRESS:
        return f"来自该地址的登录失败次数过多，已暂停受理，请于 {shown} 后再试。"
    return (
        f"该用户名连续 {attempts} 次登录失败，登录已暂停，请于 {shown} 后再试"
        "（近期在本机成功登录过的用户不受影响）；忘记密码请联系安全管理员重设。"
    )


def _paused_now(
    attempt: throttle.Attempt,
    name: str,
    address: str,
    attempts: int,
    address_attempts: int,
    known: bool,
) -> str | None:
    """Whether this failure pauses the name or the address (the address's pause is said
    last: it wins), logged; None: neither."""
    paused = None
    if attempt.count >= attempts and not known:
        log.warning("login_paused_now", user=name, address=address, failures=attempt.count)
        paused = "name"
    if attempt.address_count >= address_attempts:
        log.warning("login_paused_now", address=address, failures=attempt.address_count)
        paused = "address"
    return paused


@router.post("/logout")
def logout(
    request: Request,
    session: DB,
    now: Now,
    user: PageLogin,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    require_csrf(user, csrf)
    end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    audit.record(session, actor(request, user), "logout", now, target=user.name)
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
