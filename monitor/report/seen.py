"""Every post the patrol saw of an account over a span, reading few of its looks.

A look keeps the newest posts the page showed (a feed's items, a profile's list), so two
looks whose lists overlap — the later one still shows the earlier one's newest post, or
reaches back past its time — leave nothing unseen between them: every post published in
between is on the later list. Only where two looks do not overlap is the look between them
read, and so on (bisection). An account that posts a few times a week, checked daily, is read
a dozen times a year instead of 365; one whose page shows too few posts to bridge a day is
read at every look. The looks are an account's distinct facts in time order (the writer stores
a content once), read in batches across all accounts, one batch per level of the bisection.

Not seen by this: a post published and deleted between two overlapping looks — as it would
not be seen by reading every look either, unless a look fell inside its short life.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from monitor.report.snapshots import as_utc
from monitor.store.models import Facts, Snapshot

Seen = dict[str, tuple[datetime, bool]]  # post key -> (published, repost)


def looks_in(
    session: Session, ids: list[str], start: datetime, end: datetime
) -> dict[str, list[str]]:
    """Each account's distinct facts among its ok looks in [start, end), oldest first."""
    out: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for i in range(0, len(ids), 500):
        q = (
            sa.select(Snapshot.account_id, Snapshot.facts_hash, sa.func.min(Snapshot.taken_at))
            .where(col(Snapshot.account_id).in_(ids[i : i + 500]))
            .where(col(Snapshot.outcome) == "ok", col(Snapshot.facts_hash) != "")
            .where(col(Snapshot.taken_at) >= start, col(Snapshot.taken_at) < end)
            .group_by(Snapshot.account_id, Snapshot.facts_hash)
        )
        for account_id, sha, first in session.execute(q):
            out[account_id].append((as_utc(first), sha))
    return {a: [sha for _, sha in sorted(looks)] for a, looks in out.items()}


def _load(session: Session, hashes: set[str]) -> dict[str, dict[str, Any]]:
    """Facts rows as they are stored (zlib of canonical JSON), decoded without the key
    order the console wants (``store.facts.load_facts``): only their posts are read here."""
    out: dict[str, dict[str, Any]] = {}
    todo = sorted(hashes)
    for i in range(0, len(todo), 500):
        q = sa.select(Facts.sha256, Facts.data).where(col(Facts.sha256).in_(todo[i : i + 500]))
        for sha, packed in session.execute(q):
            out[sha] = json.loads(zlib.decompress(packed))
    return out


def published(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
    return when.astimezone(UTC) if when and when.tzinfo else None


def _dated(facts: Mapping[str, Any]) -> list[tuple[datetime, str]]:
    out = []
    for p in facts.get("posts") or ():
        when = published(p.get("published_at"))
        if when is not None and not p.get("pinned"):
            out.append((when, str(p.get("id") or p.get("url") or "")))
    return out


def bridges(
    earlier: Mapping[str, Any],
    later: Mapping[str, Any],
    dated: Mapping[int, list[tuple[datetime, str]]] | None = None,
) -> bool:
    """``later``'s list still shows ``earlier``'s newest post, or reaches back past it:
    nothing published between the two looks can be missing from ``later``. ``dated``: the
    dated posts of facts already read, by ``id()``, so each look is read once."""
    before = dated[id(earlier)] if dated and id(earlier) in dated else _dated(earlier)
    after = dated[id(later)] if dated and id(later) in dated else _dated(later)
    if not before:
        return not after and not (later.get("posts") or earlier.get("posts"))
    if not after:
        return False
    newest_time, newest_id = max(before)
    ids = {pid for _, pid in after}
    return (bool(newest_id) and newest_id in ids) or min(after)[0] <= newest_time


def _posts(facts: dict[str, dict[str, Any]], ls: list[str], end: datetime) -> tuple[Seen, bool]:
    """The posts one account's looks showed (pinned ones left out), each once; and whether
    any had no date."""
    got: Seen = {}
    undated = False
    for sha in ls:
        for p in (facts.get(sha) or {}).get("posts") or ():
            if p.get("pinned"):
                continue
            when = published(p.get("published_at"))
            if when is None:
                undated = True
            elif when < end:
                key = str(p.get("id") or p.get("url") or when.isoformat())
                got.setdefault(key, (when, bool(p.get("repost"))))
    return got, undated


def posts_seen(
    session: Session, looks: Mapping[str, list[str]], end: datetime
) -> tuple[dict[str, Seen], dict[str, bool], int]:
    """Every post published before ``end`` that the accounts' looks showed, each once by id;
    whether any look showed posts without a date; and how many facts were read."""
    facts: dict[str, dict[str, Any]] = {}
    need = {ls[0] for ls in looks.values() if ls} | {ls[-1] for ls in looks.values() if ls}
    spans = {a: [(0, len(ls) - 1)] for a, ls in looks.items() if len(ls) > 1}
    dated: dict[int, list[tuple[datetime, str]]] = {}
    empty: dict[str, Any] = {}
    while need:
        got = _load(session, need - facts.keys())
        facts.update(got)
        dated.update({id(f): _dated(f) for f in got.values()})
        need, later = set(), defaultdict(list)
        for a, pairs in spans.items():
            ls = looks[a]
            for lo, hi in pairs:
                early, late = facts.get(ls[lo], empty), facts.get(ls[hi], empty)
                if hi - lo <= 1 or bridges(early, late, dated):
                    continue
                mid = (lo + hi) // 2
                need.add(ls[mid])
                later[a] += [(lo, mid), (mid, hi)]
        spans = later
    seen: dict[str, Seen] = {}
    undated: dict[str, bool] = {}
    for a, ls in looks.items():
        seen[a], some_undated = _posts(facts, ls, end)
        if some_undated:
            undated[a] = True
    return seen, undated, len(facts)
