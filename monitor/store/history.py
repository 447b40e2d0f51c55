"""An account's past as its snapshots show it: listing, one snapshot, two compared.

Shared by the CLI (``history``, ``snapshot``, ``diff``) and the web console. Accounts
checked every few minutes collect tens of thousands of snapshots, so nothing here loads
them all: listings are keyset-paginated on ``(taken_at, id)`` (index
``ix_snapshot_account_taken``), and the timeline and profile history read the ``facts``
JSON only of snapshots whose ``facts_hash`` differs from the one before (an unchanged
account writes the same hash again and again).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.show import times as timefmt
from monitor.store.blobs import BlobCorrupt
from monitor.store.models import Account, Snapshot, Unit
from monitor.store.snapshots import PROFILE_COUNTERS


class Blobs(Protocol):
    """What is read of a blob store (files or database): ``App.blobs`` either way."""

    def exists(self, digest: str) -> bool: ...

    def get(self, digest: str) -> bytes: ...


PROFILE_FIELDS = (
    "name",
    "bio",
    "avatar_url",
    "avatar_hash",
    "verified",
    "verified_type",
    "verified_reason",
    "ip_location",
    "followers",
    "posts_count",
)
# counters move with every post; a change in them is not a "profile change" people look for
NOISY_FIELDS = PROFILE_COUNTERS

_SUMMARY_COLUMNS = (
    col(Snapshot.id),
    col(Snapshot.account_id),
    col(Snapshot.taken_at),
    col(Snapshot.node),
    col(Snapshot.reader),
    col(Snapshot.url),
    col(Snapshot.final_url),
    col(Snapshot.outcome),
    col(Snapshot.status_code),
    col(Snapshot.detail),
    col(Snapshot.elapsed_ms),
    col(Snapshot.latest_post_at),
    col(Snapshot.post_count),
    col(Snapshot.facts_hash),
    col(Snapshot.artifacts),
)


def _jsonable(value: Any, tz: str) -> Any:
    """Our own times as ``--json`` and the API give them: ISO in the display zone."""
    if isinstance(value, datetime):
        return timefmt.iso(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, tz) for v in value]
    return value


def _post_json(p: dict[str, Any], tz: str) -> dict[str, Any]:
    """A post brief of a diff: its stored UTC time given like every other time of the diff."""
    when = timefmt.parse(p["published_at"]) if isinstance(p.get("published_at"), str) else None
    return {**p, "published_at": timefmt.iso(when, tz)} if when else p


@dataclass
class SnapshotSummary:
    """One row of an account's history (no facts: they can be large)."""

    id: int
    account_id: str
    taken_at: datetime
    node: str
    reader: str
    url: str
    final_url: str | None
    outcome: str
    status_code: int | None
    detail: str
    elapsed_ms: int
    latest_post_at: datetime | None
    post_count: int
    facts_hash: str
    artifacts: list[dict[str, Any]]  # [{kind, media_type, sha256, size, url}]

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        return _jsonable(asdict(self), tz)


def _summary(row: Any) -> SnapshotSummary:
    (
        id_,
        account_id,
        taken_at,
        node,
        reader,
        url,
        final_url,
        outcome,
        status_code,
        detail,
        elapsed_ms,
        latest_post_at,
        post_count,
        facts_hash,
        artifacts,
    ) = row
    return SnapshotSummary(
        id=id_,
        account_id=account_id,
        taken_at=taken_at,
        node=node,
        reader=reader,
        url=url,
        final_url=final_url,
        outcome=outcome,
        status_code=status_code,
        detail=detail,
        elapsed_ms=elapsed_ms,
        latest_post_at=latest_post_at,
        post_count=post_count,
        facts_hash=facts_hash,
        artifacts=list(artifacts or []),
    )


