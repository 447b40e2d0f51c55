"""How a finding quotes the post: a clean window around each hit, personal numbers masked,
and the post itself with every hit marked (the finding page shows it).

A window is the hit's sentence when its ends (。！？；, a line break) are within twice
:data:`WIDTH` characters, and otherwise stops at a clause break (，、： or a space) within
WIDTH, so the quote never starts or stops mid-word; where it must cut inside a clause it
says so with "…". Masking keeps every
character in place (digits become ``*``), so offsets found in the text hold in its masked
copy and an alert never spreads the number it reports.
"""

from __future__ import annotations

from collections.abc import Sequence

WIDTH = 16  # characters of context at most on each side of a hit
HARD = "。！？!?；;\n"
SOFT = "，,、：:（(）) \u3000"
MARKED_CHARS = 3000  # a post longer than this is shown as windows around its hits
MARKED_AROUND = 120  # ... of this many characters each side
MARKED_HITS = 200


def window(text: str, start: int, end: int, width: int = WIDTH) -> str:
    """``text[start:end]`` with the words around it, cut at a sentence or clause break."""
    lo, cut_lo = _left(text, start, width)
    hi, cut_hi = _right(text, end, width)
    body = " ".join(text[lo:hi].split())  # line breaks and runs of spaces as one space
    return ("…" if cut_lo else "") + body + ("…" if cut_hi else "")


def _left(text: str, start: int, width: int) -> tuple[int, bool]:
    floor = max(0, start - 2 * width)  # a sentence start this near: the whole sentence
    for i in range(start - 1, floor - 1, -1):
        if text[i] in HARD:
            return i + 1, False
    if floor == 0:
        return 0, False
    floor = max(0, start - width)
    for i in range(floor, start):  # the earliest clause break: the most context, whole words
        if text[i] in SOFT:
            return i + 1, False
    return floor, True


def _right(text: str, end: int, width: int) -> tuple[int, bool]:
    ceil = min(len(text), end + 2 * width)  # a sentence end this near: the whole sentence
    for i in range(end, ceil):
        if text[i] in HARD:
            return i + (1 if text[i] != "\n" else 0), False
    if ceil == len(text):
        return ceil, False
    ceil = min(len(text), end + width)
    soft = -1
    for i in range(end, ceil):
        if text[i] in SOFT:
            soft = i
    if soft >= 0:
        return soft, False
    return ceil, True


def mask_span(segment: str, head: int, tail: int) -> str:
    """The digits (and an ID's X) of ``segment`` but the first ``head`` and last ``tail``
    as ``*``; separators and length kept."""
    positions = [i for i, c in enumerate(segment) if c.isdigit() or c in "Xx"]
    hide = set(positions[head : len(positions) - tail]) if len(positions) > head + tail else set()
    return "".join("*" if i in hide else c for i, c in enumerate(segment))


def masked(text: str, spans: Sequence[tuple[int, int, int, int]]) -> str:
    """``text`` with each (start, end, head, tail) span's number masked in place."""
    if not spans:
        return text
    out, at = [], 0
    for s, e, head, tail in sorted(spans):
        if s < at:
            continue
        out += [text[at:s], mask_span(text[s:e], head, tail)]
        at = e
    out.append(text[at:])
    return "".join(out)


def marked(text: str, hits: Sequence[tuple[int, int, str]]) -> dict[str, object]:
    """The post as the finding page shows it: ``text`` (whole, or windows joined by " … "
    when longer than :data:`MARKED_CHARS`) and ``hits`` as [start, end, rule] in it."""
    hits = sorted(hits)[:MARKED_HITS]
    if len(text) <= MARKED_CHARS:
        return {"text": text, "hits": [[s, e, r] for s, e, r in hits]}
    parts: list[tuple[int, int]] = []
    for s, e, _ in hits:
        lo, hi = max(0, s - MARKED_AROUND), min(len(text), e + MARKED_AROUND)
        if parts and lo <= parts[-1][1]:
            parts[-1] = (parts[-1][0], max(parts[-1][1], hi))
        else:
            parts.append((lo, hi))
    out, shift, at, moved = [], {}, 0, []
    for lo, hi in parts:
        if out or lo > 0:
            out.append(" … ")
            at += 3
        shift[(lo, hi)] = at - lo
        out.append(text[lo:hi])
        at += hi - lo
    for s, e, r in hits:
        d = next(v for (lo, hi), v in shift.items() if lo <= s and e <= hi)
        moved.append([s + d, e + d, r])
    tail = " … " if parts and parts[-1][1] < len(text) else ""
    return {"text": "".join(out) + tail, "hits": moved, "cut": True}
