"""Pictures of stored pages: which pages get one, which ones wait, what was drawn.

A page's evidence is its HTML blob (a browser reader's too: the DOM it read). The
``page_screenshot`` table maps a picture's key to a picture drawn from that HTML offline
(``monitor.service.screenshots``), with the page drawn, when, by which Chromium, at which
width, in which format, or why it could not be drawn. The key is what the page *showed*,
not its bytes (:func:`picture_key`, the one place that decides it): the snapshot's
``facts_hash`` — what the reader extracted — and which of its pages it is. Pages that
differ only in noise (a counter, a nonce, a token per request) share one picture; a page
whose content changed gets a new one. Rows drawn before (keyed by the page's sha256, PNG)
are still found and shown: a page without a picture under its key falls back to one
under its own hash.

Which pages are drawn (:func:`drawable`): HTML pages (artifact kind ``page``) of a snapshot
that has no picture of its own (browser readers take one while reading). Which wait for
the background job (:func:`next_pages`): those of snapshots that saw something new — the
account's first look, or content (posts, profile, outcome) unlike its look before, the
snapshots retention keeps for good — oldest first from a cursor, so a page that changes
bytes on every fetch (a timestamp, a token) without changing what it shows costs no
picture each check. Any other snapshot's pages are drawn when someone asks
(``xuncha snapshot N --screenshot``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from monitor import timefmt
from monitor.store.engine import session_scope
from monitor.store.models import Finding, PageScreenshot, ServiceState, Snapshot

HTML_TYPES = ("text/html", "application/xhtml+xml")
CURSOR_KEY = "screenshots.cursor"  # service_state: the last snapshot id the job looked at
SCAN_CHUNK = 500  # snapshots read at a time while looking for pages to draw
SCAN_MOST = 20_000  # snapshots looked at in one run, whatever they hold

_table: sa.Table = PageScreenshot.__table__  # type: ignore[attr-defined]
_snap: sa.Table = Snapshot.__table__  # type: ignore[attr-defined]


def picture_key(facts_hash: str | None, page_sha256: str, n: int) -> str:
    """The key the ``n``-th drawable page of a snapshot that saw ``facts_hash`` is pictured
    under: the same content, the same picture, whatever noise its bytes carried. A snapshot
    without facts (nothing was extracted) keys by the page's bytes, as pictures once were."""
    if not facts_hash:
        return page_sha256
    return sha256(f"picture:{facts_hash}:{n}".encode()).hexdigest()


