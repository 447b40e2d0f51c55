"""Snapshot facts, stored content-addressed: once per distinct content, as pages are.

A check of an unchanged page sees what the check before saw, so storing the facts on every
snapshot row made the database grow with checks (~58 KB a check of a news list). Here the
*content* of a snapshot's facts — ``Observation.facts()`` without ``fetched_at`` and
``elapsed_ms``, which are the snapshot row's own ``taken_at`` and ``elapsed_ms`` — is one
row of the ``facts`` table, keyed by the sha256 of its canonical JSON; the snapshot keeps
that key as ``facts_hash``. Readers get the full facts back with :func:`snapshot_facts`,
or only the content (posts, profile) with :func:`load_facts`.

Rows never change, so a process keeps the ones it read or wrote lately in a small cache
(the one process-wide state of the store; it can never be stale, only absent).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session

from monitor.store.models import Facts, utcnow
from probes.model import AppFacts, Observation, Post, Profile, Redirect, StorePresence

# in the facts, but the snapshot row's own columns (taken_at, elapsed_ms): leaving them out
# of the content is what lets every check of an unchanged page share one row
VOLATILE = ("fetched_at", "elapsed_ms")

# 4,096 entries: a whole patrol of an installation up to ~4,000 accounts (the writer then
# finds each account's last look here and reads no facts back), or the distinct looks the
# console's pages of a few busy hours ask for; the byte bound keeps a process within 24 MiB
# however large its facts are (58 KB news lists: ~400 of them). A larger patrol finds few
# hits in any cache it can afford (its looks are an hour apart), so the bound is small:
# the writer's and the console's memory matter more than a read of one row by its key
CACHE_ENTRIES = 4096
CACHE_BYTES = 24 << 20
_CHUNK = 500  # hashes per IN (...) query

_table: sa.Table = Facts.__table__  # type: ignore[attr-defined]


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_of(facts: dict[str, Any]) -> tuple[str, bytes]:
    """The key and canonical JSON of a snapshot's facts (without the volatile fields)."""
    data = canonical({k: v for k, v in facts.items() if k not in VOLATILE})
    return hashlib.sha256(data).hexdigest(), data


class _Cache:
    """Least recently used canonical JSON by hash, bounded in entries and bytes; thread-safe
    (the recorder's and the console's worker threads share it). Bytes, not dicts: every
    reader gets a dict of its own to change."""

    def __init__(self, entries: int, size: int) -> None:
        self.entries, self.size = entries, size
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, sha: str) -> bytes | None:
        with self._lock:
            data = self._data.get(sha)
            if data is not None:
                self._data.move_to_end(sha)
            return data

    def put(self, sha: str, data: bytes) -> None:
        if len(data) > self.size:
            return
        with self._lock:
            old = self._data.pop(sha, None)
            self._bytes -= len(old) if old is not None else 0
            self._data[sha] = data
            self._bytes += len(data)
            while len(self._data) > self.entries or self._bytes > self.size:
                _, dropped = self._data.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)


_cache = _Cache(CACHE_ENTRIES, CACHE_BYTES)


def clear_cache() -> None:
    """Forget the cached facts (tests that must read the table; a process short of memory)."""
    _cache.clear()


def _insert_ignore(dialect: str) -> sa.Insert:
    if dialect == "postgresql":
        return postgresql.insert(_table).on_conflict_do_nothing(index_elements=["sha256"])
    if dialect == "sqlite":
        return sqlite.insert(_table).on_conflict_do_nothing(index_elements=["sha256"])
    return _table.insert()


def put_facts(session: Session | Connection, facts_list: Sequence[dict[str, Any]]) -> list[str]:
    """Store these snapshots' facts (in the caller's transaction); their keys, in order.

    One statement for the batch: a content seen twice in it, or stored already, is left
    alone by the database (ON CONFLICT DO NOTHING), so an unchanged page costs no row. The
    statement runs even then: it is what makes retention's collection wait for this
    transaction (``monitor.service.retention.collect_facts``).
    """
    return put_contents(session, [content_of(facts) for facts in facts_list])


