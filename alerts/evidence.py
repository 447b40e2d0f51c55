"""A finding's evidence drawn in a message's format.

What each fact of a detector's evidence says is the evidence's own business
(``probes.evidence``): ``monitor`` hands it over as neutral lines, these ``EvidenceLine``
values, that name what each run of a line is and carry no format. This module draws them:
our words as written, scraped values made inert, the account's own addresses as links
labelled with their host (only http(s) URLs ``safe_url`` accepts), addresses a detector flags
(an advertiser's link, a hijacked or foreign download, a redirect's target) as inert text — a
duty officer should see them, not open them from a chat message — and times in the zone.

How much is told is the message's ``Room``: items of a list (posts, signs, questions) and
characters of each quote. Lines listed under another start with ``NESTED``; the message
indents them one level deeper.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import tzinfo
from typing import Any, Literal

from alerts.formats import Format
from alerts.text import flagged, host_of, parse_time, safe_url, shown

NESTED = "\t"
Kind = Literal["words", "quote", "flagged", "link", "time", "listed", "more", "unless"]


@dataclass
class Room:
    """How much evidence fits: posts (or signs, links) listed, characters of each quote."""

    items: int = 5
    chars: int = 200


@dataclass(frozen=True)
class Run:
    """One run of an evidence line (what each kind means: ``probes.evidence.lines.Piece``)."""

    kind: Kind = "words"
    text: str = ""
    limit: int = 0
    roomy: bool = False
    urls: tuple[str, ...] = ()
    otherwise: tuple[Run, ...] = ()
    rank: int = 0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Run:
        other = tuple(cls.from_dict(o) for o in d.get("otherwise") or ())
        return cls(**{**d, "urls": tuple(d.get("urls") or ()), "otherwise": other})


@dataclass(frozen=True)
class EvidenceLine:
    """One line of evidence: its runs, nested under the line before, its rank in a list the
    room cuts (at least ``floor`` shown), left out when the message says ``unless``."""

    runs: tuple[Run, ...]
    nested: bool = False
    rank: int = 0
    floor: int = 0
    unless: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvidenceLine:
        return cls(**{**d, "runs": tuple(Run.from_dict(r) for r in d.get("runs") or ())})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe(
    lines: list[EvidenceLine], f: Format, tz: tzinfo, room: Room, *, said: str = ""
) -> list[str]:
    """Each line in the format, as many as ``room`` lists. ``said``: what the message says
    already (its title, 说明), so a fact is not told twice."""
    out = []
    for ln in lines:
        if ln.rank > max(room.items, ln.floor) or (ln.unless is not None and ln.unless in said):
            continue
        text = _line(ln, f, tz, room)
        if text is not None:
            out.append((NESTED if ln.nested else "") + text)
    return out


def _line(ln: EvidenceLine, f: Format, tz: tzinfo, room: Room) -> str | None:
    if ln.runs and ln.runs[0].kind == "more":  # "其余 N 条": only when the room cut the list
        total = ln.runs[0].limit
        return ln.runs[0].text.format(n=total - room.items) if total > room.items > 0 else None
    return _runs(ln.runs, f, tz, room)


def _runs(runs: tuple[Run, ...], f: Format, tz: tzinfo, room: Room) -> str:
    kept = [r for r in runs if r.rank <= room.items]
    drawn = ["" if r.kind == "unless" else _run(r, f, tz, room) for r in kept]
    rest = "".join(drawn)  # an "unless" run is drawn when the rest of its line lacks its text
    return "".join(
        _runs(r.otherwise, f, tz, room) if r.kind == "unless" and r.text not in rest else d
        for r, d in zip(kept, drawn, strict=True)
    )


def _run(r: Run, f: Format, tz: tzinfo, room: Room) -> str:
    limit = room.chars if not r.limit else min(room.chars, r.limit) if r.roomy else r.limit
    if r.kind == "quote":
        return f.safe(r.text, limit)
    if r.kind == "flagged":
        return f.safe(flagged(r.text), limit)
    if r.kind == "link":
        for url in map(safe_url, r.urls):
            if url:
                return f.link(f"{r.text}（{host_of(url)}）" if r.text else host_of(url), url)
        return _runs(r.otherwise, f, tz, room)
    if r.kind == "time":
        return shown(parse_time(r.text), tz)
    if r.kind == "listed":
        return r.text if room.items else ""
    return r.text
