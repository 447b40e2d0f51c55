"""Users, passwords, console sessions, API tokens and who may see which units.

Passwords are argon2id (argon2-cffi). Session cookies and API tokens are random strings of
which only the sha256 is stored: they carry 256 bits of entropy, so a fast hash is enough
and a stolen database does not give a working login.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from monitor.store.models import ApiToken, LoginFailure, Unit, User, WebSession
from monitor.store.scope import units_below

ROLES = {"admin": "管理员", "supervisor": "主管单位", "duty": "值班员"}
TOKEN_PREFIX = "xct_"
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so both cases take the same time
    (made on first use: every ``xuncha`` command imports this module)."""
    return _hasher.hash("xuncha-no-such-user")


class UserError(ValueError):
    """A user-management request a person can fix; the message is Chinese."""


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    if user is None or user.disabled or not user.password_hash:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Principal:
    """Who is asking, and the unit codes they may see (``None`` = all: an admin)."""

    user_id: int
    name: str
    role: str
    unit_code: str | None
    units: frozenset[str] | None
    csrf_token: str = ""

    def sees(self, unit_code: str | None) -> bool:
        return self.units is None or (unit_code is not None and unit_code in self.units)

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def principal_for(session: Session, user: User, csrf_token: str = "") -> Principal | None:
    """The user's scope; ``None`` if they may see nothing (disabled, unit gone)."""
    assert user.id is not None
    if user.disabled:
        return None
    if user.role == "admin":
        units: frozenset[str] | None = None
    elif user.unit_code is None:
        return None
    elif user.role == "supervisor":
        units = frozenset(units_below(session, user.unit_code))
    else:
        units = frozenset({user.unit_code}) if session.get(Unit, user.unit_code) else frozenset()
    if units is not None and not units:
        return None
    return Principal(user.id, user.name, user.role, user.unit_code, units, csrf_token)


# -- users ------------------------------------------------------------------------------------


def validate_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("密码至少 8 个字符")


def add_user(
    session: Session, name: str, role: str, unit_code: str | None, password: str, now: datetime
) -> User:
    name = name.strip()
    if not name or len(name) > 100:
        raise UserError("用户名不能为空，且不超过 100 个字符")
    if role not in ROLES:
        raise UserError(f"角色 '{role}' 无效，应为 admin、supervisor 或 duty")
    if role == "admin":
        unit_code = unit_code or None
    elif not unit_code:
        raise UserError(f"角色 {role}（{ROLES[role]}）须用 --unit 指定所属单位")
    if unit_code and session.get(Unit, unit_code) is None:
        raise UserError(f"单位 '{unit_code}' 不存在")
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"用户 '{name}' 已存在")
    validate_password(password)
    user = User(
        name=name, role=role, unit_code=unit_code, password_hash=hash_password(password),
        created_at=now,
    )  # fmt: skip
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"用户 '{name}' 不存在")
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """A new password also ends every console login of the user, and lifts a pause
    that wrong passwords put on it (the admin who sets it has just vouched for them)."""
    validate_password(password)
    user.password_hash = hash_password(password)
    session.add(user)
    session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))  # type: ignore[call-overload]
    clear_login_failures(session, user.name)


def login_paused_until(
    session: Session, name: str, now: datetime, attempts: int, pause: timedelta
) -> datetime | None:
    """When logins as ``name`` may be tried again, if ``attempts`` wrong passwords came
    within the last ``pause``; None if they may be tried now.

    Counted per name, not per address: behind the reverse proxy the docs ask for, every
    user would share the proxy's address. Unknown names are paused alike, so a pause
    tells an outsider nothing about which names exist.
    """
    times = session.exec(
        select(LoginFailure.at)
        .where(LoginFailure.name == name, col(LoginFailure.at) > now - pause)
        .order_by(col(LoginFailure.at).desc())
        .limit(attempts)
    ).all()
    if len(times) < attempts:
        return None
    return times[-1] + pause  # the oldest of the last ``attempts`` falls out of the window


def record_login_failure(
    session: Session, name: str, address: str, now: datetime, pause: timedelta
) -> int:
    """Note a wrong password; return how many there were for ``name`` within ``pause``.
    Older rows are swept at the same time, so the table stays small."""
    session.exec(delete(LoginFailure).where(col(LoginFailure.at) <= now - pause))  # type: ignore[call-overload]
    session.add(LoginFailure(name=name[:100], address=address[:64], at=now))
    session.flush()
    return len(
        session.exec(
            select(LoginFailure.id).where(
                LoginFailure.name == name[:100], col(LoginFailure.at) > now - pause
            )
        ).all()
    )


def clear_login_failures(session: Session, name: str) -> None:
    session.exec(delete(LoginFailure).where(col(LoginFailure.name) == name))  # type: ignore[call-overload]


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    """A disabled user can neither log in nor use a token; their logins end now."""
    user.disabled = disabled
    session.add(user)
    if disabled:
        session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))  # type: ignore[call-overload]


def new_api_token(session: Session, user: User, now: datetime) -> str:
    """Create a token and return it; only its hash is stored, so it is shown only once."""
    assert user.id is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_secret(token), created_at=now))
    return token


def token_user(session: Session, token: str, now: datetime) -> Principal | None:
    row = session.exec(
        select(ApiToken, User)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(ApiToken.token_hash == hash_secret(token))
    ).first()
    if row is None:
        return None
    tok, user = row
    # one write per few minutes at most, not one per request
    if tok.last_used_at is None or now - tok.last_used_at > timedelta(minutes=5):
        tok.last_used_at = now
        session.add(tok)
        session.commit()
    return principal_for(session, user)


# -- console sessions ----------------------------------------------------------------------------


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
        )
    )
    return token


def session_user(session: Session, cookie: str, now: datetime) -> Principal | None:
    row = session.exec(
        select(WebSession, User)
        .join(User, col(User.id) == col(WebSession.user_id))
        .where(WebSession.token_hash == hash_secret(cookie))
    ).first()
    if row is None:
        return None
    ws, user = row
    if ws.expires_at <= now:
        return None
    return principal_for(session, user, ws.csrf_token)


def end_session(session: Session, cookie: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == hash_secret(cookie)))  # type: ignore[call-overload]


def same_secret(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())
