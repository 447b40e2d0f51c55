"""What changed: two snapshots compared, an account's posting over time, its profile changes.

Shared by the CLI (``diff``) and the console (diff page, 90-day chart, 资料变更). Like
:mod:`monitor.store.history`, nothing here reads every snapshot of a long history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.store.facts import load_facts
from monitor.store.history import (
    NOISY_FIELDS,
    PROFILE_FIELDS,
    SUMMARY_COLUMNS,
    SnapshotSummary,
    jsonable,
    post_json,
    summary_of,
)
from monitor.store.models import Snapshot


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        return jsonable(asdict(self), tz)


@dataclass
class SnapshotDiff:
    """What changed from snapshot ``a`` to snapshot ``b`` (in the order asked)."""

    account_id: str
    a: SnapshotSummary
    b: SnapshotSummary
    changes: list[FieldChange] = field(default_factory=list)  # outcome, latest_post_at, ...
    profile: list[FieldChange] = field(default_factory=list)
    posts_added: list[dict[str, Any]] = field(default_factory=list)  # in b, not in a
    posts_removed: list[dict[str, Any]] = field(default_factory=list)  # in a, not in b
    artifacts_added: list[str] = field(default_factory=list)  # sha256
    artifacts_removed: list[str] = field(default_factory=list)
    # both checks read the page: only then are profile and posts compared (a failed fetch
    # saw none, which is not "every post deleted")
    content_compared: bool = True

    @property
    def a_is_older(self) -> bool:
        return (self.a.taken_at, self.a.id) <= (self.b.taken_at, self.b.id)

    @property
    def same_content(self) -> bool:
        return self.a.facts_hash == self.b.facts_hash and bool(self.a.facts_hash)

    @property
    def empty(self) -> bool:
        return not (
            self.changes
            or self.profile
            or self.posts_added
            or self.posts_removed
            or self.artifacts_added
            or self.artifacts_removed
        )

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "a": self.a.to_dict(tz),
            "b": self.b.to_dict(tz),
            "a_is_older": self.a_is_older,
            "same_content": self.same_content,
            "content_compared": self.content_compared,
            "changes": [c.to_dict(tz) for c in self.changes],
            "profile": [c.to_dict(tz) for c in self.profile],
            "posts_added": [post_json(p, tz) for p in self.posts_added],
            "posts_removed": [post_json(p, tz) for p in self.posts_removed],
            "artifacts_added": self.artifacts_added,
            "artifacts_removed": self.artifacts_removed,
        }


@dataclass
class ProfileChange:
    at: datetime  # when the newer snapshot was taken
    snapshot_id: int  # the snapshot that first showed ``new``
    previous_snapshot_id: int  # the last one that showed ``old``
    field: str
    old: Any
    new: Any

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        return jsonable(asdict(self), tz)


# -- comparing --------------------------------------------------------------------------------


def _post_brief(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(p.get("id", "")),
        "published_at": p.get("published_at"),
        "title": p.get("title") or str(p.get("text") or "")[:80],
        "url": p.get("url", ""),
        "pinned": bool(p.get("pinned")),
    }


def _load(session: Session, snapshot_id: int) -> Snapshot:
    snap = session.get(Snapshot, snapshot_id)
    if snap is None:
        raise ValueError(f"快照 #{snapshot_id} 不存在")
    return snap


def diff_profiles(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    keys = list(PROFILE_FIELDS) + sorted((set(old) | set(new)) - set(PROFILE_FIELDS))
    return [FieldChange(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def diff_snapshots(session: Session, a_id: int, b_id: int) -> SnapshotDiff:
    """Compare two snapshots of the same account; ``ValueError`` (Chinese) otherwise."""
    a, b = _load(session, a_id), _load(session, b_id)
    if a.account_id != b.account_id:
        raise ValueError(
            f"快照 #{a_id}（账号 {a.account_id}）与快照 #{b_id}（账号 {b.account_id}）"
            "不属于同一账号，无法比较"
        )
    sa_, sb = (summary_of(tuple(getattr(s, c.key) for c in SUMMARY_COLUMNS)) for s in (a, b))
    d = SnapshotDiff(account_id=a.account_id, a=sa_, b=sb)
    d.content_compared = a.outcome == "ok" and b.outcome == "ok"
    seen = ("latest_post_at", "post_count") if d.content_compared else ()
    for name in ("outcome", "status_code", *seen, "final_url"):
        old, new = getattr(a, name), getattr(b, name)
        if old != new:
            d.changes.append(FieldChange(name, old, new))
    hashes_a = [x.get("sha256", "") for x in a.artifacts or []]
    hashes_b = [x.get("sha256", "") for x in b.artifacts or []]
    d.artifacts_added = [h for h in hashes_b if h not in hashes_a]
    d.artifacts_removed = [h for h in hashes_a if h not in hashes_b]
    if not d.content_compared:
        return d
    contents = load_facts(session, [a.facts_hash, b.facts_hash])
    fa, fb = contents.get(a.facts_hash) or {}, contents.get(b.facts_hash) or {}
    d.profile = diff_profiles(fa.get("profile") or {}, fb.get("profile") or {})
    posts_a = {str(p.get("id", "")): p for p in fa.get("posts") or []}
    posts_b = {str(p.get("id", "")): p for p in fb.get("posts") or []}
    d.posts_added = [_post_brief(p) for k, p in posts_b.items() if k not in posts_a]
    d.posts_removed = [_post_brief(p) for k, p in posts_a.items() if k not in posts_b]
    return d


# -- over time --------------------------------------------------------------------------------


def _contents(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The facts' content of the given snapshots (``{}`` for one without), each distinct
    content read once: an unchanged account's snapshots share one."""
    hashes: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        hashes.update(
            session.exec(
                select(col(Snapshot.id), col(Snapshot.facts_hash)).where(
                    col(Snapshot.id).in_(chunk)
                )
            ).all()
        )
    contents = load_facts(session, hashes.values())
    return {id_: contents.get(h) or {} for id_, h in hashes.items()}


