"""Guessing paused: wrong passwords per user name, wrong API tokens per client address.

An attempt is recorded *before* its secret is judged, in a transaction of its own, one at a
time per name (or address): so no number of parallel requests, on any number of workers or
nodes sharing the database, gets more than ``attempts`` guesses judged within ``pause``.
Parallel attempts are ordered by a per-key lock — PostgreSQL's transaction-scoped advisory
lock; on SQLite the insert that opens the transaction takes the database's one write lock —
and each counts the attempts before it. One over the limit is rolled back, not recorded, so
a flood of refused guesses does not prolong the pause: it ends when the oldest of the
recorded attempts is ``pause`` old. The rows are ``LoginFailure`` (one per attempt; a right
password wipes its name's slate).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from monitor.store.models import LoginFailure

PASSWORD = "password"  # keyed by the user name as typed
TOKEN = "token"  # keyed by the client's address
SWEEP_ROWS = 1000  # old rows deleted per recorded attempt, at most


@dataclass(frozen=True)
class Attempt:
    """What ``claim`` decided: recorded (``id``; ``count`` attempts within the window, this
    one included) or refused (``until``: when the key may be tried again)."""

    id: int | None
    count: int
    until: datetime | None = None


def _key(value: str) -> str:
    return value[:100]  # the column's width: what is stored is what is counted


def _recent(
    session: Session,
    kind: str,
    key: str,
    now: datetime,
    attempts: int,
    pause: timedelta,
    besides: int | None = None,
) -> list[datetime]:
    """The times of the newest ``attempts`` attempts at ``key`` within ``pause``, newest
    first (``besides``: not counting that row, the attempt being recorded)."""
    where = [
        LoginFailure.kind == kind,
        LoginFailure.name == _key(key),
        col(LoginFailure.at) > now - pause,
    ]
    if besides is not None:
        where.append(col(LoginFailure.id) != besides)
    query = select(LoginFailure.at).where(*where).order_by(col(LoginFailure.at).desc())
    return list(session.exec(query.limit(attempts)).all())


def paused_until(
    session: Session, kind: str, key: str, now: datetime, attempts: int, pause: timedelta
) -> datetime | None:
    """When ``key`` may be tried again, if ``attempts`` attempts were recorded within the
    last ``pause``; None if it may be tried now. Only reads: a request refused here costs
    no write."""
    times = _recent(session, kind, key, now, attempts, pause)
    if len(times) < attempts:
        return None
    return times[-1] + pause  # the oldest of the last ``attempts`` falls out of the window


def _lock(session: Session, kind: str, key: str) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the insert below waits for the one write lock
    digest = hashlib.sha256(f"xuncha-throttle:{kind}:{_key(key)}".encode()).digest()
    session.execute(
        sa.text("SELECT pg_advisory_xact_lock(:k)"),
        {"k": int.from_bytes(digest[:8], "big", signed=True)},
    )


def claim(
    engine: Engine,
    kind: str,
    key: str,
    address: str,
    now: datetime,
    attempts: int,
    pause: timedelta,
) -> Attempt:
    """Record an attempt at ``key`` before it is judged, committed at once; or refuse it
    (nothing recorded) if ``attempts`` were recorded within ``pause`` already. Uses a
    connection of its own: the caller holds none meanwhile (a pool smaller than the
    threads asking would otherwise starve)."""
    with Session(engine) as s:
        until = paused_until(s, kind, key, now, attempts, pause)  # a read; most floods end here
        if until is not None:
            return Attempt(None, attempts + 1, until)
        _lock(s, kind, key)
        row = LoginFailure(kind=kind, name=_key(key), address=address[:64], at=now)
        s.add(row)
        s.flush()
        row_id = row.id
        assert row_id is not None
        before = _recent(s, kind, key, now, attempts, pause, besides=row_id)
        if len(before) >= attempts:
            s.rollback()
            return Attempt(None, len(before) + 1, before[-1] + pause)
        # the table stays small: old rows go, a bounded batch at a time, and never a row
        # another transaction is deleting (no waiting, no deadlock between sweepers)
        old = (
            select(LoginFailure.id)
            .where(LoginFailure.kind == kind, col(LoginFailure.at) <= now - pause)
            .limit(SWEEP_ROWS)
            .with_for_update(skip_locked=True)
        )
        s.exec(delete(LoginFailure).where(col(LoginFailure.id).in_(old.scalar_subquery())))  # type: ignore[call-overload]
        s.commit()
        return Attempt(row_id, len(before) + 1)


def forget(session: Session, attempt: Attempt) -> None:
    """Take back one recorded attempt (it turned out not to be a guess)."""
    if attempt.id is not None:
        session.exec(delete(LoginFailure).where(col(LoginFailure.id) == attempt.id))  # type: ignore[call-overload]


def clear(session: Session, kind: str, key: str) -> None:
    """Wipe the slate of ``key``: a right password, or an admin's new one."""
    session.exec(
        delete(LoginFailure).where(  # type: ignore[call-overload]
            col(LoginFailure.kind) == kind, col(LoginFailure.name) == _key(key)
        )
    )
