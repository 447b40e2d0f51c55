"""The overview's two trends, a local day at a time: problems open at each day's end, and
the updates the patrol saw published each day. Each is one aggregate query; the days are
cut in the display zone by comparing with each day's end (the same SQL on both backends).

An **update** is a new latest post: every distinct (account, latest post time) the ok
checks of the period saw, dated by the post's own time. Several posts between two checks
count once, so it is what the patrol saw change, a little under the number of posts of a
prolific account; an account's own page counts every post (``changes.posting_timeline``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.show.labels import PATROL_KINDS
from monitor.store.models import Account, Finding, Snapshot
from monitor.web.auth import Principal
from monitor.web.data import scoped

TREND_DAYS = 30
PROBLEM_SEVERITIES = ("veto", "high", "warning")  # 提示 and 巡查异常 are not in the trend


@dataclass
class Trend:
    days: list[date]
    series: dict[str, list[int]]  # name -> a value a day

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": [d.isoformat() for d in self.days],
            **{name: values for name, values in self.series.items()},
        }


def day_ends(now: datetime, tz: str, days: int) -> tuple[list[date], list[datetime], datetime]:
    """The last ``days`` local days up to today, each one's end (UTC; today's is ``now``),
    and the first day's start."""
    zone = timefmt.zone(tz)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    dates = [first + timedelta(days=i) for i in range(days)]
    ends = [datetime.combine(d + timedelta(days=1), time(0), zone).astimezone(UTC) for d in dates]
    ends[-1] = now
    start = datetime.combine(first, time(0), zone).astimezone(UTC)
    return dates, ends, start


def open_problems(
    session: Session, p: Principal, now: datetime, tz: str, days: int = TREND_DAYS
) -> Trend:
    """Findings open at the end of each day, by severity (the unit's problems: neither 提示
    nor our own fetch problems)."""
    dates, ends, _ = day_ends(now, tz, days)
    opened, resolved = col(Finding.opened_at), col(Finding.resolved_at)
    columns = [
        sa.func.sum(
            sa.case((sa.and_(opened < end, sa.or_(resolved.is_(None), resolved >= end)), 1),
                    else_=0)
        ).label(f"d{i}")
        for i, end in enumerate(ends)
    ]  # fmt: skip
    q = (
        select(col(Finding.severity), *columns)
        .join(Account, col(Account.id) == col(Finding.account_id))
        .where(
            opened < now,
            sa.or_(resolved.is_(None), resolved >= ends[0]),
            col(Finding.severity).in_(PROBLEM_SEVERITIES),
            col(Finding.kind).not_in(sorted(PATROL_KINDS)),
        )
        .group_by(col(Finding.severity))
    )
    series = {s: [0] * days for s in PROBLEM_SEVERITIES}
    for severity, *counts in session.exec(scoped(q, p, Account.owner_code)).all():
        series[severity] = [int(n or 0) for n in counts]
    return Trend(dates, series)


def updates(
    session: Session, p: Principal, now: datetime, tz: str, days: int = TREND_DAYS
) -> Trend:
    """Updates seen per day (see the module's docstring), over every account in scope."""
    dates, ends, start = day_ends(now, tz, days)
    pairs = (
        select(col(Snapshot.account_id), col(Snapshot.latest_post_at).label("at"))
        .distinct()
        .where(
            col(Snapshot.outcome) == "ok",
            col(Snapshot.taken_at) >= start,
            col(Snapshot.latest_post_at) >= start,
            col(Snapshot.latest_post_at) <= now,
        )
    )
    if p.units is not None:
        mine = select(col(Account.id)).where(col(Account.owner_code).in_(sorted(p.units)))
        pairs = pairs.where(col(Snapshot.account_id).in_(mine))
    sub = pairs.subquery()
    bucket = sa.case(*((sub.c.at < end, i) for i, end in enumerate(ends)), else_=days - 1)
    counts = [0] * days
    for i, n in session.exec(select(bucket, sa.func.count()).group_by(bucket)).all():
        counts[int(i)] += int(n)
    return Trend(dates, {"updates": counts})