def put_contents(session: Session | Connection, contents: Sequence[tuple[str, bytes]]) -> list[str]:
    """:func:`put_facts` for contents already made canonical (:func:`content_of`): the
    writer builds each check's once, for its key and for its row."""
    keys: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    now = utcnow()
    for sha, data in contents:
        keys.append(sha)
        if sha not in rows:
            rows[sha] = {
                "sha256": sha,
                "data": zlib.compress(data, 6),
                "size": len(data),
                "created_at": now,
            }
            _cache.put(sha, data)
    if rows:
        # in key order: two transactions adding the same new keys lock them in one order
        values = [rows[k] for k in sorted(rows)]
        session.execute(_insert_ignore(_dialect(session)), values)
    return keys


def _dialect(session: Session | Connection) -> str:
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name


def load_facts(session: Session | Connection, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The content of each stored hash (a hash with no row is left out), reading from the
    database only those the cache does not hold: an unchanged account's snapshots share a
    hash, so a long history asks for few."""
    out: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for sha in dict.fromkeys(hashes):
        if not sha:
            continue
        data = _cache.get(sha)
        if data is None:
            missing.append(sha)
        else:
            out[sha] = _ordered(json.loads(data))
    for i in range(0, len(missing), _CHUNK):
        q = sa.select(_table.c.sha256, _table.c.data).where(
            _table.c.sha256.in_(missing[i : i + _CHUNK])
        )
        for sha, packed in session.execute(q):
            data = zlib.decompress(packed)
            _cache.put(sha, data)
            out[sha] = _ordered(json.loads(data))
    return out


class Dated(Protocol):
    """What :func:`snapshot_facts` reads of a snapshot: a ``Snapshot`` or a row of these."""

    @property
    def facts_hash(self) -> str: ...

    @property
    def taken_at(self) -> datetime: ...

    @property
    def elapsed_ms(self) -> int: ...


def full_facts(
    content: dict[str, Any],
    taken_at: datetime,
    elapsed_ms: int,
    counters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A snapshot's facts as ``Observation.facts()`` gave them: the content with the check's
    time (ISO UTC, as checks stored it) and duration put back, in the fields' order; the
    profile's counters are the snapshot's own where it read them (a look that said what the
    look it refers to said: ``Snapshot.counters``), so followers are read per look."""
    if not content:
        return {}
    full = {"fetched_at": taken_at.astimezone(UTC).isoformat(), "elapsed_ms": elapsed_ms}
    out = _ordered({**full, **content})  # a migrated row's own time wins (0009)
    if counters and isinstance(out.get("profile"), dict):
        out["profile"].update(counters)
    return out


def snapshot_facts(session: Session | Connection, snaps: Sequence[Dated]) -> list[dict[str, Any]]:
    """Each snapshot's full facts (``{}`` for one without any), in order, reading each
    distinct content once."""
    contents = load_facts(session, (s.facts_hash for s in snaps))
    return [
        full_facts(
            contents.get(s.facts_hash) or {},
            s.taken_at,
            s.elapsed_ms,
            getattr(s, "counters", None),
        )
        for s in snaps
    ]


# -- the order Observation.facts() gives (canonical JSON sorts the keys) ------------------------


def _names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


_TOP = [n for n in _names(Observation) if n != "artifacts"]
_NESTED: dict[str, tuple[list[str], bool]] = {  # key -> (field order, a list of them)
    "profile": (_names(Profile), False),
    "posts": (_names(Post), True),
    "redirects": (_names(Redirect), True),
    "app": (_names(AppFacts), False),
}
_STORES = _names(StorePresence)


def _by(order: list[str], d: dict[str, Any]) -> dict[str, Any]:
    known = {k: d[k] for k in order if k in d}
    return {**known, **{k: v for k, v in d.items() if k not in known}}


def _ordered(facts: dict[str, Any]) -> dict[str, Any]:
    """Keys in the order of the probes' dataclasses (unknown ones after, as stored): the
    console lists the profile's fields as a check saw them, not alphabetically."""
    out = _by(_TOP, facts)
    for key, (order, many) in _NESTED.items():
        value = out.get(key)
        if many and isinstance(value, list):
            out[key] = [_by(order, v) if isinstance(v, dict) else v for v in value]
        elif isinstance(value, dict):
            out[key] = _by(order, value)
    app = out.get("app")
    if isinstance(app, dict) and isinstance(app.get("stores"), list):
        app["stores"] = [_by(_STORES, v) if isinstance(v, dict) else v for v in app["stores"]]
    return out


__all__ = [
    "CACHE_ENTRIES",
    "VOLATILE",
    "canonical",
    "clear_cache",
    "content_of",
    "full_facts",
    "load_facts",
    "put_contents",
    "put_facts",
    "snapshot_facts",
]
