"""The ``platform_session`` rows: logged-in sessions, their cookies sealed, their use counted.

What a session is and how the patrol uses one is :mod:`monitor.sessions`; this module reads
and writes the rows. Cookies go in sealed (:mod:`monitor.store.sealing`) and come out only
through :func:`cookies_of`. Taking a session for a check (:func:`claim`) is one conditional
update on its ``last_used_at``, so nodes sharing the database never use one session faster
than its pace, and the least recently used goes first: the sessions of a platform take
turns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.store.models import PlatformSession

if TYPE_CHECKING:  # a listing imports neither the cipher nor the HTTP client
    from monitor.store.sealing import Sealer
    from probes.fetch.session import Cookie

ACTIVE, EXPIRED, REMOVED = "active", "expired", "removed"
STATES = {ACTIVE: "可用", EXPIRED: "已失效", REMOVED: "已删除"}


def _purpose(platform: str) -> str:
    return f"xuncha platform session {platform}"


def add(
    session: Session,
    sealer: Sealer,
    *,
    platform: str,
    label: str,
    cookies: Sequence[Cookie],
    expires_at: datetime | None,
    pace_seconds: float,
    source: str,
    by: str,
    now: datetime,
) -> PlatformSession:
    """A new active session holding ``cookies``, sealed."""
    plain = json.dumps([c.to_dict() for c in cookies], ensure_ascii=False).encode()
    row = PlatformSession(
        platform=platform,
        label=label[:100],
        sealed=sealer.seal(plain, _purpose(platform)),
        key_id=sealer.key_id,
        cookie_count=len(cookies),
        state=ACTIVE,
        source=source,
        created_by=by[:100],
        created_at=now,
        expires_at=expires_at,
        pace_seconds=pace_seconds,
    )
    session.add(row)
    session.flush()
    return row


def cookies_of(row: PlatformSession, sealer: Sealer) -> tuple[Cookie, ...]:
    """The session's cookies (:class:`~monitor.store.sealing.SealError` with the wrong key)."""
    from probes.fetch.session import Cookie

    plain = sealer.open(row.sealed, _purpose(row.platform), row.key_id, f"会话 #{row.id} ")
    return tuple(Cookie.from_dict(d) for d in json.loads(plain))


def listing(session: Session, *, ended: bool = False) -> list[PlatformSession]:
    """Sessions by platform, newest first; removed ones only with ``ended``."""
    q = select(PlatformSession)
    if not ended:
        q = q.where(col(PlatformSession.state) != REMOVED)
    return list(
        session.exec(q.order_by(col(PlatformSession.platform), col(PlatformSession.id).desc()))
    )


def get(session: Session, session_id: int) -> PlatformSession | None:
    return session.get(PlatformSession, session_id)


def active_platforms(session: Session) -> set[str]:
    rows = session.exec(
        select(PlatformSession.platform).where(col(PlatformSession.state) == ACTIVE).distinct()
    )
    return set(rows)


def remove(session: Session, row: PlatformSession, by: str, now: datetime) -> None:
    """Ended by hand: its cookies are erased, the row stays for the record."""
    row.state, row.sealed, row.ended_at = REMOVED, b"", now
    row.ended_why = f"{by} 删除"[:500]
    session.add(row)


def lapsed(session: Session, platform: str, now: datetime) -> list[PlatformSession]:
    """Active sessions whose login cookies expired by ``now``, marked expired (the caller
    tells ops, in the same transaction)."""
    rows = session.exec(
        select(PlatformSession).where(
            col(PlatformSession.platform) == platform,
            col(PlatformSession.state) == ACTIVE,
            col(PlatformSession.expires_at) <= now,
        )
    ).all()
    return [r for r in rows if expire(session, r, "登录 Cookie 已到期", now)]


def expire(session: Session, row: PlatformSession, why: str, now: datetime) -> bool:
    """Mark ``row`` expired; False if it was not active any more (another node did it)."""
    done = session.execute(
        sa.update(PlatformSession)
        .where(col(PlatformSession.id) == row.id, col(PlatformSession.state) == ACTIVE)
        .values(state=EXPIRED, ended_at=now, ended_why=why[:500])
    )
    session.refresh(row)
    return bool(done.rowcount)  # type: ignore[attr-defined]


def claim(
    session: Session, platform: str, now: datetime
) -> tuple[PlatformSession | None, float | None]:
    """The least recently used active session of ``platform`` whose pace allows a use now,
    marked used; else None and the seconds until the first one will (None: there is none)."""
    order = sa.nulls_first(col(PlatformSession.last_used_at).asc())
    rows = session.exec(
        select(PlatformSession)
        .where(col(PlatformSession.platform) == platform, col(PlatformSession.state) == ACTIVE)
        .order_by(order, col(PlatformSession.id))
    ).all()
    soonest: float | None = None
    for row in rows:
        used = row.last_used_at
        free_at = used + timedelta(seconds=row.pace_seconds) if used else None
        if free_at is not None and free_at > now:
            wait = (free_at - now).total_seconds()
            soonest = wait if soonest is None else min(soonest, wait)
            continue
        same = (
            col(PlatformSession.last_used_at).is_(None)
            if used is None
            else col(PlatformSession.last_used_at) == used
        )
        done = session.execute(
            sa.update(PlatformSession)
            .where(col(PlatformSession.id) == row.id, col(PlatformSession.state) == ACTIVE, same)
            .values(last_used_at=now)
        )
        if done.rowcount:  # type: ignore[attr-defined]
            session.refresh(row)
            return row, None
    return None, soonest


def note_good(session: Session, session_id: int, now: datetime) -> None:
    """A check with it saw content: its last good use, and no wall in a row any more."""
    session.execute(
        sa.update(PlatformSession)
        .where(col(PlatformSession.id) == session_id)
        .values(last_good_at=now, walls=0)
    )


def note_wall(session: Session, session_id: int) -> PlatformSession | None:
    """A check with it met a login wall: one more in a row; the row as it is now."""
    session.execute(
        sa.update(PlatformSession)
        .where(col(PlatformSession.id) == session_id)
        .values(walls=col(PlatformSession.walls) + 1)
    )
    row = session.get(PlatformSession, session_id)
    if row is not None:
        session.refresh(row)
    return row