def drawable(artifacts: Iterable[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """The HTML pages of a snapshot's artifacts that want a picture, with their index: none
    when the reader took its own (a browser reader's ``screenshot``)."""
    arts = [a for a in artifacts or [] if isinstance(a, dict)]
    if any(a.get("kind") == "screenshot" for a in arts):
        return []
    return [
        (i, a)
        for i, a in enumerate(arts)
        if a.get("kind") == "page"
        and a.get("sha256")
        and str(a.get("media_type", "")).split(";")[0].strip().lower() in HTML_TYPES
    ]


@dataclass
class Screenshot:
    """A snapshot's page and its picture, drawn or not (``png_sha256`` None)."""

    artifact: int  # index of the HTML page among the snapshot's artifacts
    html_sha256: str
    url: str
    png_sha256: str | None = None  # the picture's blob (a WebP, JPEG or, drawn before, PNG)
    key: str = ""  # picture_key: what the picture is stored under
    media_type: str = ""
    width: int = 0
    height: int = 0
    page_height: int = 0
    browser: str = ""
    rendered_at: datetime | None = None
    elapsed_ms: int = 0
    attempts: int = 0
    error: str = ""
    verified: bool | None = None  # the PNG's blob exists and hashes to its name
    problem: str = ""

    @property
    def cut(self) -> bool:
        """The page is taller than the picture (drawn down to ``[screenshots] max_height``)."""
        return self.page_height > self.height > 0

    def to_dict(self, tz: str = timefmt.DEFAULT_TZ) -> dict[str, Any]:
        d = asdict(self)
        d["rendered_at"] = timefmt.iso(self.rendered_at, tz) if self.rendered_at else None
        return d


def screenshots_of(
    session: Session | Connection,
    artifacts: list[dict[str, Any]],
    facts_hash: str | None = None,
) -> list[Screenshot]:
    """The snapshot's drawable pages with what is known of their pictures: the one under
    the content's key, else (drawn before pictures were keyed by content) the page's own."""
    pages = drawable(artifacts)
    keys = [picture_key(facts_hash, str(a["sha256"]), n) for n, (_, a) in enumerate(pages)]
    rows = rows_for(session, [*keys, *(str(a["sha256"]) for _, a in pages)])
    out = []
    for (i, a), key in zip(pages, keys, strict=True):
        shot = Screenshot(
            artifact=i, html_sha256=str(a["sha256"]), url=str(a.get("url", "")), key=key
        )
        row = rows.get(key)
        if row is None or (row.png_sha256 is None and shot.html_sha256 in rows):
            row = rows.get(shot.html_sha256, row)
        if row is not None:
            shot.png_sha256 = row.png_sha256
            shot.media_type = row.media_type or "image/png"
            shot.width, shot.height, shot.page_height = row.width, row.height, row.page_height
            shot.browser, shot.rendered_at = row.browser, row.rendered_at
            shot.elapsed_ms, shot.attempts, shot.error = row.elapsed_ms, row.attempts, row.error
        out.append(shot)
    return out


def rows_for(session: Session | Connection, html: Iterable[str]) -> dict[str, Any]:
    """The table's rows for these HTML hashes (a hash never drawn is left out)."""
    keys = list(dict.fromkeys(html))
    if not keys:
        return {}
    q = sa.select(_table).where(_table.c.html_sha256.in_(keys))
    return {r.html_sha256: r for r in session.execute(q)}


# -- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """One attempt's result: a picture (``png_sha256``) or why there is none (``error``).
    ``key``: what it is stored under (:func:`picture_key`); ``page_sha256``: the HTML drawn."""

    key: str
    png_sha256: str | None
    width: int
    height: int = 0
    page_height: int = 0
    browser: str = ""
    elapsed_ms: int = 0
    error: str = ""
    page_sha256: str = ""
    media_type: str = ""
    size: int = 0  # bytes of the picture


def record(engine: Engine, drawn: Drawn, *, node: str, now: datetime) -> None:
    """Note an attempt: a picture replaces an earlier failure; a failure counts one more
    attempt (and never replaces a picture drawn meanwhile by another process)."""
    values = {
        "html_sha256": drawn.key,
        "page_sha256": drawn.page_sha256 or drawn.key,
        "media_type": drawn.media_type,
        "size": drawn.size,
        "png_sha256": drawn.png_sha256,
        "width": drawn.width,
        "height": drawn.height,
        "page_height": drawn.page_height,
        "browser": drawn.browser[:100],
        "rendered_at": now,
        "elapsed_ms": drawn.elapsed_ms,
        "attempts": 1,
        "error": drawn.error,
        "node": node[:200],
    }
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    ins = dialect.insert(_table).values(**values)
    update = {k: ins.excluded[k] for k in values if k not in ("html_sha256", "attempts")}
    update["attempts"] = _table.c.attempts + 1
    stmt = ins.on_conflict_do_update(
        index_elements=["html_sha256"],
        set_=update,
        where=_table.c.png_sha256.is_(None) if drawn.png_sha256 is None else None,
    )
    with engine.begin() as conn:
        conn.execute(stmt)


# -- what waits -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A page waiting for its picture (``html_sha256``, stored under ``key``), with the
    reader of a snapshot that kept it (which decides the width) or, for a retry, the width
    its first attempt used."""

    html_sha256: str
    reader: str = ""
    width: int = 0
    key: str = ""

    @property
    def stored_as(self) -> str:
        return self.key or self.html_sha256


@dataclass
class Queue:
    """What one run draws, and where the scan got to (saved once the run is over)."""

    pages: list[Due]
    cursor: int
    behind: int  # snapshots after the cursor not looked at yet


def next_pages(
    engine: Engine,
    want: int,
    *,
    now: datetime,
    backfill: timedelta,
    max_attempts: int,
    retry_after: timedelta,
) -> Queue:
    """Up to ``want`` pages to draw, oldest first: failed ones due another try, then the
    pages of snapshots after the cursor that saw something new (module docstring). The
    cursor stops before a snapshot whose pages did not all fit, so none is skipped."""
    with engine.connect() as conn:
        cursor = _cursor(conn, now - backfill)
        pages = _retries(conn, want, now - retry_after, max_attempts)
        queued = {p.stored_as for p in pages}
        scanned, full = 0, len(pages) >= want
        while not full and scanned < SCAN_MOST:
            rows = conn.execute(_scan(cursor)).all()
            if not rows:
                break
            scanned += len(rows)
            opened = _opened(conn, rows[0].id, rows[-1].id)
            wanted = [(r, _keyed(r) if _new(r) or r.id in opened else []) for r in rows]
            known = rows_for(conn, (k for _, keyed in wanted for k, _ in keyed))
            for row, keyed in wanted:
                found = {
                    key: Due(sha, row.reader or "", key=key)
                    for key, sha in keyed
                    if key not in known and key not in queued
                }
                if pages and len(pages) + len(found) > want:
                    full = True  # this snapshot's pages go in the next run, all together
                    break
                pages += found.values()
                queued.update(found)
                cursor = row.id
                if len(pages) >= want:
                    full = True
                    break
        behind = conn.execute(
            sa.select(sa.func.count()).select_from(_snap).where(_snap.c.id > cursor)
        ).scalar_one()
    return Queue(pages, cursor, int(behind))


def drawn_since(engine: Engine, since: datetime, *, node: str) -> int:
    """Pictures ``node`` drew since ``since`` (the job's hourly bound)."""
    q = (
        sa.select(sa.func.count())
        .select_from(_table)
        .where(
            _table.c.rendered_at >= since,
            _table.c.png_sha256.is_not(None),
            _table.c.node == node[:200],
        )
    )
    with engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def save_cursor(engine: Engine, cursor: int, now: datetime) -> None:
    with session_scope(engine) as s:
        row = s.get(ServiceState, CURSOR_KEY)
        if row is None:
            row = ServiceState(key=CURSOR_KEY, value={})
        row.value = {"snapshot_id": cursor}
        row.updated_at = now
        s.add(row)


def _cursor(conn: Connection, since: datetime) -> int:
    """The last snapshot id looked at; the first run starts at the snapshots taken since
    ``since`` (older history is drawn on demand, not in a backlog of months)."""
    value = conn.execute(
        sa.select(ServiceState.__table__.c.value).where(  # type: ignore[attr-defined]
            ServiceState.__table__.c.key == CURSOR_KEY  # type: ignore[attr-defined]
        )
    ).scalar()
    if isinstance(value, dict) and isinstance(value.get("snapshot_id"), int):
        return int(value["snapshot_id"])
    first = conn.execute(
        sa.select(sa.func.min(_snap.c.id)).where(_snap.c.taken_at >= since)
    ).scalar()
    if first is not None:
        return int(first) - 1
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_snap.c.id), 0))).scalar_one())