@dataclass
class ArtifactInfo:
    """A stored raw artifact of a snapshot; ``verified`` is filled by ``verify_artifacts``."""

    index: int
    kind: str
    media_type: str
    sha256: str
    size: int | None
    url: str
    present: bool | None = None  # the blob file exists
    verified: bool | None = None  # its bytes still hash to ``sha256``
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SnapshotDetail:
    summary: SnapshotSummary
    account_name: str
    platform: str
    owner_code: str
    owner_name: str | None
    facts: dict[str, Any]
    artifacts: list[ArtifactInfo]

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        """``facts`` verbatim: the record ``facts_hash`` covers, its times UTC as stored."""
        return {
            **self.summary.to_dict(tz),
            "account_name": self.account_name,
            "platform": self.platform,
            "owner_code": self.owner_code,
            "owner_name": self.owner_name,
            "facts": self.facts,
            "artifacts": [a.to_dict() for a in self.artifacts],
        }


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        return _jsonable(asdict(self), tz)


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
            "changes": [c.to_dict(tz) for c in self.changes],
            "profile": [c.to_dict(tz) for c in self.profile],
            "posts_added": [_post_json(p, tz) for p in self.posts_added],
            "posts_removed": [_post_json(p, tz) for p in self.posts_removed],
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
        return _jsonable(asdict(self), tz)


# -- listing ----------------------------------------------------------------------------------


def account_history(
    session: Session, account_id: str, *, before_id: int | None = None, limit: int = 50
) -> list[SnapshotSummary]:
    """Newest first; pass the last id seen as ``before_id`` for the next page.

    Keyset on ``(taken_at, id)``: page 1,000 costs what page 1 does. An unknown
    ``before_id`` (or one of another account) gives an empty page, not page 1 again.
    """
    q = select(*_SUMMARY_COLUMNS).where(col(Snapshot.account_id) == account_id)
    if before_id is not None:
        anchor = session.exec(
            select(col(Snapshot.taken_at)).where(
                col(Snapshot.id) == before_id, col(Snapshot.account_id) == account_id
            )
        ).first()
        if anchor is None:
            return []
        q = q.where(
            col(Snapshot.taken_at) <= anchor,  # bounds the index range; the OR alone does not
            sa.or_(col(Snapshot.taken_at) < anchor, col(Snapshot.id) < before_id),
        )
    q = q.order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc()).limit(max(limit, 0))
    return [_summary(r) for r in session.exec(q).all()]


def _artifact_infos(artifacts: list[dict[str, Any]]) -> list[ArtifactInfo]:
    return [
        ArtifactInfo(
            index=i,
            kind=str(a.get("kind", "")),
            media_type=str(a.get("media_type", "")),
            sha256=str(a.get("sha256", "")),
            size=a.get("size"),
            url=str(a.get("url", "")),
        )
        for i, a in enumerate(artifacts or [])
    ]


def snapshot_detail(session: Session, snapshot_id: int) -> SnapshotDetail | None:
    """One snapshot with its account, owner unit, extracted facts and artifact list."""
    row = session.exec(
        select(Snapshot, Account, Unit)
        .join(Account, col(Account.id) == col(Snapshot.account_id))
        .join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)
        .where(col(Snapshot.id) == snapshot_id)
    ).first()
    if row is None:
        return None
    snap, account, unit = row
    summary = _summary(tuple(getattr(snap, c.key) for c in _SUMMARY_COLUMNS))
    return SnapshotDetail(
        summary=summary,
        account_name=account.name,
        platform=account.platform,
        owner_code=account.owner_code,
        owner_name=unit.name if unit else None,
        facts=dict(snap.facts or {}),
        artifacts=_artifact_infos(snap.artifacts),
    )


def verify_artifacts(blobs: Blobs, artifacts: list[ArtifactInfo]) -> list[ArtifactInfo]:
    """Fill ``present``/``verified``: does each blob still exist and hash to its name?"""
    for a in artifacts:
        a.present = bool(a.sha256) and blobs.exists(a.sha256)
        if not a.present:
            a.verified = False
            a.problem = "证据文件缺失"
            continue
        try:
            blobs.get(a.sha256)  # re-hashes the bytes
        except BlobCorrupt as e:
            a.verified, a.problem = False, str(e)
        else:
            a.verified = True
    return artifacts


