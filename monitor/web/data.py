"""What the console's pages and the API show, always filtered by the asker's units.

Pages and API share these functions, so the two cannot disagree about scope: an object
outside the asker's units is ``None`` here, and a 404 at the edge. The accounts list is
``roster``, the overview's figures ``fleet``, ``trends`` and ``overview``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.app import App
from monitor.show.labels import PATROL_KINDS, PLATFORM, SEVERITY, label
from monitor.show.views import account_dict, finding_dict
from monitor.show.wording import PATROL_RANK, URGENCY
from monitor.store import changes
from monitor.store.facts import load_facts
from monitor.store.models import Account, Finding, Snapshot, Unit
from monitor.store.scope import descendants, unit_children
from monitor.store.snapshots import latest_ok_ids
from monitor.web.auth import Principal
from monitor.web.cache import AccountCache, newest_snapshot_id
from probes.checks.kinds import KINDS

SEVERITY_ORDER = ("veto", "high", "warning", "info")


def scoped(q: Any, p: Principal, column: Any) -> Any:
    return q if p.units is None else q.where(col(column).in_(sorted(p.units)))


def visible_units(session: Session, p: Principal) -> list[Unit]:
    q = scoped(select(Unit), p, Unit.code)
    return list(session.exec(q.order_by(col(Unit.code))).all())


def unit_options(session: Session, p: Principal) -> list[tuple[str, str]]:
    """(code, name) of the asker's units in tree order, each indented under its parent: a
    filter's choices, where choosing a unit means it and every unit below it."""
    names = dict(session.exec(scoped(select(col(Unit.code), col(Unit.name)), p, Unit.code)).all())
    children = unit_children(session)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    def walk(code: str, depth: int) -> None:
        if code in seen:
            return
        seen.add(code)
        if code in names:
            out.append((code, "\u3000" * depth + names[code]))
            depth += 1
        for child in sorted(children.get(code, ())):
            walk(child, depth)

    for top in sorted(children.get(None, ())):
        walk(top, 0)
    out += [(c, n) for c, n in sorted(names.items()) if c not in seen]  # a cycle's units
    return out


def report_root(p: Principal, children: dict[str | None, list[str]]) -> str | None:
    """The unit whose subtree the asker's figures cover: their own; for an admin the only
    top-level unit (a province's installation), or None when the registry has several."""
    if p.units is not None:
        return p.unit_code
    tops = children.get(None, [])
    return tops[0] if len(tops) == 1 else None


@dataclass(frozen=True)
class Groups:
    """How the overview groups units: the root's direct children, each with everything
    below it, and the root's own accounts (本级)."""

    root: str | None
    head: dict[str, str]  # unit code -> its group's key (a unit code)
    names: dict[str, str]  # group key -> what the group is called


def unit_groups(session: Session, p: Principal) -> Groups:
    children = unit_children(session)
    parent = {c: par for par, kids in children.items() for c in kids}
    names = dict(session.exec(select(col(Unit.code), col(Unit.name))).all())
    root = report_root(p, children)

    def head(code: str) -> str:
        c, seen = code, set()
        while c in parent and c not in seen:
            seen.add(c)
            if c == root or parent[c] == root:
                return c
            c = parent[c]  # type: ignore[assignment]
        return code  # outside the root's tree (a cycle in a hand-edited registry)

    heads = {code: head(code) for code in names if p.sees(code)}
    shown = {g: names.get(g, g) for g in heads.values()}
    if root in shown and len(shown) > 1:
        shown[root] = f"{shown[root]}（本级）"
    return Groups(root, heads, shown)


def unit_codes(session: Session, p: Principal, unit: str | None) -> list[str] | None:
    """The owner codes a ``unit`` filter means: the unit and every unit below it that the
    asker may see; ``None`` for no filter. A unit not theirs means no accounts at all."""
    if not unit:
        return None
    if not p.sees(unit):
        return []
    below = descendants(unit_children(session), unit)
    return sorted(c for c in below if p.sees(c))


def get_account(session: Session, p: Principal, account_id: str) -> Account | None:
    a = session.get(Account, account_id)
    return a if a is not None and p.sees(a.owner_code) else None