def _scan(cursor: int) -> sa.Select:
    """The next snapshots after ``cursor``, each with the content its account's look before
    saw (one probe of ``ix_snapshot_account_taken`` per row)."""
    prev = _snap.alias("prev")
    before = (
        sa.select(prev.c.facts_hash)
        .where(prev.c.account_id == _snap.c.account_id, prev.c.taken_at < _snap.c.taken_at)
        .order_by(prev.c.taken_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        sa.select(
            _snap.c.id,
            _snap.c.reader,
            _snap.c.artifacts,
            _snap.c.facts_hash,
            _snap.c.same_as,
            before.label("before"),
        )
        .where(_snap.c.id > cursor)
        .order_by(_snap.c.id)
        .limit(SCAN_CHUNK)
    )


def _keyed(row: Any) -> list[tuple[str, str]]:
    """(picture key, page sha256) of a scanned snapshot's drawable pages."""
    pages = [str(a["sha256"]) for _, a in drawable(row.artifacts or [])]
    return [(picture_key(row.facts_hash, sha, n), sha) for n, sha in enumerate(pages)]


def _opened(conn: Connection, first: int, last: int) -> set[int]:
    """Snapshots in ``first..last`` at which a finding still open was opened: their pages
    are drawn even when the content was seen before (the finding's evidence). Read through
    the open findings' index: those are few, whatever the history holds."""
    f = Finding.__table__  # type: ignore[attr-defined]
    q = sa.select(f.c.first_snapshot_id).where(
        f.c.status == "open", f.c.first_snapshot_id.between(first, last)
    )
    return {int(i) for (i,) in conn.execute(q) if i is not None}


def _new(row: Any) -> bool:
    """A look that saw something its account's look before did not: not an unchanged check
    (it refers to that look's page), nor new bytes showing the same content."""
    return row.same_as is None and (row.before is None or row.before != row.facts_hash)


def _retries(conn: Connection, want: int, before: datetime, max_attempts: int) -> list[Due]:
    """Pages whose drawing failed fewer than ``max_attempts`` times, the last try before
    ``before``: oldest attempt first."""
    q = (
        sa.select(_table.c.page_sha256, _table.c.width, _table.c.html_sha256)
        .where(
            _table.c.png_sha256.is_(None),
            _table.c.attempts < max_attempts,
            _table.c.rendered_at < before,
        )
        .order_by(_table.c.rendered_at)
        .limit(want)
    )
    return [Due(page or key, width=width, key=key) for page, width, key in conn.execute(q)]


# -- retention --------------------------------------------------------------------------------


def pictures_of(engine: Engine, html: set[str]) -> set[str]:
    """The pictures drawn from these pages: kept as long as the page they show is."""
    q = sa.select(_table.c.page_sha256, _table.c.html_sha256, _table.c.png_sha256).where(
        _table.c.png_sha256.is_not(None)
    )
    with engine.connect() as conn:
        return {png for page, key, png in conn.execute(q) if (page or key) in html}


def forget_pictures(engine: Engine, html: set[str], *, drawn_before: datetime) -> int:
    """Drop the rows of pages no snapshot keeps any more (their PNGs are collected next),
    drawn before ``drawn_before``: a page drawn since ``html`` was read may belong to a
    snapshot written since."""
    q = sa.select(_table.c.html_sha256, _table.c.page_sha256).where(
        _table.c.rendered_at < drawn_before
    )
    with engine.connect() as conn:
        gone = [key for key, page in conn.execute(q) if (page or key) not in html]
    removed = 0
    for i in range(0, len(gone), 1000):
        with engine.begin() as conn:
            res = conn.execute(_table.delete().where(_table.c.html_sha256.in_(gone[i : i + 1000])))
            removed += res.rowcount or 0
    return removed


__all__ = [
    "Drawn",
    "Due",
    "Queue",
    "Screenshot",
    "drawable",
    "drawn_since",
    "forget_pictures",
    "next_pages",
    "picture_key",
    "pictures_of",
    "record",
    "rows_for",
    "save_cursor",
    "screenshots_of",
]