def read_artifact(blobs: Blobs, artifact: ArtifactInfo) -> bytes:
    """The artifact's bytes, verified against its hash (raises ``BlobCorrupt``)."""
    data = blobs.get(artifact.sha256)
    assert hashlib.sha256(data).hexdigest() == artifact.sha256
    return data


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
    sa_, sb = (_summary(tuple(getattr(s, c.key) for c in _SUMMARY_COLUMNS)) for s in (a, b))
    d = SnapshotDiff(account_id=a.account_id, a=sa_, b=sb)
    for name in ("outcome", "status_code", "latest_post_at", "post_count", "final_url"):
        old, new = getattr(a, name), getattr(b, name)
        if old != new:
            d.changes.append(FieldChange(name, old, new))
    fa, fb = a.facts or {}, b.facts or {}
    d.profile = diff_profiles(fa.get("profile") or {}, fb.get("profile") or {})
    posts_a = {str(p.get("id", "")): p for p in fa.get("posts") or []}
    posts_b = {str(p.get("id", "")): p for p in fb.get("posts") or []}
    d.posts_added = [_post_brief(p) for k, p in posts_b.items() if k not in posts_a]
    d.posts_removed = [_post_brief(p) for k, p in posts_a.items() if k not in posts_b]
    hashes_a = [x.get("sha256", "") for x in a.artifacts or []]
    hashes_b = [x.get("sha256", "") for x in b.artifacts or []]
    d.artifacts_added = [h for h in hashes_b if h not in hashes_a]
    d.artifacts_removed = [h for h in hashes_a if h not in hashes_b]
    return d


# -- over time --------------------------------------------------------------------------------


def _facts_part(session: Session, ids: list[int], key: str) -> dict[int, Any]:
    """``facts[key]`` of the given snapshots, extracted by the database (not the whole JSON)."""
    out: dict[int, Any] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = session.exec(
            select(col(Snapshot.id), col(Snapshot.facts)[key]).where(col(Snapshot.id).in_(chunk))
        ).all()
        out.update({id_: part for id_, part in rows})
    return out


_POSTS_SQL = {
    "sqlite": "SELECT json_extract(p.value, '$.id'), json_extract(p.value, '$.published_at'), "
    "json_extract(p.value, '$.pinned') "
    "FROM snapshot AS s, json_each(s.facts, '$.posts') AS p WHERE s.id IN :ids",
    "postgresql": "SELECT p ->> 'id', p ->> 'published_at', p ->> 'pinned' "
    "FROM snapshot AS s, json_array_elements(s.facts -> 'posts') AS p WHERE s.id IN :ids",
}

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
    """The posts the given snapshots saw, as (id, published_at, pinned), without handing
    whole facts documents to Python: the database walks the JSON."""
    sql = _POSTS_SQL.get(session.get_bind().dialect.name)
    out: list[_Post] = []
    for k in range(0, len(ids), 500):
        chunk = ids[k : k + 500]
        if sql is None:  # another database: the portable, slower way
            for posts in _facts_part(session, chunk, "posts").values():
                out.extend(
                    (str(p.get("id", "")), _when(p.get("published_at")), bool(p.get("pinned")))
                    for p in posts or []
                )
            continue
        stmt = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
        out.extend(
            ("" if pid is None else str(pid), _when(when), pinned in (1, True, "true"))
            for pid, when, pinned in session.connection().execute(stmt, {"ids": chunk})
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
    facts = {
        id_: (profile or {}, taken_at)
        for id_, profile, taken_at in session.exec(
            select(col(Snapshot.id), col(Snapshot.facts)["profile"], col(Snapshot.taken_at)).where(
                col(Snapshot.id).in_(wanted)
            )
        ).all()
    }
    out: list[ProfileChange] = []
    for new_id, old_id in pairs:
        (new, taken_at), (old, _) = facts[new_id], facts[old_id]
        for c in diff_profiles(old, new):
            if c.field not in NOISY_FIELDS:
                out.append(ProfileChange(taken_at, new_id, old_id, c.field, c.old, c.new))
    return out[:limit]