def snapshot_account(session: Session, p: Principal, snapshot_id: int) -> Account | None:
    """The snapshot's account if the asker may see it; ``None`` for unknown or not theirs."""
    row = session.exec(
        select(Account)
        .join(Snapshot, col(Snapshot.account_id) == col(Account.id))
        .where(Snapshot.id == snapshot_id)
    ).first()
    return row if row is not None and p.sees(row.owner_code) else None


def get_finding(session: Session, p: Principal, finding_id: int) -> FindingRow | None:
    row = session.exec(
        select(Finding, Account, col(Unit.name))
        .join(Account, col(Account.id) == col(Finding.account_id))
        .join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)
        .where(Finding.id == finding_id)
    ).first()
    if row is None or not p.sees(row[1].owner_code):
        return None
    return FindingRow(row[0], row[1], row[2] or row[1].owner_code)


def aware(value: Any) -> datetime | None:
    """A time from an aggregate or a scalar subquery, where SQLite's driver may hand back the
    stored text or a naive UTC value rather than what ``UTCDateTime`` gives for a column."""
    if value is None:
        return None
    if isinstance(value, str):
        return timefmt.parse(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def like(text: str) -> str:
    """``text`` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def containing(text: str, *columns: Any) -> Any:
    """Rows where any of ``columns`` holds ``text`` (case aside): the lists' search box."""
    pattern = like(text)
    return sa.or_(*(col(c).ilike(pattern, escape="\\") for c in columns))


def severity_rank(column: Any) -> Any:
    """veto 4, high 3, warning 2, info 1: worst first when sorted descending."""
    return sa.case(
        {"veto": 4, "high": 3, "warning": 2, "info": 1}, value=column, else_=0
    )  # fmt: skip


# -- findings -----------------------------------------------------------------------------------

# "urgent", the default: the gravest first (巡查异常 last), then the most overdue, then newest
FINDING_SORTS = ("urgent", "opened", "deadline", "severity", "account", "unit", "updated")


def urgency_rank(kind: Any, severity: Any) -> Any:
    """``monitor.show.wording.urgency`` in SQL: 0 veto … 3 提示, 4 巡查异常."""
    return sa.case(
        (kind.in_(sorted(PATROL_KINDS)), PATROL_RANK),
        else_=sa.case(URGENCY, value=severity, else_=PATROL_RANK - 1),
    )


@dataclass(frozen=True)
class FindingFilter:
    """Which findings a list shows; the same for its rows and its total."""

    status: str = "open"  # open | resolved | all
    unit: str | None = None  # the unit and every unit below it
    account: str | None = None
    severity: str | None = None
    platform: str | None = None
    kind: str | None = None
    category: str | None = None  # a kind category: "patrol" = 巡查异常
    q: str = ""  # in the title, the account's name or id, the unit's name

    def apply(self, q: Any, p: Principal, session: Session) -> Any:
        q = scoped(q, p, Account.owner_code)
        if self.status in ("open", "resolved"):
            q = q.where(Finding.status == self.status)
        codes = unit_codes(session, p, self.unit)
        if codes is not None:
            q = q.where(col(Account.owner_code).in_(codes))
        if self.account:
            q = q.where(Finding.account_id == self.account)
        if self.severity:
            q = q.where(Finding.severity == self.severity)
        if self.platform:
            q = q.where(Account.platform == self.platform)
        if self.kind:
            q = q.where(Finding.kind == self.kind)
        if self.category:
            kinds = sorted(c for c, k in KINDS.items() if k.category == self.category)
            q = q.where(col(Finding.kind).in_(kinds))
        if text := self.q.strip():
            q = q.where(containing(text, Finding.title, Account.name, Account.id, Unit.name))
        return q


@dataclass
class FindingRow:
    """A finding as lists show it: with its account and its unit's name."""

    f: Finding
    a: Account
    unit_name: str


def _finding_order(sort: str, desc: bool) -> list[Any]:
    tie = [col(Finding.id).desc()]
    if sort == "urgent":
        rank = urgency_rank(col(Finding.kind), col(Finding.severity))
        deadline = col(Finding.deadline)  # the most overdue first; none last
        return [
            (col(Finding.status) != "open").asc(),
            rank.desc() if desc else rank.asc(),
            deadline.asc().nulls_last(),
            col(Finding.opened_at).desc(),
            *tie,
        ]
    if sort == "deadline":  # soonest (most overdue) first; none last
        key = col(Finding.deadline)
        return [key.desc().nulls_last() if desc else key.asc().nulls_last(), *tie]
    if sort == "severity":
        rank = severity_rank(col(Finding.severity))
        return [rank.asc() if desc else rank.desc(), col(Finding.opened_at).desc(), *tie]
    if sort in ("account", "unit"):  # names by pinyin (monitor.store.sortkey)
        key = col(Account.name_key) if sort == "account" else col(Unit.name_key)
        return [key.desc() if desc else key.asc(), *tie]
    key = col(Finding.updated_at) if sort == "updated" else col(Finding.opened_at)
    return [key.asc() if desc else key.desc(), *tie]  # newest first unless reversed


def _findings_query(q: Any) -> Any:
    q = q.join(Account, col(Account.id) == col(Finding.account_id))
    return q.join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)


