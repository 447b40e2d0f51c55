"""An account's past as its snapshots show it: the listing, and one snapshot with its evidence.

Shared by the CLI (``history``, ``snapshot``, ``diff``) and the web console. Accounts
checked every few minutes collect tens of thousands of snapshots, so nothing here loads
them all: listings are keyset-paginated on ``(taken_at, id)`` (index
``ix_snapshot_account_taken``), and facts are read by their content's hash
(:mod:`monitor.store.facts`): an unchanged account's snapshots share one, so a long history
reads few. Comparing snapshots and the account's activity over time are
:mod:`monitor.store.changes`.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.store.blobs import BlobCorrupt
from monitor.store.facts import snapshot_facts
from monitor.store.models import Account, Snapshot, StoredArtifact, Unit
from monitor.store.screenshots import Screenshot, screenshots_of
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

SUMMARY_COLUMNS = (
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


def jsonable(value: Any, tz: str) -> Any:
    """Our own times as ``--json`` and the API give them: ISO in the display zone."""
    if isinstance(value, datetime):
        return timefmt.iso(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, tz) for v in value]
    return value


def post_json(p: dict[str, Any], tz: str) -> dict[str, Any]:
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
    artifacts: list[StoredArtifact]

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        return jsonable(asdict(self), tz)


def summary_of(row: Any) -> SnapshotSummary:
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
    # pictures of its HTML pages, drawn offline after the check (monitor.store.screenshots):
    # one per page that wants one, with ``png_sha256`` None while it is not drawn
    screenshots: list[Screenshot] = field(default_factory=list)

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
            "screenshots": [p.to_dict(tz) for p in self.screenshots],
        }


# -- listing ----------------------------------------------------------------------------------


def account_history(
    session: Session, account_id: str, *, before_id: int | None = None, limit: int = 50
) -> list[SnapshotSummary]:
    """Newest first; pass the last id seen as ``before_id`` for the next page.

    Keyset on ``(taken_at, id)``: page 1,000 costs what page 1 does. An unknown
    ``before_id`` (or one of another account) gives an empty page, not page 1 again.
    """
    q = select(*SUMMARY_COLUMNS).where(col(Snapshot.account_id) == account_id)
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
    return [summary_of(r) for r in session.exec(q).all()]


def _artifact_infos(artifacts: list[StoredArtifact]) -> list[ArtifactInfo]:
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
    summary = summary_of(tuple(getattr(snap, c.key) for c in SUMMARY_COLUMNS))
    return SnapshotDetail(
        summary=summary,
        account_name=account.name,
        platform=account.platform,
        owner_code=account.owner_code,
        owner_name=unit.name if unit else None,
        facts=snapshot_facts(session, [snap])[0],
        artifacts=_artifact_infos(snap.artifacts),
        screenshots=screenshots_of(session, snap.artifacts, snap.facts_hash),
    )


def _blob_problem(blobs: Blobs, sha256: str) -> str | None:
    """Why the blob named ``sha256`` is not what was stored (its bytes are re-hashed), or
    None when it is."""
    try:
        blobs.get(sha256)
    except BlobCorrupt as e:
        return str(e)
    return None


def verify_artifacts(blobs: Blobs, artifacts: list[ArtifactInfo]) -> list[ArtifactInfo]:
    """Fill ``present``/``verified``: does each blob still exist and hash to its name?"""
    for a in artifacts:
        a.present = bool(a.sha256) and blobs.exists(a.sha256)
        problem = _blob_problem(blobs, a.sha256) if a.present else "证据文件缺失"
        a.verified, a.problem = problem is None, problem or a.problem
    return artifacts


def verify_screenshots(blobs: Blobs, shots: list[Screenshot]) -> list[Screenshot]:
    """Fill ``verified``: does each drawn picture's blob exist and hash to its name?"""
    for p in shots:
        if p.png_sha256:
            problem = _blob_problem(blobs, p.png_sha256)
            p.verified, p.problem = problem is None, problem or p.problem
    return shots


def read_artifact(blobs: Blobs, artifact: ArtifactInfo) -> bytes:
    """The artifact's bytes, verified against its hash (raises ``BlobCorrupt``)."""
    data = blobs.get(artifact.sha256)
    assert hashlib.sha256(data).hexdigest() == artifact.sha256
    return data
