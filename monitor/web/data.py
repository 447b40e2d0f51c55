"""What the console's pages and the API show, always filtered by the asker's units.

Pages and API share these functions, so the two cannot disagree about scope: an object
outside the asker's units is ``None`` here, and a 404 at the edge.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.app import App
from monitor.registry.accounts import ruleset_for
from monitor.show.labels import PLATFORM, label
from monitor.show.views import account_dict, finding_dict
from monitor.store import changes
from monitor.store.facts import load_facts
from monitor.store.models import Account, Finding, Snapshot, Unit
from monitor.store.snapshots import latest_ok_ids
from monitor.web.auth import Principal
from monitor.web.cache import AccountCache, newest_snapshot_id
from probes.checks.staleness import evaluate_staleness
from probes.model import post_from_dict

SEVERITY_ORDER = ("veto", "high", "warning", "info")


def scoped(q: Any, p: Principal, column: Any) -> Any:
    return q if p.units is None else q.where(col(column).in_(sorted(p.units)))


def visible_units(session: Session, p: Principal) -> list[Unit]:
    q = scoped(select(Unit), p, Unit.code)
    return list(session.exec(q.order_by(col(Unit.code))).all())


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


def get_finding(session: Session, p: Principal, finding_id: int) -> tuple[Finding, Account] | None:
    row = session.exec(
        select(Finding, Account)
        .join(Account, col(Account.id) == col(Finding.account_id))
        .where(Finding.id == finding_id)
    ).first()
    return (row[0], row[1]) if row is not None and p.sees(row[1].owner_code) else None


# -- listings ----------------------------------------------------------------------------------


def list_accounts(
    session: Session, p: Principal, *, unit: str | None = None, platform: str | None = None
) -> list[tuple[Account, Unit | None]]:
    q = select(Account, Unit).join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)
    q = scoped(q, p, Account.owner_code)
    if unit:
        q = q.where(Account.owner_code == unit)
    if platform:
        q = q.where(Account.platform == platform)
    return [(a, u) for a, u in session.exec(q.order_by(col(Account.owner_code), col(Account.id)))]


@dataclass(frozen=True)
class FindingFilter:
    """Which findings a list shows; the same for its rows and its total."""

    status: str = "open"  # open | resolved | all
    unit: str | None = None
    account: str | None = None
    severity: str | None = None

    def apply(self, q: Any, p: Principal) -> Any:
        q = scoped(q, p, Account.owner_code)
        if self.status in ("open", "resolved"):
            q = q.where(Finding.status == self.status)
        if self.unit:
            q = q.where(Account.owner_code == self.unit)
        if self.account:
            q = q.where(Finding.account_id == self.account)
        if self.severity:
            q = q.where(Finding.severity == self.severity)
        return q


def list_findings(
    session: Session, p: Principal, which: FindingFilter, *, limit: int = 100, offset: int = 0
) -> list[tuple[Finding, Account]]:
    """Newest first."""
    q = select(Finding, Account).join(Account, col(Account.id) == col(Finding.account_id))
    q = which.apply(q, p).order_by(col(Finding.opened_at).desc(), col(Finding.id).desc())
    return [(f, a) for f, a in session.exec(q.limit(limit).offset(offset))]


def count_findings(session: Session, p: Principal, which: FindingFilter) -> int:
    q = select(sa.func.count()).select_from(Finding)
    q = q.join(Account, col(Account.id) == col(Finding.account_id))
    return int(session.exec(which.apply(q, p)).one())


def finding_json(f: Finding, a: Account, tz: str) -> dict[str, Any]:
    d = finding_dict(f, a, tz)
    d["acknowledged_by"] = f.acknowledged_by
    return d


def account_json(a: Account, u: Unit | None) -> dict[str, Any]:
    return account_dict(a, u)


# -- overview --------------------------------------------------------------------------------


@dataclass
class Counts:
    """Open findings by severity, for one row of a table."""

    key: str
    name: str
    by_severity: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "total": self.total, **self.by_severity}


@dataclass
class DueSoon:
    """An account not in breach yet that will be, by its rules, within two working days."""

    account_id: str
    account_name: str
    platform: str
    unit_code: str
    unit_name: str
    deadline: datetime
    title: str
    rule: str
    latest_post_at: datetime | None

    def to_dict(self, tz: str) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "account_name": self.account_name,
            "platform": self.platform,
            "unit": self.unit_code,
            "unit_name": self.unit_name,
            "deadline": timefmt.iso(self.deadline, tz),
            "title": self.title,
            "rule": self.rule,
            "latest_post_at": timefmt.iso(self.latest_post_at, tz),
        }


@dataclass
class Overview:
    by_unit: list[Counts]
    by_platform: list[Counts]
    totals: dict[str, int]
    due_soon: list[DueSoon]
    horizon: datetime

    def to_dict(self, tz: str) -> dict[str, Any]:
        return {
            "open_findings": {
                "total": sum(self.totals.values()),
                "by_severity": self.totals,
                "by_unit": [c.to_dict() for c in self.by_unit],
                "by_platform": [c.to_dict() for c in self.by_platform],
            },
            "due_soon": [d.to_dict(tz) for d in self.due_soon],
            "due_soon_horizon": timefmt.iso(self.horizon, tz),
        }


def overview(session: Session, p: Principal, xapp: App, now: datetime) -> Overview:
    q = (
        select(
            col(Account.owner_code), col(Finding.severity), col(Account.platform), sa.func.count()
        )
        .join(Account, col(Account.id) == col(Finding.account_id))
        .where(Finding.status == "open")
        .group_by(col(Account.owner_code), col(Finding.severity), col(Account.platform))
    )
    q = scoped(q, p, Account.owner_code)
    names = dict(session.exec(scoped(select(col(Unit.code), col(Unit.name)), p, Unit.code)).all())
    units: dict[str, Counts] = {}
    platforms: dict[str, Counts] = {}
    totals: dict[str, int] = defaultdict(int)
    for unit_code, severity, platform, n in session.exec(q).all():
        u = units.setdefault(unit_code, Counts(unit_code, names.get(unit_code, unit_code)))
        u.by_severity[severity] = u.by_severity.get(severity, 0) + n
        pl = platforms.setdefault(platform, Counts(platform, label(PLATFORM, platform)))
        pl.by_severity[severity] = pl.by_severity.get(severity, 0) + n
        totals[severity] += n
    order = {s: i for i, s in enumerate(SEVERITY_ORDER)}

    def rank(c: Counts) -> tuple[Any, ...]:
        return (*tuple(-c.by_severity.get(s, 0) for s in SEVERITY_ORDER), c.key)

    horizon = due_horizon(xapp, now)
    return Overview(
        by_unit=sorted(units.values(), key=rank),
        by_platform=sorted(platforms.values(), key=rank),
        totals=dict(sorted(totals.items(), key=lambda kv: order.get(kv[0], 99))),
        due_soon=due_soon(session, p, xapp, now, horizon),
        horizon=horizon,
    )


def due_horizon(xapp: App, now: datetime, workdays: int = 2) -> datetime:
    """End (23:59:59 local) of the ``workdays``-th working day, today counting if it is one."""
    zone = ZoneInfo(xapp.settings.timezone)
    day: date = xapp.calendar.next_workday(now.astimezone(zone).date(), inclusive=True)
    for _ in range(workdays - 1):
        day = xapp.calendar.next_workday(day)
    return datetime.combine(day, time(23, 59, 59), zone).astimezone(UTC)


def due_soon(
    session: Session, p: Principal, xapp: App, now: datetime, horizon: datetime
) -> list[DueSoon]:
    """Judge each active account's latest posts by its own rule set, now and at the horizon:
    not stale now, stale then = due soon. Same rules and calendar as the patrol."""
    tz = xapp.settings.timezone
    accounts = session.exec(
        scoped(select(Account, Unit), p, Account.owner_code)
        .join(Unit, col(Unit.code) == col(Account.owner_code), isouter=True)
        .where(Account.status == "active")
    ).all()
    judged = {}
    for a, u in accounts:
        rs = xapp.rulesets.get(ruleset_for(a))
        if rs is not None and rs.rules:
            judged[a.id] = (a, u, rs)
    if not judged:
        return []
    ids = sorted(latest_ok_ids(session, sorted(judged)).values())
    hashes: list[tuple[str, str]] = []
    for i in range(0, len(ids), 500):
        hashes += session.exec(
            select(col(Snapshot.account_id), col(Snapshot.facts_hash)).where(
                col(Snapshot.id).in_(ids[i : i + 500])
            )
        ).all()
    contents = load_facts(session, (h for _, h in hashes))
    rows = [(a, (contents.get(h) or {}).get("posts")) for a, h in hashes]
    out: dict[str, DueSoon] = {}
    for account_id, raw_posts in rows:
        if account_id in out:
            continue
        a, u, rs = judged[account_id]
        try:
            posts = [post_from_dict(x) for x in raw_posts or []]
        except (TypeError, ValueError, AttributeError):
            continue
        if any(s.kind == "stale" for s in evaluate_staleness(posts, rs, xapp.calendar, now, tz)):
            continue  # already in breach: an open finding, listed elsewhere
        later = [
            s
            for s in evaluate_staleness(posts, rs, xapp.calendar, horizon, tz)
            if s.kind == "stale"
        ]
        if not later:
            continue
        sig = later[0]
        moments = [
            datetime.fromisoformat(r["breached_at"])
            for r in sig.evidence.get("rules", [])
            if r.get("breached_at")
        ]
        moments = [m for m in moments if m > now] or [horizon]
        dated = [x.published_at for x in posts if x.published_at and not x.pinned]
        out[account_id] = DueSoon(
            account_id=a.id,
            account_name=a.name,
            platform=a.platform,
            unit_code=a.owner_code,
            unit_name=u.name if u else a.owner_code,
            deadline=min(moments),
            title=sig.title,
            rule=sig.rule,
            latest_post_at=max(dated) if dated else None,
        )
    return sorted(out.values(), key=lambda d: (d.deadline, d.account_id))


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