_Post = tuple[str, datetime | None, bool]  # id, published_at, pinned


def _when(v: Any) -> datetime | None:
    try:
        dt = datetime.fromisoformat(v) if isinstance(v, str) and v else None
    except ValueError:
        return None
    if dt is not None and dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def _post_dates(session: Session, ids: list[int]) -> list[_Post]:
    """The posts the given snapshots saw, as (id, published_at, pinned)."""
    out: list[_Post] = []
    for content in _contents(session, ids).values():
        posts = content.get("posts")
        for p in posts if isinstance(posts, list) else []:
            if not isinstance(p, dict):
                continue
            pid = p.get("id")
            out.append(
                (
                    "" if pid is None else str(pid),
                    _when(p.get("published_at")),
                    p.get("pinned") in (1, True, "true"),
                )
            )
    return out


def _ok_snapshot(
    session: Session,
    account_id: str,
    *,
    at_or_after: datetime | None = None,
    before: datetime | None = None,
) -> tuple[int, datetime] | None:
    """The earliest ok snapshot taken at or after a moment, or the latest one before it."""
    q = select(col(Snapshot.id), col(Snapshot.taken_at)).where(
        col(Snapshot.account_id) == account_id, col(Snapshot.outcome) == "ok"
    )
    if at_or_after is not None:
        q = q.where(col(Snapshot.taken_at) >= at_or_after).order_by(
            col(Snapshot.taken_at), col(Snapshot.id)
        )
    else:
        assert before is not None
        q = q.where(col(Snapshot.taken_at) < before).order_by(
            col(Snapshot.taken_at).desc(), col(Snapshot.id).desc()
        )
    row = session.exec(q.limit(1)).first()
    return (row[0], row[1]) if row else None


