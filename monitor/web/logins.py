"""Console logins: sessions with an absolute and an idle limit, the addresses each user
logged in from, and the TOTP second factor.

A login ends ``[web] session_hours`` after it began, or once nobody used it for
``idle_minutes`` (its ``last_seen_at`` is written at most once a minute), whichever comes
first, on every node. An address where the user logged in with every factor right is
remembered (``login_address``) for ``known_address_days``: a pause that others' wrong
guesses put on the name does not apply there (``monitor.web.throttle.claim_login``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select

from monitor.store import audit
from monitor.store.models import KnownAddress, User, WebSession
from monitor.web import totp
from monitor.web.auth import Principal, hash_secret, holder, principal_for, touch

log = structlog.get_logger("xuncha.web")

SESSION_TOUCH = timedelta(minutes=1)  # last_seen_at is written at most this often


def start_session(session: Session, user: User, now: datetime, hours: float) -> str:
    """A new login; returns the cookie value. Expired logins are swept at the same time."""
    assert user.id is not None
    session.exec(delete(WebSession).where(col(WebSession.expires_at) < now))  # type: ignore[call-overload]
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=hash_secret(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
            last_seen_at=now,
        )
    )
    return token


def session_user(
    session: Session,
    cookie: str,
    now: datetime,
    idle: timedelta | None = None,
    address: str = "",
) -> Principal | None:
    """Who holds the login ``cookie``; None if there is none, it is past its end, or it was
    left unused for ``idle`` (then it is ended now, and the audit log says so)."""
    row = holder(session, WebSession, cookie)
    if row is None:
        return None
    ws, user = row
    if ws.expires_at <= now:
        return None
    seen = ws.last_seen_at or ws.created_at
    if idle is not None and now - seen >= idle:
        session.exec(delete(WebSession).where(col(WebSession.id) == ws.id))  # type: ignore[call-overload]
        actor = audit.Actor(user.name, "web", address)
        audit.record(session, actor, "logout", now, target=user.name, detail={"reason": "idle"})
        session.commit()
        log.info("session_idle_ended", user=user.name, idle_since=seen.isoformat())
        return None
    if now - seen >= SESSION_TOUCH:  # one write a minute at most, once however many race
        touch(session, WebSession, ws.id, "last_seen_at", now, SESSION_TOUCH)
    return principal_for(session, user, ws.csrf_token)


def end_session(session: Session, cookie: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == hash_secret(cookie)))  # type: ignore[call-overload]


# -- known addresses ------------------------------------------------------------------------------


def known_address(session: Session, name: str, address: str, now: datetime, days: float) -> bool:
    """Whether the user called ``name`` logged in from ``address`` within ``days``."""
    if days <= 0 or not address:
        return False
    found = session.exec(
        select(KnownAddress.last_ok_at)
        .join(User, col(User.id) == col(KnownAddress.user_id))
        .where(User.name == name, KnownAddress.address == address[:64])
    ).first()
    return found is not None and found > now - timedelta(days=days)


def remember_address(
    session: Session, user: User, address: str, now: datetime, days: float
) -> None:
    """Note a login from ``address``; the user's addresses not seen for ``days`` go."""
    if not address:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(KnownAddress).values(user_id=user.id, address=address[:64], last_ok_at=now)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["user_id", "address"], set_={"last_ok_at": now})
    )
    session.exec(
        delete(KnownAddress).where(  # type: ignore[call-overload]
            col(KnownAddress.user_id) == user.id,
            col(KnownAddress.last_ok_at) <= now - timedelta(days=days),
        )
    )


# -- the second factor ----------------------------------------------------------------------------


def enrol_totp(session: Session, user: User) -> str:
    """A new secret for the user (replacing any earlier one); returns it."""
    user.totp_secret = totp.new_secret()
    user.totp_last_step = None
    session.add(user)
    return user.totp_secret


def remove_totp(session: Session, user: User) -> bool:
    """The user logs in with a password alone again; False if they had no second factor."""
    had = user.totp_secret is not None
    user.totp_secret = None
    user.totp_last_step = None
    session.add(user)
    return had


def totp_ok(session: Session, user: User, code: str, now: datetime) -> bool:
    """Whether ``code`` is the user's current one and not used before. The step it was
    right for is written at once, by a conditional UPDATE: of two requests racing with the
    same code, one gets in."""
    if not user.totp_secret:
        return False
    step = totp.accepted_step(user.totp_secret, code, now, user.totp_last_step)
    if step is None:
        return False
    result = session.execute(
        update(User)
        .where(
            col(User.id) == user.id,
            or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step),
        )
        .values(totp_last_step=step)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
