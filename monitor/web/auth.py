"""Users, passwords, roles, API tokens and who may see which units.

Passwords are argon2id (argon2-cffi), held to the policy of ``monitor.web.passwords`` and
not one of the user's last ones (``PasswordHistory``). Session cookies and API tokens are
random strings of which only the sha256 is stored: they carry 256 bits of entropy, so a
fast hash is enough and a stolen database does not give a working login. A user has any
number of named API tokens, each optionally expiring; a new password or disabling the user
revokes them all. Console logins (idle and absolute limits, known addresses, the TOTP
factor) are ``monitor.web.logins``; guessing is paused by ``monitor.web.throttle``; roles
and their rights are ``monitor.web.roles``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, update
from sqlmodel import Session, col, delete, select

from monitor.store.models import ApiToken, PasswordHistory, Unit, User, WebSession
from monitor.store.scope import units_below
from monitor.web import throttle
from monitor.web.passwords import PasswordPolicy, problems
from monitor.web.roles import ADMIN_ROLES, DATA, ROLES, home_of, rights_of, role_names

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
    """Who is asking, the unit codes they may see (``None`` = all: an admin; none for the
    three administrators) and what their role may do (``monitor.web.roles``)."""

    user_id: int
    name: str
    role: str
    unit_code: str | None
    units: frozenset[str] | None
    csrf_token: str = ""

    def sees(self, unit_code: str | None) -> bool:
        return self.units is None or (unit_code is not None and unit_code in self.units)

    def may(self, right: str) -> bool:
        return right in rights_of(self.role)

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def home(self) -> str:
        """The page a login lands on: the overview, or the administrator's own page."""
        return home_of(self.role)


def principal_for(session: Session, user: User, csrf_token: str = "") -> Principal | None:
    """The user's scope; ``None`` if they may do nothing (disabled, unit gone, no role)."""
    assert user.id is not None
    if user.disabled or not rights_of(user.role):
        return None
    if DATA not in rights_of(user.role):  # the three administrators: no unit's data
        return Principal(user.id, user.name, user.role, None, frozenset(), csrf_token)
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


def validate_password(name: str, password: str, policy: PasswordPolicy) -> None:
    """The policy's rules that need no stored hash (UserError: the first one broken)."""
    found = problems(policy, name, password)
    if found:
        raise UserError(found[0])


def _check_role(session: Session, role: str, unit_code: str | None) -> str | None:
    """The unit a user of ``role`` belongs to (checked), or UserError."""
    if role not in ROLES:
        raise UserError(f"角色 '{role}' 无效，应为 {role_names()} 之一")
    if role in ADMIN_ROLES:
        if unit_code:
            raise UserError(f"{ROLES[role]}不属于某个单位，不用 --unit")
        return None
    if role == "admin":
        unit_code = unit_code or None
    elif not unit_code:
        raise UserError(f"角色 {role}（{ROLES[role]}）须指定所属单位（--unit）")
    if unit_code and session.get(Unit, unit_code) is None:
        raise UserError(f"单位 '{unit_code}' 不存在")
    return unit_code


