"""The overview, for a page and for ``/api/v1/overview``: the fleet's figures (``fleet``), the
open problems by unit (grouped as the 通报 groups them: under the asker's unit, each unit
directly below it with everything below that) and by platform, the two trends
(``trends``), the quarter's pass rate per unit as the 通报 computes it (``monitor.report``),
and what is about to breach (``soon``).

The pass rates, the updates trend and the due-soon list are kept in the console's
``StatsCache`` (``stats``): at a province's scale they take seconds, the rest is live.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.app import App
from monitor.report import Period, build_report
from monitor.report.model import GroupRow, Totals
from monitor.show.labels import PATROL_KINDS, PLATFORM, label
from monitor.store.models import Account, Finding
from monitor.store.scope import unit_children
from monitor.web.auth import Principal
from monitor.web.data import SEVERITY_ORDER, report_root, scoped, unit_groups
from monitor.web.fleet import Fleet, fleet
from monitor.web.soon import DueSoon, due_horizon, due_soon
from monitor.web.stats import Stat, StatsCache, data_version
from monitor.web.trends import Trend, open_problems, updates


@dataclass
class Counts:
    """Open findings by severity, for one row of a table; ``patrol``: our fetch problems,
    apart from the severities."""

    key: str
    name: str
    by_severity: dict[str, int] = field(default_factory=dict)
    patrol: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "name": self.name, "total": self.total, "patrol": self.patrol,
            **self.by_severity,
        }  # fmt: skip


@dataclass
class PassRates:
    """The quarter so far, per unit, as the 通报 counts it (docs/report.md)."""

    period: Period
    rows: list[GroupRow]
    total: Totals | None  # None when some of the report's units are not the asker's
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": str(self.period),
            "period_label": self.period.label,
            "by_unit": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict() if self.total else None,
            "notes": self.notes,
        }


def _stat_dict(stat: Stat[Any], tz: str, value: Any) -> dict[str, Any]:
    return {
        "computed_at": timefmt.iso(stat.at, tz),
        "pending": stat.pending,
        "error": stat.error or None,
        "value": value,
    }


@dataclass
class Overview:
    now: datetime
    fleet: Fleet
    by_unit: list[Counts]
    by_platform: list[Counts]
    totals: dict[str, int]  # the units' open problems by severity (no 巡查异常)
    patrol_findings: int
    problems: Trend
    updates: Stat[Trend]
    pass_rates: Stat[PassRates]
    due_soon: Stat[list[DueSoon]]
    horizon: datetime

    @property
    def pending(self) -> bool:
        return any(s.pending and s.value is None for s in self.stats)

    @property
    def stats(self) -> list[Stat[Any]]:
        return [self.updates, self.pass_rates, self.due_soon]

    def to_dict(self, tz: str) -> dict[str, Any]:
        soon = self.due_soon.value or []
        rates, ups = self.pass_rates.value, self.updates.value
        return {
            "now": timefmt.iso(self.now, tz),
            "fleet": self.fleet.to_dict(tz),
            "open_findings": {
                "total": sum(self.totals.values()),
                "by_severity": self.totals,
                "patrol": self.patrol_findings,
                "by_unit": [c.to_dict() for c in self.by_unit],
                "by_platform": [c.to_dict() for c in self.by_platform],
            },
            "trends": {
                "open_findings": self.problems.to_dict(),
                "updates": _stat_dict(self.updates, tz, ups.to_dict() if ups else None),
            },
            "pass_rates": _stat_dict(self.pass_rates, tz, rates.to_dict() if rates else None),
            "due_soon": [d.to_dict(tz) for d in soon],
            "due_soon_horizon": timefmt.iso(self.horizon, tz),
            "due_soon_status": _stat_dict(self.due_soon, tz, None),
        }


def _open_counts(
    session: Session, p: Principal
) -> tuple[list[Counts], list[Counts], dict[str, int], int]:
    q = (
        select(
            col(Account.owner_code),
            col(Finding.severity),
            col(Account.platform),
            col(Finding.kind).in_(sorted(PATROL_KINDS)).label("patrol"),
            sa.func.count(),
        )
        .join(Account, col(Account.id) == col(Finding.account_id))
        .where(Finding.status == "open")
        .group_by(col(Account.owner_code), col(Finding.severity), col(Account.platform), "patrol")
    )
    q = scoped(q, p, Account.owner_code)
    groups = unit_groups(session, p)
    units: dict[str, Counts] = {}
    platforms: dict[str, Counts] = {}
    totals: dict[str, int] = defaultdict(int)
    patrol_total = 0
    for unit_code, severity, platform, patrol, n in session.exec(q).all():
        key = groups.head.get(unit_code, unit_code)
        u = units.setdefault(key, Counts(key, groups.names.get(key, key)))
        pl = platforms.setdefault(platform, Counts(platform, label(PLATFORM, platform)))
        if patrol:
            u.patrol += n
            pl.patrol += n
            patrol_total += n
            continue
        u.by_severity[severity] = u.by_severity.get(severity, 0) + n
        pl.by_severity[severity] = pl.by_severity.get(severity, 0) + n
        totals[severity] += n
    order = {s: i for i, s in enumerate(SEVERITY_ORDER)}

    def rank(c: Counts) -> tuple[Any, ...]:
        return (*tuple(-c.by_severity.get(s, 0) for s in SEVERITY_ORDER), -c.patrol, c.name)

    ordered = dict(sorted(totals.items(), key=lambda kv: order.get(kv[0], 99)))
    return (
        sorted(units.values(), key=rank), sorted(platforms.values(), key=rank), ordered,
        patrol_total,
    )  # fmt: skip


def pass_rates(session: Session, p: Principal, xapp: App, now: datetime) -> PassRates:
    """``build_report`` for the quarter so far over the asker's own unit (all units for an
    admin), its rows kept to the units they may see."""
    period = Period.containing(now, xapp.settings.timezone)
    root = report_root(p, unit_children(session))
    report = build_report(session, xapp.settings, period, root, now=now)
    rows = [r for r in report.by_unit if p.units is None or p.sees(r.key)]
    rows.sort(key=lambda r: (r.totals.pass_rate is None, r.totals.pass_rate or 0, r.label))
    whole = len(rows) == len(report.by_unit)
    return PassRates(period, rows, report.totals if whole else None, report.notes)


@dataclass
class Live:
    """The overview's counts: a fraction of a second even at 20,000 accounts, kept like the
    slow figures so that a busy patrol does not make every request count them again."""

    fleet: Fleet
    by_unit: list[Counts]
    by_platform: list[Counts]
    totals: dict[str, int]
    patrol_findings: int
    problems: Trend


def live(session: Session, p: Principal, now: datetime, tz: str) -> Live:
    by_unit, by_platform, totals, patrol = _open_counts(session, p)
    return Live(
        fleet(session, p, now), by_unit, by_platform, totals, patrol,
        open_problems(session, p, now, tz),
    )  # fmt: skip


def overview(
    session: Session, p: Principal, xapp: App, now: datetime, stats: StatsCache
) -> Overview:
    tz = xapp.settings.timezone
    version = data_version(session, now)
    scope = p.units  # the key of everything scoped: None (all) or the asker's unit codes
    horizon = due_horizon(xapp, now)
    counted = stats.get(("live", scope), version, now, lambda s: live(s, p, now, tz))
    current = counted.value or live(session, p, now, tz)  # none within the wait: count here
    return Overview(
        now=counted.at if counted.value is not None and counted.at else now,
        fleet=current.fleet,
        by_unit=current.by_unit,
        by_platform=current.by_platform,
        totals=current.totals,
        patrol_findings=current.patrol_findings,
        problems=current.problems,
        updates=stats.get(
            ("updates", scope), version, now, lambda s: updates(s, p, now, tz), heavy=True
        ),
        pass_rates=stats.get(
            ("pass_rates", scope), version, now, lambda s: pass_rates(s, p, xapp, now), heavy=True
        ),
        due_soon=stats.get(
            ("due_soon", scope),
            version,
            now,
            lambda s: due_soon(s, p, xapp, now, horizon),
            heavy=True,
        ),
        horizon=horizon,
    )
