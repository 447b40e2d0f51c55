"""Links of a list page that keep its filters: the pages, and the column headers that sort.

With no JavaScript, a list's whole state is its query string; every link built here carries
the filters the page was asked with, so paging or sorting never loses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode


def link(path: str, params: dict[str, str], **change: str | int | None) -> str:
    """``path`` with ``params`` and ``change`` (a None or "" value drops the parameter)."""
    merged: dict[str, str | int | None] = {**params, **change}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


@dataclass
class Pager:
    total: int
    page: int
    size: int
    pages: int
    first: int  # 1-based number of the page's first row (0 when empty)
    last: int
    prev: str | None = None
    next: str | None = None
    numbers: list[tuple[int, str | None]] = field(default_factory=list)  # None: this page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def pager(path: str, params: dict[str, str], total: int, page: int, size: int) -> Pager:
    """The page asked for (a page past the end is the last one: rows were resolved or
    filtered away meanwhile), its neighbours, and a few page numbers around it."""
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    first = (page - 1) * size + 1 if total else 0
    last = min(page * size, total)
    p = Pager(total, page, size, pages, first, last)
    if page > 1:
        p.prev = link(path, params, page=page - 1)
    if page < pages:
        p.next = link(path, params, page=page + 1)
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    p.numbers = [(n, None if n == page else link(path, params, page=n)) for n in shown]
    return p


@dataclass
class SortLink:
    url: str
    current: bool
    arrow: str  # ▲/▼ on the current column, "" elsewhere
    label: str  # what a screen reader says of the link


def sort_links(
    path: str, params: dict[str, str], sort: str, desc: bool, columns: tuple[str, ...]
) -> dict[str, SortLink]:
    """A header link per column: to sort by it (first page), or, on the column the list is
    sorted by, to reverse it."""
    out = {}
    for c in columns:
        current = c == sort
        flip = "1" if current and not desc else None
        out[c] = SortLink(
            url=link(path, params, sort=c, desc=flip, page=None),
            current=current,
            arrow=("▲" if desc else "▼") if current else "",
            label="反向排序" if current else "按此列排序",
        )
    return out
