"""Guessing paused: wrong passwords per user name and per client address, wrong API tokens
per client address.

An attempt is recorded *before* its secret is judged, in a transaction of its own, one at a
time per key: so no number of parallel requests, on any number of workers or nodes sharing
the database, gets more than ``attempts`` guesses judged within ``pause``. Parallel
attempts are ordered by a per-key lock — PostgreSQL's transaction-scoped advisory lock
(a login takes its address's, then its name's: always in that order, so two never wait
for each other); on SQLite the insert that opens the transaction takes the database's one
write lock — and each counts the attempts before it. One over the limit is rolled back, not
recorded, so a flood of refused guesses does not prolong the pause: it ends when the oldest
of the recorded attempts is ``pause`` old. The rows are ``LoginFailure`` (one per attempt; a
right password wipes its name's slate from that address).

A login is counted twice: per name (``login_attempts``) and per address
(``login_address_attempts``, every name tried from it). The name's count is not applied to
an address the user logged in from lately (``known``: ``monitor.web.auth.known_address``):
a stranger's wrong guesses pause the name everywhere else, not at the user's own desk,
where only that address's own count can pause it.
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


NAME = "name"  # counted per user name (LoginFailure.name)
ADDRESS = "address"  # counted per client address (LoginFailure.address)


@dataclass(frozen=True)
class Attempt:
    """What ``claim`` decided: recorded (``id``; ``count`` attempts within the window, this
    one included; for a login ``address_count`` from its address) or refused (``until``:
    when it may be tried again; ``by``: the count that refused it, NAME or ADDRESS)."""

    id: int | None
    count: int
    until: datetime | None = None
    by: str = NAME
    address_count: int = 0


def _key(value: str, by: str = NAME) -> str:
    # the column's width: what is stored is what is counted
    return value[:64] if by == ADDRESS else value[:100]


def _recent(
    session: Session,
    kind: str,
    key: str,
    now: datetime,
    attempts: int,
    pause: timedelta,
    besides: int | None = None,
    by: str = NAME,
) -> list[datetime]:
    """The times of the newest ``attempts`` attempts at ``key`` (a name, or with ``by``
    ADDRESS an address) within ``pause``, newest first (``besides``: not counting that row,
    the attempt being recorded)."""
    column = LoginFailure.address if by == ADDRESS else LoginFailure.name
    where = [
        LoginFailure.kind == kind,
        column == _key(key, by),
        col(LoginFailure.at) > now - pause,
    ]
    if besides is not None:
        where.append(col(LoginFailure.id) != besides)
    query = select(LoginFailure.at).where(*where).order_by(col(LoginFailure.at).desc())
    return list(session.exec(query.limit(attempts)).all())


def paused_until(
    session: Session,
    kind: str,
    key: str,
    now: datetime,
    attempts: int,
    pause: timedelta,
    by: str = NAME,
) -> datetime | None:
    """When ``key`` may be tried again, if ``attempts`` attempts were recorded within the
    last ``pause``; None if it may be tried now. Only reads: a request refused here costs
    no write."""
    times = _recent(session, kind, key, now, attempts, pause, by=by)
    if len(times) < attempts:
        return None
    return times[-1] + pause  # the oldest of the last ``attempts`` falls out of the window


def _lock(session: Session, kind: str, key: str, by: str = NAME) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the insert below waits for the one write lock
    name = _key(key, by) if by == NAME else f"{ADDRESS}:{_key(key, by)}"
    digest = hashlib.sha256(f"xuncha-throttle:{kind}:{name}".encode()).digest()
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
        _sweep(s, kind, now, pause)
        s.commit()
        return Attempt(row_id, len(before) + 1)


def claim_login(
    engine: Engine,
    name: str,
    address: str,
    now: datetime,
    *,
    attempts: int,
    address_attempts: int,
    pause: timedelta,
    known: bool,
) -> Attempt:
    """``claim`` for a console login: recorded once, counted per address (every name) and,
    unless the address is ``known`` for the user, per name; refused (``by`` says which
    count) when either has its limit within ``pause``."""
    limits = [(ADDRESS, address, address_attempts)] + ([] if known else [(NAME, name, attempts)])
    with Session(engine) as s:
        for by, key, limit in limits:  # reads; most floods end here
            until = paused_until(s, PASSWORD, key, now, limit, pause, by=by)
            if until is not None:
                return Attempt(None, limit + 1, until, by)
        _lock(s, PASSWORD, address, ADDRESS)  # the address first, then the name: always
        _lock(s, PASSWORD, name, NAME)
        row = LoginFailure(kind=PASSWORD, name=_key(name), address=_key(address, ADDRESS), at=now)
        s.add(row)
        s.flush()
        row_id = row.id
        assert row_id is not None
        counts = {}
        for by, key, limit in [(ADDRESS, address, address_attempts), (NAME, name, attempts)]:
            before = _recent(s, PASSWORD, key, now, limit, pause, besides=row_id, by=by)
            counts[by] = len(before) + 1
            if len(before) >= limit and (by == ADDRESS or not known):
                s.rollback()
                return Attempt(None, len(before) + 1, before[-1] + pause, by)
        _sweep(s, PASSWORD, now, pause)
        s.commit()
        return Attempt(row_id, counts[NAME], address_count=counts[ADDRESS])


def _sweep(s: Session, kind: str, now: datetime, pause: timedelta) -> None:
    """Old rows go, a bounded batch at a time, and never a row another transaction is
    deleting (no waiting, no deadlock between sweepers): the table stays small."""
    old = (
        select(LoginFailure.id)
        .where(LoginFailure.kind == kind, col(LoginFailure.at) <= now - pause)
        .limit(SWEEP_ROWS)
        .with_for_update(skip_locked=True)
    )
    s.exec(delete(LoginFailure).where(col(LoginFailure.id).in_(old.scalar_subquery())))  # type: ignore[call-overload]


def forget(session: Session, attempt: Attempt) -> None:
    """Take back one recorded attempt (it turned out not to be a guess)."""
    if attempt.id is not None:
        session.exec(delete(LoginFailure).where(col(LoginFailure.id) == attempt.id))  # type: ignore[call-overload]


def clear(session: Session, kind: str, key: str, address: str | None = None) -> None:
    """Wipe the slate of ``key``: a right password (only its attempts from ``address``: a
    stranger's guesses elsewhere keep their pause), or an admin's new one (all of them)."""
    where = [col(LoginFailure.kind) == kind, col(LoginFailure.name) == _key(key)]
    if address is not None:
        where.append(col(LoginFailure.address) == _key(address, ADDRESS))
    session.exec(delete(LoginFailure).where(*where))  # type: ignore[call-overload]
