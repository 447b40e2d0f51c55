"""The 安全管理员's page (``/security``): users, roles and console sessions.

It lists every user (role, unit, state, second factor, logins open, last login) and the
wrong passwords counted now per name and per address, and changes a user's role, disables
or enables them, ends their logins, or removes their TOTP factor — each recorded in the
audit log. New users and passwords stay with ``xuncha users`` (a password is never typed
into a page someone else may be watching). An administrator does not change their own
account here: another one does, and the log shows who.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from monitor.store import audit
from monitor.store.models import KnownAddress, LoginFailure, Unit, User, WebSession
from monitor.web import auth, throttle
from monitor.web.auth import Principal, UserError
from monitor.web.deps import DB, Now, XApp, actor, page_right, require_csrf
from monitor.web.logins import remove_totp
from monitor.web.pages import render
from monitor.web.roles import ADMIN_ROLES, ROLES

router = APIRouter(include_in_schema=False)

SecurityAdmin = Annotated[Principal, Depends(page_right("security"))]


def _sessions(session: Session, now: datetime, idle: timedelta) -> dict[int, int]:
    """Open console logins per user id (neither past their end nor idle too long)."""
    alive = sa.func.coalesce(col(WebSession.last_seen_at), col(WebSession.created_at))
    rows = session.exec(
        select(WebSession.user_id, sa.func.count())
        .where(col(WebSession.expires_at) > now, alive > now - idle)
        .group_by(col(WebSession.user_id))
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def _failures(session: Session, now: datetime, pause: timedelta, by: str) -> list[tuple[str, int]]:
    """Wrong passwords within the window, per name or per address, most first."""
    column = col(LoginFailure.address) if by == throttle.ADDRESS else col(LoginFailure.name)
    rows = session.exec(
        select(column, sa.func.count())
        .where(LoginFailure.kind == throttle.PASSWORD, col(LoginFailure.at) > now - pause)
        .group_by(column)
        .order_by(sa.func.count().desc())
        .limit(50)
    ).all()
    return [(k, n) for k, n in rows]


@router.get("/security")
def security_page(
    request: Request, session: DB, user: SecurityAdmin, now: Now, xapp: XApp, done: str = ""
) -> Response:
    web = xapp.settings.web
    users = session.exec(select(User).order_by(col(User.name))).all()
    last_login = dict(
        session.exec(
            select(KnownAddress.user_id, sa.func.max(KnownAddress.last_ok_at)).group_by(
                col(KnownAddress.user_id)
            )
        ).all()
    )
    units = dict(session.exec(select(Unit.code, Unit.name)).all())
    pause = timedelta(minutes=web.login_pause_minutes)
    return render(
        request, "security.html", user, users=users, roles=ROLES, units=units,
        sessions=_sessions(session, now, timedelta(minutes=web.idle_minutes)),
        last_login=last_login, by_name=_failures(session, now, pause, throttle.NAME),
        by_address=_failures(session, now, pause, throttle.ADDRESS), web=web, done=done,
    )  # fmt: skip


@dataclass
class UserForm:
    """A posted form about one user, its CSRF token already checked: every action here
    finds its user the same way and ends the same way (audit log, commit, back to the page)."""

    request: Request
    session: Session
    me: Principal
    now: datetime
    name: str

    def target(self, *, self_ok: bool = False) -> User:
        try:
            target = auth.get_user(self.session, self.name)
        except UserError as e:
            raise HTTPException(404, str(e)) from e
        if target.id == self.me.user_id and not self_ok:
            raise HTTPException(409, "不能在此更改自己的账户：请另一位安全管理员操作。")
        return target

    def record(self, action: str, detail: dict[str, Any] | None = None) -> None:
        audit.record(self.session, actor(self.request, self.me), action, self.now,
                     target=self.name, detail=detail)  # fmt: skip

    def done(self, what: str) -> Response:
        self.session.commit()
        return RedirectResponse(f"/security?done={what}", status_code=303)


def _user_form(
    request: Request,
    session: DB,
    user: SecurityAdmin,
    now: Now,
    name: str,
    csrf: Annotated[str, Form()] = "",
) -> UserForm:
    require_csrf(user, csrf)
    return UserForm(request, session, user, now, name)


Posted = Annotated[UserForm, Depends(_user_form)]


@router.post("/security/users/{name}/role")
def change_role(
    form: Posted, role: Annotated[str, Form()], unit: Annotated[str, Form()] = ""
) -> Response:
    target = form.target()
    before: dict[str, Any] = {"role": target.role, "unit": target.unit_code}
    # the form keeps the user's unit filled in: an administrator's role belongs to none
    unit_code = None if role in ADMIN_ROLES else unit.strip() or None
    try:
        auth.set_role(form.session, target, role, unit_code)
    except UserError as e:
        raise HTTPException(400, str(e)) from e
    form.record(
        "user_role", {"from": before, "to": {"role": target.role, "unit": target.unit_code}}
    )
    return form.done("role")


@router.post("/security/users/{name}/disable")
def disable(form: Posted) -> Response:
    revoked = auth.set_disabled(form.session, form.target(), True, form.now)
    form.record("user_disable", {"tokens_revoked": revoked})
    return form.done("disable")


@router.post("/security/users/{name}/enable")
def enable(form: Posted) -> Response:
    auth.set_disabled(form.session, form.target(), False, form.now)
    form.record("user_enable")
    return form.done("enable")


@router.post("/security/users/{name}/sessions/end")
def end_logins(form: Posted) -> Response:
    ended = auth.end_sessions(form.session, form.target(self_ok=True))
    form.record("user_sessions_end", {"sessions": ended})
    return form.done("sessions")


@router.post("/security/users/{name}/totp/remove")
def totp_remove(form: Posted) -> Response:
    if remove_totp(form.session, form.target()):
        form.record("user_totp_remove")
    return form.done("totp")
