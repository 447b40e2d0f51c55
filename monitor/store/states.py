"""``account_state`` rows as a check's write reads and leaves them.

The patrol's claims live in the same rows (``monitor.patrol.claims``); a check's record
releases its claim and sets the next due time in the transaction of its snapshot, so an
account is "done" exactly when its snapshot is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitor.store.models import AccountState


@dataclass(frozen=True)
class Look:
    """What one check leaves in its account's state."""

    account_id: str
    now: datetime
    claimed_by: str | None  # the node whose claim the check was (None: a check by hand)
    next_due: datetime | None
    unchanged: bool
    etag: str
    last_modified: str
    body_sha256: str = ""
    snapshot_id: int | None = None  # a page read in full: its snapshot, and the digest
    digest: dict[str, Any] | None = None
    meaning: str = ""  # what it said (probes.meaning) and its post counter
    posts_counted: int | None = None


@dataclass(frozen=True)
class LastLook:
    """The account's last full look as an unchanged check's write needs it: the snapshot it
    refers to and the posts' digest its time-dependent rules are judged from. The patrol's
    claim returns it (``monitor.patrol.claims``), so the write does not read the row again."""

    snapshot_id: int
    digest: dict[str, Any]


def last_looks(session: Session, account_ids: list[str]) -> dict[str, LastLook]:
    """:class:`LastLook` of these accounts, read (a record that came without one: an
    unchanged check not run by the patrol's claim)."""
    if not account_ids:
        return {}
    t = AccountState.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa.select(t.c.account_id, t.c.snapshot_id, t.c.rules_digest).where(
            t.c.account_id.in_(account_ids), t.c.snapshot_id.is_not(None)
        )
    ).all()
    return {a: LastLook(snap, digest or {}) for a, snap, digest in rows}


def write_states(session: Session, looks: list[Look], judged_with: str) -> None:
    """After a batch's snapshots: each account's claim released and its next due time set
    (claimed checks), and its last look kept — validators and the page's hash for the
    next conditional request; for a page read in full (``digest`` given) also the snapshot
    it is in and the posts' digest the next unchanged check judges from."""
    t = AccountState.__table__  # type: ignore[attr-defined]
    releases: list[dict[str, Any]] = []
    full: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    revalidated: list[dict[str, Any]] = []
    for look in looks:
        a, at = look.account_id, look.now
        if look.claimed_by is not None and look.next_due is not None:
            releases.append({"a": a, "due": look.next_due, "node": look.claimed_by})
        if look.digest is not None:
            full.append(
                {
                    "a": a,
                    "at": at,
                    "snap": look.snapshot_id,
                    "sha": look.body_sha256,
                    "etag": look.etag,
                    "modified": look.last_modified,
                    "digest": look.digest,
                    "judged": judged_with,
                    "meaning": look.meaning,
                    "counted": look.posts_counted,
                }
            )
        elif look.unchanged and (look.etag or look.last_modified):  # same page, new validators
            revalidated.append(
                {"a": a, "at": at, "etag": look.etag, "modified": look.last_modified}
            )
        else:
            seen.append({"a": a, "at": at})
    if releases:
        session.execute(
            sa.update(t)
            .where(t.c.account_id == sa.bindparam("a"), t.c.claimed_by == sa.bindparam("node"))
            .values(due_at=sa.bindparam("due"), claimed_by=None),
            releases,
        )
    _update_each(session, t, full, {
        "checked_at": "at", "snapshot_id": "snap", "body_sha256": "sha", "etag": "etag",
        "last_modified": "modified", "rules_digest": "digest", "judged_with": "judged",
        "meaning": "meaning", "read_at": "at", "posts_counted": "counted",
    })  # fmt: skip
    _update_each(session, t, revalidated, {"checked_at": "at", "etag": "etag",
                                           "last_modified": "modified"})  # fmt: skip
    _update_each(session, t, seen, {"checked_at": "at"})


def _update_each(
    session: Session, t: sa.Table, rows: list[dict[str, Any]], columns: dict[str, str]
) -> None:
    """One executemany UPDATE of the rows' accounts (key ``a``), each column set from the
    row's key named for it (bound with the column's type: JSON stays JSON)."""
    if rows:
        values = {c: sa.bindparam(k, type_=t.c[c].type) for c, k in columns.items()}
        update = sa.update(t).where(t.c.account_id == sa.bindparam("a")).values(values)
        session.execute(update, rows)


def forget_look(engine: Engine, account_id: str, now: datetime) -> None:
    """The account's next check reads its page in full, at once (its last look is gone)."""
    t = AccountState.__table__  # type: ignore[attr-defined]
    with engine.begin() as c:
        c.execute(
            sa.update(t)
            .where(t.c.account_id == account_id)
            .values(
                snapshot_id=None,
                body_sha256="",
                etag="",
                last_modified="",
                rules_digest={},
                meaning="",
                claimed_by=None,
                due_at=now,
            )
        )