def _posts_since(session: Session, account_id: str, start: datetime, now: datetime) -> list[_Post]:
    """Every post seen by the ok snapshots of [start, now], reading about one snapshot per
    feed-length of posts rather than every snapshot.

    Walks back from the newest snapshot: a feed shows the newest posts down to its oldest
    (non-pinned) one, O; the posts before O are in the first snapshot taken at or after O.
    A post deleted before that snapshot was taken is not counted.
    """
    cur = _ok_snapshot(session, account_id, before=now + timedelta(microseconds=1))
    out: list[_Post] = []
    while cur is not None and cur[1] >= start:
        posts = _post_dates(session, [cur[0]])
        out.extend(posts)
        dated = [when for _, when, pinned in posts if when is not None and not pinned]
        oldest = min(dated) if dated else None
        nxt = None
        if oldest is not None and oldest < cur[1]:
            if oldest < start:
                break  # this feed already reaches before the window
            nxt = _ok_snapshot(session, account_id, at_or_after=oldest)
            if nxt is not None and nxt[1] >= cur[1]:
                nxt = None
        if nxt is None:
            # no snapshot between: the one just before; no dated posts at all: a day back
            # (bounds the walk to one query a day for a feed without dates)
            back = cur[1] if oldest is not None else cur[1] - timedelta(days=1)
            nxt = _ok_snapshot(session, account_id, before=back)
        cur = nxt
    return out


def posting_timeline(
    session: Session, account_id: str, *, days: int = 90, now: datetime, tz: str = "Asia/Shanghai"
) -> list[tuple[date, int]]:
    """Posts per local day over the last ``days`` days (oldest first, zero days included).

    Counted from the posts the snapshots saw, each post once however many snapshots saw it
    (by post id); pinned posts count on the day they were published.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=max(days, 1) - 1)
    start = datetime.combine(first, datetime.min.time(), zone).astimezone(UTC)
    seen: dict[str, date] = {}
    for pid, when, _pinned in _posts_since(session, account_id, start, now):
        if when is None or not pid or pid in seen:
            continue
        day = when.astimezone(zone).date()
        if first <= day <= today:
            seen[pid] = day
    counts: dict[date, int] = {}
    for day in seen.values():
        counts[day] = counts.get(day, 0) + 1
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0))
        for i in range((today - first).days + 1)
    ]


def profile_changes(session: Session, account_id: str, *, limit: int = 50) -> list[ProfileChange]:
    """Profile fields that changed between consecutive ok snapshots, newest first.

    A snapshot is marked when it is written if its profile (without the counters) differs
    from the previous ok snapshot's (``Snapshot.profile_changed``), so this is an indexed
    lookup of the marked rows, however long the history, plus each one's predecessor.
    Follower and post counters are left out: they change all the time.
    """
    changed = session.exec(
        select(col(Snapshot.id), col(Snapshot.taken_at))
        .where(col(Snapshot.account_id) == account_id, col(Snapshot.profile_changed).is_(True))
        .order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc())
        .limit(limit)
    ).all()
    pairs: list[tuple[int, int]] = []
    for id_, taken_at in changed:
        prev = session.exec(
            select(col(Snapshot.id))
            .where(
                col(Snapshot.account_id) == account_id,
                col(Snapshot.outcome) == "ok",
                col(Snapshot.profile_hash) != "",
                sa.tuple_(col(Snapshot.taken_at), col(Snapshot.id)) < sa.tuple_(taken_at, id_),
            )
            .order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc())
            .limit(1)
        ).first()
        if prev is not None:
            pairs.append((id_, prev))
    if not pairs:
        return []
    wanted = sorted({i for pair in pairs for i in pair})
    contents = _contents(session, wanted)
    taken = dict(changed)
    out: list[ProfileChange] = []
    for new_id, old_id in pairs:
        new = contents[new_id].get("profile") or {}
        old = contents[old_id].get("profile") or {}
        taken_at = taken[new_id]
        for c in diff_profiles(old, new):
            if c.field not in NOISY_FIELDS:
                out.append(ProfileChange(taken_at, new_id, old_id, c.field, c.old, c.new))
    return out[:limit]
