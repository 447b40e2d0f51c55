"""The snapshot row of a check, as :mod:`monitor.record.batch` writes it: a page read in
full (its facts' key, its profile marks, its evidence files) or a look that found the page
as an earlier look has it (referring to that one, with the counters it read).

Rows are built and inserted without the ORM's unit of work: a batch's snapshots are one
INSERT … RETURNING of plain values (:func:`insert_snapshots`), and each check's
:class:`Snapshot` is filled in directly rather than through ``SQLModel.__init__`` — that
constructor and the flush were most of the writer's CPU on a page that did not change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from monitor.record.judge import Verdict
from monitor.store.models import Snapshot
from monitor.store.plain_rows import built
from probes.checks.staleness import FUTURE_TOLERANCE
from probes.meaning import counters_of
from probes.model import Observation, Sight


def sight_of(obs: Observation) -> str | None:
    """The snapshot's ``sight``: the observation's, "undated" where posts were seen that
    could not be dated and none that could be judged (dated, not pinned, not in the future)
    — as ``probes.checks.staleness`` gives "无法判断更新时间", never a veto. A list of only
    pinned (or future) dated posts stays "posts": "未找到任何更新" is judged on it."""
    if obs.sight is None:
        return None
    if obs.sight is Sight.posts and any(p.published_at is None for p in obs.posts):
        horizon = _aware(obs.fetched_at) + FUTURE_TOLERANCE
        dated = [_aware(p.published_at) for p in obs.posts if p.published_at and not p.pinned]
        if not any(at <= horizon for at in dated):
            return "undated"
    return obs.sight.value


def _aware(dt: datetime) -> datetime:
    """A naive time from a careless reader taken as UTC (as ``probes.checks.staleness``)."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def latest_post_at(obs: Observation) -> datetime | None:
    times = [p.published_at for p in obs.posts if p.published_at and not p.pinned]
    return max(times) if times else None


def _own(node: str, account_id: str, obs: Observation) -> dict[str, Any]:
    """The columns every snapshot takes from its own check, whatever it saw: when, from
    where, what URL and what came back."""
    return {
        "id": None,  # given by insert_snapshots
        "account_id": account_id, "taken_at": obs.fetched_at, "node": node,
        "reader": obs.reader, "url": obs.url, "final_url": obs.final_url,
        "outcome": obs.outcome.value, "status_code": obs.status_code, "detail": obs.detail,
        "elapsed_ms": obs.elapsed_ms,
    }  # fmt: skip


_TABLE: sa.Table = Snapshot.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(c.key for c in _TABLE.columns if c.key != "id")


def insert_snapshots(session: Session, snaps: list[Snapshot]) -> None:
    """Insert ``snaps`` (built here, never added to a session) in one statement and give
    each its id, in order."""
    if not snaps:
        return
    rows = [{k: snap.__dict__[k] for k in _COLUMNS} for snap in snaps]
    stmt = sa.insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
    ids = session.execute(stmt, rows).scalars().all()
    for snap, snapshot_id in zip(snaps, ids, strict=True):
        snap.__dict__["id"] = snapshot_id


class Earlier(Protocol):
    """What a look copies of the snapshot it refers to: a :class:`Snapshot`, or a row of
    these columns (``monitor.record.quick.EARLIER_COLUMNS``)."""

    id: int | None
    latest_post_at: datetime | None
    sight: str | None
    post_count: int
    facts_hash: str
    profile_hash: str
    artifacts: list[dict[str, Any]]


def same_snapshot(node: str, account_id: str, obs: Observation, earlier: Earlier) -> Snapshot:
    """The snapshot of a check that found the page as ``earlier`` has it: when, from where,
    what URL and what came back (304, or 200 with the same bytes or saying the same) are
    this check's, and the counters it read; the facts and artifacts are ``earlier``'s,
    referred to, not copied."""
    return built(
        Snapshot,
        {
            **_own(node, account_id, obs),
            "latest_post_at": earlier.latest_post_at,
            "sight": earlier.sight,
            "post_count": earlier.post_count,
            "facts_hash": earlier.facts_hash,
            "profile_hash": earlier.profile_hash,
            "profile_changed": False,
            "artifacts": earlier.artifacts,
            "same_as": earlier.id,
            # the counters a look that said the same read (a same-bytes one read none)
            "counters": counters_of(obs) or None,
        },
    )


def snapshot(
    node: str,
    account_id: str,
    obs: Observation,
    facts_hash: str,
    verdict: Verdict,
    digests: list[str],
) -> Snapshot:
    """One check's snapshot row (not yet inserted: :func:`insert_snapshots`)."""
    artifacts = [
        {
            "kind": a.kind,
            "media_type": a.media_type,
            "sha256": digest,
            "size": len(a.content),
            "url": a.url,
        }
        for a, digest in zip(obs.artifacts, digests, strict=True)
    ]
    return built(
        Snapshot,
        {
            **_own(node, account_id, obs),
            "latest_post_at": latest_post_at(obs),
            "post_count": len(obs.posts),
            "sight": sight_of(obs),
            "facts_hash": facts_hash,
            "profile_hash": verdict.profile_hash,
            "profile_changed": verdict.profile_changed,
            "artifacts": artifacts,
            "same_as": None,
            "counters": None,
        },
    )
