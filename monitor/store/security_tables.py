"""The tables of login security and of the audit trail (等保 2.0: 身份鉴别, 安全审计).

``PasswordHistory`` keeps the hashes of a user's last passwords (so none is used again),
``KnownAddress`` the client addresses each user logged in from (a pause on the name that
others caused does not lock the user out from them), ``AuditLog`` the append-only record of
security-relevant actions, each row chained to the one before by hash, and ``AuditHead`` the
chain's newest link (monitor/store/audit.py). Registered on the one metadata by ``models``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel

from monitor.store.columns import ts, ts_now


class PasswordHistory(SQLModel, table=True):
    """A password a user had (its argon2id hash): the newest ``[web] password_history`` are
    kept, the current one included, and a new password may be none of them."""

    __tablename__ = "password_history"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    password_hash: str = Field(max_length=500)
    set_at: datetime = ts_now()


class KnownAddress(SQLModel, table=True):
    """A client address the user logged in from with every factor right, and when last:
    within ``[web] known_address_days`` a pause on the user's name does not apply to it."""

    __tablename__ = "login_address"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    address: str = Field(max_length=64, primary_key=True)
    last_ok_at: datetime = ts()


class AuditLog(SQLModel, table=True):
    """One security-relevant action (who, when, from where, what, on what, whether it
    succeeded). ``seq`` runs 1, 2, 3 … without gaps; ``hash`` is ``algo`` (SM3, or SHA-256
    where OpenSSL has no SM3) over the row's fields and ``prev_hash``, the row before's
    ``hash``: a changed row no longer matches its hash, a deleted one leaves a gap. The code
    has no path that updates or deletes a row; triggers refuse both in the database."""

    __tablename__ = "audit_log"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = ts(index=True)
    actor: str = Field(max_length=100, index=True)  # a console user, or cli:<OS user>
    via: str = Field(max_length=16)  # web, api, cli, daemon
    action: str = Field(max_length=40, index=True)  # monitor/store/audit.py ACTIONS
    success: bool = True
    target: str = Field(default="", max_length=200)  # the user, finding, file … acted on
    address: str = Field(default="", max_length=64)  # the client, or the host for cli
    detail: str = Field(default="{}", sa_column=Column(sa.Text(), nullable=False))  # JSON
    algo: str = Field(max_length=8)  # sm3 / sha256
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's newest link (one row, ``id`` 1): appending locks it, so rows are added one
    at a time in ``seq`` order on every node, and a deleted last row is seen missing."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = Field(default="", max_length=64)
