"""Snapshot rows: the one "latest ok snapshot" read, and how a new row is made.

Every part that needs an account's last good look — the check's history for the rules and
identity for the theft detector, the console's "due soon" list — reads it here, with one
index probe per account (``ix_snapshot_account_taken``). A new row's profile fingerprint
and change mark are computed from that same read, so nothing runs a query per row hidden
in a flush.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from monitor.store.facts import put_facts, snapshot_facts
from monitor.store.models import Account, Snapshot

# profile fields that change all the time: a change in them is not a profile change
PROFILE_COUNTERS = frozenset({"followers", "posts_count"})


def profile_fingerprint(facts: dict[str, Any]) -> str:
    """A short hash of ``facts["profile"]`` without its counters ("" for no profile)."""
    profile = facts.get("profile") if isinstance(facts, dict) else None
    if not isinstance(profile, dict) or not profile:
        return ""
    stable = {k: v for k, v in profile.items() if k not in PROFILE_COUNTERS}
    text = json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LastSeen:
    """What an account's previous good checks showed."""

    snapshot_id: int
    facts: dict[str, Any]
    # the fingerprint of the last ok snapshot that had a profile (it may be older than
    # ``snapshot_id``: a feed without a profile does not reset it); "" if none ever had one
    profile_hash: str


def _newest_ok(extra: Any = None) -> Any:
    q = select(col(Snapshot.id)).where(
        col(Snapshot.account_id) == col(Account.id), col(Snapshot.outcome) == "ok"
    )
    if extra is not None:
        q = q.where(extra)
    return (
        q.order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc())
        .limit(1)
        .correlate(Account)
        .scalar_subquery()
    )


def latest_ok_ids(session: Session, account_ids: list[str]) -> dict[str, int]:
    """Each account's newest ok snapshot id (accounts with none are left out)."""
    out: dict[str, int] = {}
    for i in range(0, len(account_ids), 500):
        chunk = account_ids[i : i + 500]
        rows = session.exec(
            select(col(Account.id), _newest_ok()).where(col(Account.id).in_(chunk))
        ).all()
        out.update({a: sid for a, sid in rows if sid is not None})
    return out


def last_seen(session: Session, account_ids: list[str]) -> dict[str, LastSeen]:
    """:class:`LastSeen` of each account that has an ok snapshot: a few queries for the whole
    batch, the facts read once per distinct content and not at all when cached."""
    if not account_ids:
        return {}
    newest = _newest_ok().label("newest")
    with_profile = _newest_ok(col(Snapshot.profile_hash) != "").label("with_profile")
    pairs = session.exec(
        select(col(Account.id), newest, with_profile).where(col(Account.id).in_(account_ids))
    ).all()
    ids = {sid for _, n, p in pairs for sid in (n, p) if sid is not None}
    rows = session.exec(
        select(
            col(Snapshot.id),
            col(Snapshot.facts_hash),
            col(Snapshot.taken_at),
            col(Snapshot.elapsed_ms),
            col(Snapshot.profile_hash),
            col(Snapshot.counters),
        ).where(col(Snapshot.id).in_(ids))
    ).all()
    latest = {n for _, n, _ in pairs if n is not None}
    # facts only of the newest: the last one with a profile lends its fingerprint alone
    wanted = [r for r in rows if r.id in latest]
    facts = dict(zip((r.id for r in wanted), snapshot_facts(session, wanted), strict=True))
    profile = {r.id: r.profile_hash for r in rows}
    out: dict[str, LastSeen] = {}
    for account_id, n, p in pairs:
        if n is None:
            continue
        out[account_id] = LastSeen(n, facts[n], profile[p] if p is not None else "")
    return out


def profile_marks(facts: dict[str, Any], outcome: str, previous_hash: str) -> tuple[str, bool]:
    """A new snapshot's ``profile_hash`` and ``profile_changed`` (against ``previous_hash``,
    the last ok snapshot's with a profile), so history finds profile changes by an index."""
    ph = profile_fingerprint(facts)
    changed = outcome == "ok" and bool(ph) and bool(previous_hash) and ph != previous_hash
    return ph, changed


def add_snapshot(session: Session, snap: Snapshot, facts: dict[str, Any]) -> Snapshot:
    """Add one snapshot made outside a check (imports, tests, tools) with ``facts`` (as
    ``Observation.facts()`` gives them) stored and keyed, and its profile marks computed, as
    a check's batch does them (which uses :func:`last_seen` and ``put_facts`` itself)."""
    seen = last_seen(session, [snap.account_id]).get(snap.account_id)
    [snap.facts_hash] = put_facts(session, [facts])
    snap.profile_hash, snap.profile_changed = profile_marks(
        facts, snap.outcome, seen.profile_hash if seen else ""
    )
    session.add(snap)
    return snap


__all__ = [
    "PROFILE_COUNTERS",
    "LastSeen",
    "add_snapshot",
    "last_seen",
    "latest_ok_ids",
    "profile_fingerprint",
    "profile_marks",
]