def add_user(
    session: Session,
    name: str,
    role: str,
    unit_code: str | None,
    password: str,
    now: datetime,
    policy: PasswordPolicy | None = None,
) -> User:
    """A new user (``policy``: the password policy, the defaults if not given)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise UserError("用户名不能为空，且不超过 100 个字符")
    unit_code = _check_role(session, role, unit_code)
    if session.exec(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"用户 '{name}' 已存在")
    validate_password(name, password, policy or PasswordPolicy())
    user = User(
        name=name, role=role, unit_code=unit_code, password_hash=hash_password(password),
        created_at=now,
    )  # fmt: skip
    session.add(user)
    session.flush()
    return user


def set_role(session: Session, user: User, role: str, unit_code: str | None) -> None:
    """A new role (and unit); what the user may do changes with their next request."""
    user.unit_code = _check_role(session, role, unit_code)
    user.role = role
    session.add(user)


def _reused(session: Session, user: User, password: str, keep: int) -> bool:
    """Whether ``password`` is the current one or one of the ``keep - 1`` before it."""
    if keep <= 0:
        return False
    old = session.exec(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(col(PasswordHistory.id).desc())
        .limit(max(keep - 1, 0))
    ).all()
    hashes = [user.password_hash, *old] if user.password_hash else list(old)
    for h in hashes:
        with contextlib.suppress(VerificationError, InvalidHashError):
            if _hasher.verify(h, password):
                return True
    return False


def _remember_old(session: Session, user: User, now: datetime, keep: int) -> None:
    """The password being replaced joins the history, which keeps the ``keep - 1`` newest."""
    if user.password_hash:
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, set_at=now))
        session.flush()
    stale = (
        select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(col(PasswordHistory.id).desc())
        .offset(max(keep - 1, 0))
    )
    doomed = delete(PasswordHistory).where(col(PasswordHistory.id).in_(stale.scalar_subquery()))
    session.exec(doomed)  # type: ignore[call-overload]


def get_user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise UserError(f"用户 '{name}' 不存在")
    return user


def set_password(
    session: Session,
    user: User,
    password: str,
    now: datetime,
    *,
    keep_tokens: bool = False,
    policy: PasswordPolicy | None = None,
) -> int:
    """A new password, held to ``policy`` and not one of the user's last ones, also ends
    every console login of the user, revokes their API tokens (unless ``keep_tokens``;
    returns how many it revoked), and lifts a pause that wrong passwords put on it (the
    administrator who sets it has just vouched for them)."""
    policy = policy or PasswordPolicy()
    validate_password(user.name, password, policy)
    if _reused(session, user, password, policy.history):
        raise UserError(f"不能使用最近 {policy.history} 次用过的密码")
    _remember_old(session, user, now, policy.history)
    user.password_hash = hash_password(password)
    session.add(user)
    session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))  # type: ignore[call-overload]
    clear_login_failures(session, user.name)
    return 0 if keep_tokens else revoke_tokens(session, user, now)


def clear_login_failures(session: Session, name: str) -> None:
    throttle.clear(session, throttle.PASSWORD, name)


def end_sessions(session: Session, user: User) -> int:
    """End every console login of the user, on every node; returns how many there were."""
    result = session.execute(delete(WebSession).where(col(WebSession.user_id) == user.id))
    return result.rowcount or 0


def set_disabled(session: Session, user: User, disabled: bool, now: datetime) -> int:
    """A disabled user can neither log in nor use a token; their logins end now and their
    tokens are revoked, so enabling them again brings none back. Returns how many it
    revoked."""
    user.disabled = disabled
    session.add(user)
    if not disabled:
        return 0
    session.exec(delete(WebSession).where(col(WebSession.user_id) == user.id))  # type: ignore[call-overload]
    return revoke_tokens(session, user, now)


# -- API tokens --------------------------------------------------------------------------------

TOKEN_TOUCH = timedelta(minutes=1)  # last_used_at is written at most this often per token


def token_state(token: ApiToken, now: datetime) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def issue_api_token(
    session: Session,
    user: User,
    now: datetime,
    *,
    label: str = "",
    expires_days: float | None = None,
) -> tuple[ApiToken, str]:
    """Create a token: its row (with its id) and the token itself, which only the caller
    ever sees — only its hash is stored, so it is shown only once."""
    assert user.id is not None
    label = label.strip()
    if len(label) > 100:
        raise UserError("令牌标签不超过 100 个字符")
    if expires_days is not None and expires_days <= 0:
        raise UserError("有效天数应大于 0")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, token_hash=hash_secret(token), label=label, created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days is not None else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row, token


def new_api_token(session: Session, user: User, now: datetime) -> str:
    """``issue_api_token`` with no label and no expiry, the token only (tests, benches)."""
    return issue_api_token(session, user, now)[1]


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id))
        ).all()
    )


def revoke_tokens(session: Session, user: User, now: datetime, token_id: int | None = None) -> int:
    """Revoke one of the user's tokens (``token_id``) or all of them; returns how many were
    not revoked yet (expired ones included). A token of another user is "not found", like
    one that does not exist."""
    where = [col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None)]
    if token_id is not None:
        tok = session.get(ApiToken, token_id)
        if tok is None or tok.user_id != user.id:
            raise UserError(f"用户 '{user.name}' 没有编号为 {token_id} 的令牌")
        where.append(col(ApiToken.id) == token_id)
    result = session.execute(update(ApiToken).where(*where).values(revoked_at=now))
    return result.rowcount or 0


def token_user(session: Session, token: str, now: datetime) -> Principal | None:
    """Who holds ``token``; None for a token unknown, revoked or expired, or a user disabled."""
    row = holder(session, ApiToken, token)
    if row is None:
        return None
    tok, user = row
    if token_state(tok, now) != "active":
        return None
    # one write a minute at most per token, not one per request; a conditional UPDATE, so
    # requests that race here write it once
    if tok.last_used_at is None or now - tok.last_used_at >= TOKEN_TOUCH:
        touch(session, ApiToken, tok.id, "last_used_at", now, TOKEN_TOUCH)
    return principal_for(session, user)


Held = TypeVar("Held", ApiToken, WebSession)


def holder(session: Session, model: type[Held], secret: str) -> tuple[Held, User] | None:
    """The row a secret opens (an API token, a console login) and its user: only the
    secret's hash is stored, so it is found by that."""
    return session.exec(
        select(model, User)
        .join(User, col(User.id) == col(model.user_id))
        .where(col(model.token_hash) == hash_secret(secret))
    ).first()


def touch(
    session: Session, model: type, row_id: object, field: str, now: datetime, every: timedelta
) -> None:
    """Write ``now`` into a row's last-used time unless it was written within ``every``,
    and commit: a conditional UPDATE, so requests that race here write it once."""
    stamp = col(getattr(model, field))
    session.execute(
        update(model)
        .where(col(model.id) == row_id, or_(stamp.is_(None), stamp <= now - every))
        .values({field: now})
    )
    session.commit()


def same_secret(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())
