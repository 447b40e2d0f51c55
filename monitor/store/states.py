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
    # the time rules judged on this look: until when they stay silent (None: they spoke)
    # and by what (rule set and zone); None: not judged, what the row has stays
    quiet: tuple[datetime | None, str] | None = None


@dataclass(frozen=True)
class LastLook:
    """The account's last full look as an unchanged check's write needs it: the snapshot it
    refers to, until when its time rules stay silent and by what they were judged
    (``quiet_for``), and the posts' digest they are judged from. The patrol's claim returns
    it without the digest (``monitor.patrol.claims``): decoding it was a tenth of a busy
    patrol's CPU, and most unchanged looks are not judged at all — the write reads it for
    those that are (:func:`digests_of`)."""

    snapshot_id: int
    quiet_until: datetime | None = None
    quiet_for: str = ""
    digest: dict[str, Any] | None = None


def last_looks(session: Session, account_ids: list[str]) -> dict[str, LastLook]:
    """:class:`LastLook` of these accounts, read with their digests (a record that came
    without one: an unchanged check not run by the patrol's claim)."""
    if not account_ids:
        return {}
    t = AccountState.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa.select(
            t.c.account_id, t.c.snapshot_id, t.c.quiet_until, t.c.quiet_for, t.c.rules_digest
        ).where(t.c.account_id.in_(account_ids), t.c.snapshot_id.is_not(None))
    ).all()
    return {a: LastLook(snap, quiet, by, digest or {}) for a, snap, quiet, by, digest in rows}


def digests_of(session: Session, account_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The posts' digests of these accounts' last full looks (one query)."""
    if not account_ids:
        return {}
    t = AccountState.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        sa.select(t.c.account_id, t.c.rules_digest).where(t.c.account_id.in_(account_ids))
    ).all()
    return {a: digest or {} for a, digest in rows}


def write_states(session: Session, looks: list[Look], judged_with: str) -> None:
    """After a batch's snapshots: each account's claim released and its next due time set
    (claimed checks), and its last look kept — validators and the page's hash for the
    next conditional request; for a page read in full (``digest`` given) also the snapshot
    it is in and the posts' digest the next unchanged check judges from; for a look whose
    time rules were judged, until when they stay silent."""
    t = AccountState.__table__  # type: ignore[attr-defined]
    releases: list[dict[str, Any]] = []
    # rows grouped by the columns they set: one executemany UPDATE per group
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for look in looks:
        a, at = look.account_id, look.now
        if look.claimed_by is not None and look.next_due is not None:
            releases.append({"a": a, "due": look.next_due, "node": look.claimed_by})
        row: dict[str, Any] = {"checked_at": at}
        if look.digest is not None:
            row |= {
                "snapshot_id": look.snapshot_id, "body_sha256": look.body_sha256,
                "etag": look.etag, "last_modified": look.last_modified,
                "rules_digest": look.digest, "judged_with": judged_with,
                "meaning": look.meaning, "read_at": at, "posts_counted": look.posts_counted,
            }  # fmt: skip
        elif look.unchanged and (look.etag or look.last_modified):  # same page, new validators
            row |= {"etag": look.etag, "last_modified": look.last_modified}
        if look.quiet is not None:
            row |= {"quiet_until": look.quiet[0], "quiet_for": look.quiet[1]}
        # bound as "v_<column>": a parameter may not be named as a column the UPDATE sets
        groups.setdefault(tuple(row), []).append({f"v_{c}": v for c, v in row.items()} | {"a": a})
    if releases:
        session.execute(
            sa.update(t)
            .where(t.c.account_id == sa.bindparam("a"), t.c.claimed_by == sa.bindparam("node"))
            .values(due_at=sa.bindparam("due"), claimed_by=None),
            releases,
        )
    for columns, rows in groups.items():
        _update_each(session, t, rows, {c: f"v_{c}" for c in columns})


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
                quiet_until=None,
                quiet_for="",
                claimed_by=None,
                due_at=now,
            )
        )
