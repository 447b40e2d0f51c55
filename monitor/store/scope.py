"""Who sees what: a unit's scope is the unit itself and every unit below it.

A 网信办 at province level supervises the cities' and counties' accounts too, so reports,
the console and permissions all ask "which unit codes fall under X". The tree lives in
``Unit.parent_code``; it is small (thousands of rows), so one query and a walk in memory beat
a recursive CTE that would read differently on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlmodel import Session, col, select

from monitor.store.models import Unit


def unit_children(session: Session) -> dict[str | None, list[str]]:
    """parent code -> child codes (``None`` -> the top-level units)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for code, parent in session.exec(select(col(Unit.code), col(Unit.parent_code))).all():
        children[parent].append(code)
    return children


def units_below(session: Session, unit_code: str) -> set[str]:
    """The unit and all its descendants; empty if the unit does not exist."""
    children = unit_children(session)
    known = {c for kids in children.values() for c in kids}
    if unit_code not in known:
        return set()
    return descendants(children, unit_code)


def descendants(children: Mapping[str | None, Iterable[str]], unit_code: str) -> set[str]:
    """The unit and everything below it in ``children`` (from ``unit_children``).

    Safe against a cycle in a hand-edited registry: each unit is visited once.
    """
    seen: set[str] = set()
    stack = [unit_code]
    while stack:
        code = stack.pop()
        if code in seen:
            continue
        seen.add(code)
        stack.extend(children.get(code, ()))
    return seen