def list_findings(
    session: Session,
    p: Principal,
    which: FindingFilter,
    *,
    limit: int = 100,
    offset: int = 0,
    sort: str = "urgent",
    desc: bool = False,
) -> list[FindingRow]:
    """The gravest first by default; ``desc`` reverses the column's natural order."""
    q = _findings_query(select(Finding, Account, col(Unit.name)))
    q = which.apply(q, p, session).order_by(*_finding_order(sort, desc))
    rows = session.exec(q.limit(limit).offset(offset)).all()
    return [FindingRow(f, a, name or a.owner_code) for f, a, name in rows]


def count_findings(session: Session, p: Principal, which: FindingFilter) -> int:
    q = _findings_query(select(sa.func.count()).select_from(Finding))
    return int(session.exec(which.apply(q, p, session)).one())


def finding_json(row: FindingRow, tz: str, now: datetime | None = None) -> dict[str, Any]:
    d = finding_dict(row.f, row.a, tz)
    d["acknowledged_by"] = row.f.acknowledged_by
    d["unit_name"] = row.unit_name
    d["patrol"] = row.f.kind in PATROL_KINDS  # our fetch's problem, not the unit's
    if now is not None and row.f.status == "open" and row.f.deadline is not None:
        d["overdue"] = row.f.deadline < now
    return d


def account_json(a: Account, u: Unit | None) -> dict[str, Any]:
    return account_dict(a, u)


def platforms_of(session: Session, p: Principal) -> list[tuple[str, str]]:
    """The platforms the asker's accounts are on, with their names: a filter offers only
    these."""
    q = scoped(select(col(Account.platform)).distinct(), p, Account.owner_code)
    return [(code, label(PLATFORM, code)) for code in sorted(session.exec(q).all())]


def severity_names() -> dict[str, str]:
    return {s: SEVERITY[s] for s in SEVERITY_ORDER}


# -- an account's story over time (cached: see monitor.web.cache) --------------------------


def timeline(
    session: Session, xapp: App, cache: AccountCache, account_id: str, now: datetime, days: int
) -> list[tuple[date, int]]:
    tz = xapp.settings.timezone
    key = (
        "timeline", account_id, newest_snapshot_id(session, account_id), days,
        now.astimezone(ZoneInfo(tz)).date(),
    )  # fmt: skip
    return cache.get(
        key, lambda: changes.posting_timeline(session, account_id, days=days, now=now, tz=tz)
    )


def profile_changes(
    session: Session, cache: AccountCache, account_id: str, limit: int
) -> list[changes.ProfileChange]:
    key = ("profile", account_id, newest_snapshot_id(session, account_id), limit)
    return cache.get(key, lambda: changes.profile_changes(session, account_id, limit=limit))


def latest_posts(
    session: Session, account_id: str, limit: int = 20
) -> tuple[int | None, list[dict[str, Any]]]:
    """The newest posts the account's latest good look saw (its snapshot id, the posts
    newest first, pinned ones where the page had them)."""
    sid = latest_ok_ids(session, [account_id]).get(account_id)
    if sid is None:
        return None, []
    facts_hash = session.exec(select(col(Snapshot.facts_hash)).where(Snapshot.id == sid)).one()
    posts = (load_facts(session, [facts_hash]).get(facts_hash) or {}).get("posts") or []
    posts = [x for x in posts if isinstance(x, dict)]
    return sid, posts[:limit]
