"""Neutral lines: what a piece of evidence says, with no format in it.

A detector's evidence knows its facts; how a message draws them (markdown or mail text, how
much fits) is ``alerts``'. So evidence says itself as ``Line`` values made of ``Piece`` runs
that name what each run is — our own words, a scraped value to quote, an address of the
account's own (a link), an address a detector flags (never a link), a time — and leave the
drawing, and the room a message has, to the format. ``monitor`` hands them to ``alerts`` as
its own plain values; neither package imports the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

Kind = Literal["words", "quote", "flagged", "link", "time", "listed", "more", "unless"]
MORE = "……其余 {n} 条见控制台的问题页"


@dataclass(frozen=True)
class Piece:
    """One run of a line.

    ``words``: ours, shown as written. ``quote``: a scraped value, made inert, at most
    ``limit`` characters (0: as many as the room allows; ``roomy``: never more than the room).
    ``flagged``: an address a detector flags, named by its host, never opened. ``link``: the
    first of ``urls`` that is a web address, labelled ``text（host）`` (just the host without
    ``text``), else ``otherwise``. ``time``: an ISO instant, shown in the reader's zone.
    ``listed``: ``text`` only when the room lists items. ``unless``: ``otherwise``, unless
    the rest of the line, as drawn, says ``text`` already. ``more``: "其余 N 条" of a list of
    ``limit`` items, when the room cut it. ``rank`` > 0: the piece is the rank-th item of a
    list the room cuts.
    """

    kind: Kind = "words"
    text: str = ""
    limit: int = 0
    roomy: bool = False
    urls: tuple[str, ...] = ()
    otherwise: tuple[Piece, ...] = ()
    rank: int = 0


@dataclass(frozen=True)
class Line:
    """One line of evidence. ``nested``: listed under the line before. ``rank`` > 0: the
    rank-th item of a list the room cuts, shown while the room lists that many (or ``floor``,
    whichever is more). ``unless``: left out when the message says it already."""

    pieces: tuple[Piece, ...]
    nested: bool = False
    rank: int = 0
    floor: int = 0
    unless: str | None = None


Run = Piece | str


def line(*runs: Run, nested: bool = False, rank: int = 0, floor: int = 0,
         unless: str | None = None) -> Line:  # fmt: skip
    return Line(pieces(*runs), nested, rank, floor, unless)


def pieces(*runs: Run) -> tuple[Piece, ...]:
    return tuple(Piece(text=r) if isinstance(r, str) else r for r in runs)


def quote(value: object, limit: int = 0, *, roomy: bool = False) -> Piece:
    return Piece("quote", str(value), limit, roomy)


def flagged(value: object, limit: int = 0) -> Piece:
    return Piece("flagged", str(value), limit)


def link(*urls: object, caption: str = "", otherwise: tuple[Run, ...] = (), rank: int = 0) -> Piece:
    return Piece("link", caption, urls=tuple(str(u or "") for u in urls),
                 otherwise=pieces(*otherwise), rank=rank)  # fmt: skip


def post_link(post: dict[str, object], rank: int = 0) -> Piece:
    """A post's own address (its URL, else an id that is one), or that it has none."""
    return link(post.get("post_url"), post.get("post_id"), caption="原文",
                otherwise=("（没有原文地址）",), rank=rank)  # fmt: skip


def at(when: datetime) -> Piece:
    return Piece("time", when.isoformat())


def unless(text: str, *runs: Run) -> Piece:
    return Piece("unless", text, otherwise=pieces(*runs))


def listed(text: str) -> Piece:
    return Piece("listed", text)


def more(total: int, *, nested: bool = True) -> Line:
    return Line((Piece("more", MORE, total),), nested=nested)


def joined(parts: list[list[Run]], sep: str) -> list[Run]:
    """Runs of each part, ``sep`` between them."""
    out: list[Run] = []
    for i, part in enumerate(parts):
        out += ([sep] if i else []) + part
    return out


# -- what the evidence decides on its own -----------------------------------------------------


def is_web(url: object) -> bool:
    """An http(s) address with a plain host: what a message may make a link of."""
    try:
        parts = urlsplit(str(url or "").strip())
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(re.fullmatch(r"[a-z0-9.\-]+", host))


def when(value: object) -> datetime | None:
    """A stored time (ISO string, epoch seconds or a datetime); None if it is none."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


# what a format drops from a line (alerts.text): control, zero-width and direction characters
_UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def blank(value: object) -> bool:
    """Nothing would show of it: empty, or only space and characters a format drops."""
    return not _UNSEEN.sub("", "".join(str(value).split()))


def count(value: object) -> int:
    """A positive count, or 0 for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
