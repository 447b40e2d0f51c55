"""Digests: what is still open, once a day per unit and once a week per supervisor.

Only what is the units' own: a finding the routing gives to ops (the patrol's own problems —
it could not fetch, read or date an account; ``alerts.routing.plan``) is in no unit's digest.

A digest goes to the unit that hears a finding first (the owner, or the nearest unit above
with channels), and the weekly one to every unit that has units below it, covering them
all.

A digest never bursts on a first start: a unit's 日报 is written only when it holds something
that opened before the last ``JUST_TOLD`` and was told — findings that just opened
arrive in their own message (or 巡查汇总) a moment later, and one message with the same
items is enough; a 周报 only for a week in which an account it covers was checked (no
"未解决问题 0 项" before the first check).

The dedup key carries the day (or ISO week), so a digest is written once whichever
node, or how many runs, get there first; a node that was down at the hour writes it late,
not never.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import monitor.alerting.direct as direct
from alerts.group import DigestRow, render_digest
from alerts.send import budget_for
from monitor.alerting.channels import channel_key
from monitor.alerting.route import console_link, first_with_channels, plan_for, walk_up
from monitor.alerting.settings import AlertingSettings
from monitor.store.models import Account, Finding, Notification, Snapshot, Unit
from monitor.store.scope import descendants
from probes.checks import kinds
from probes.platforms.spec import platform_name

#: a finding opened this recently (or not yet told: its opening still waits for its group)
#: is news its own message carries; a 日报 of nothing else is not written
JUST_TOLD = timedelta(hours=1)


def _at(hhmm: str) -> time:
    h, m = hhmm.split(":")
    return time(int(h), int(m))


def _tree(units: list[Unit]) -> tuple[dict[str, Unit], dict[str, list[str]]]:
    by_code = {u.code: u for u in units}
    children: dict[str, list[str]] = defaultdict(list)
    for u in units:
        if u.parent_code and u.parent_code in by_code:
            children[u.parent_code].append(u.code)
    return by_code, children


def run(engine: Engine, settings: AlertingSettings, now: datetime) -> int:
    """Write the digests that are due and not yet written; returns how many."""
    a = settings.alerts
    local = now.astimezone(ZoneInfo(settings.timezone))
    daily = bool(a.daily_digest_time) and local.time() >= _at(a.daily_digest_time)
    weekly = (
        bool(a.weekly_digest_time)
        and local.isoweekday() == a.weekly_digest_day
        and local.time() >= _at(a.weekly_digest_time)
    )
    year, week, _ = local.isocalendar()
    with Session(engine) as s:
        daily = daily and not _done(s, f"daily:{local.date().isoformat()}")
        weekly = weekly and not _done(s, f"weekly:{year}-W{week:02d}")
    if not (daily or weekly):
        return 0
    written = 0
    with Session(engine) as s:
        units = list(s.exec(select(Unit)).all())
        by_code, children = _tree(units)
        rows_by_owner, old_news = _open_rows(s, settings, by_code, now)
        if daily:
            written += _dailies(s, settings, by_code, rows_by_owner, old_news, local, now)
        if weekly:
            written += _weeklies(s, settings, units, children, rows_by_owner, local, now)
        s.commit()
    return written


def _open_rows(
    s: Session, settings: AlertingSettings, by_code: dict[str, Unit], now: datetime
) -> tuple[dict[str, list[DigestRow]], set[str]]:
    """The open findings that are the units' own, as digest rows per owner, and the owners
    with a row told before ``JUST_TOLD``."""
    rows_by_owner: dict[str, list[DigestRow]] = defaultdict(list)
    old_news: set[str] = set()
    lines: dict[str, list[Unit]] = {}
    for f, acc in s.exec(
        select(Finding, Account)
        .join(Account, col(Account.id) == col(Finding.account_id))
        .where(col(Finding.status) == "open", col(Finding.severity) != "info")
    ).all():
        owner = by_code.get(acc.owner_code)
        line = lines.get(acc.owner_code)
        if line is None:
            line = lines[acc.owner_code] = walk_up(owner, by_code.get)
        if plan_for(settings, f, acc, line).audience == "ops":
            continue  # the patrol's own problem (or routed to ops): not the unit's to count
        if f.notified_at is not None and f.opened_at <= now - JUST_TOLD:
            old_news.add(acc.owner_code)
        rows_by_owner[acc.owner_code].append(
            DigestRow(
                unit=owner.name if owner else acc.owner_code,
                account=acc.name,
                platform=acc.platform,
                platform_label=platform_name(acc.platform),
                kind=f.kind,
                severity=f.severity,
                title=f.title,
                opened_at=f.opened_at,
                acknowledged=f.acknowledged_at is not None,
                escalated=f.escalated_at is not None,
                finding_id=f.id or 0,
                kind_label=kinds.label(f.kind),
                deadline=f.deadline,
                remedy=kinds.remedy(f.kind),
                link=console_link(settings, f.id),
            )
        )
    return rows_by_owner, old_news


def _dailies(
    s: Session,
    settings: AlertingSettings,
    by_code: dict[str, Unit],
    rows_by_owner: dict[str, list[DigestRow]],
    old_news: set[str],
    local: datetime,
    now: datetime,
) -> int:
    """Each 日报 to the unit that hears its owners' findings first."""
    day = local.date()
    per_hearer: dict[str, list[DigestRow]] = defaultdict(list)
    told_before: set[str] = set()
    for owner_code, rows in rows_by_owner.items():
        found = first_with_channels(walk_up(by_code.get(owner_code), by_code.get))
        if found:
            per_hearer[found[1].code].extend(rows)
            if owner_code in old_news:
                told_before.add(found[1].code)
    written = 0
    for code, rows in per_hearer.items():
        if code not in told_before:
            continue  # all just told (or about to be): their own message says it
        days = f"{day.month}月{day.day}日"
        written += _write(s, settings, by_code[code], rows, ("日报", days), f"daily:{day}", now)
    return written


def _weeklies(
    s: Session,
    settings: AlertingSettings,
    units: list[Unit],
    children: dict[str, list[str]],
    rows_by_owner: dict[str, list[DigestRow]],
    local: datetime,
    now: datetime,
) -> int:
    """Each 周报 to every unit with units below it and channels of its own."""
    year, week, _ = local.isocalendar()
    day = local.date()
    first = day - timedelta(days=6)  # the seven days up to today
    # checks of the last hour are a first start's: their news is in its own messages
    checked = _checked_per_owner(s, now - timedelta(days=7), now - JUST_TOLD)
    written = 0
    for u in units:
        if not children.get(u.code) or not u.channels:
            continue
        covered = descendants(children, u.code)
        looked = sum(checked.get(c, 0) for c in covered)
        if not looked:
            continue  # nothing patrolled in the week: nothing to report on
        rows = [r for c in covered for r in rows_by_owner.get(c, [])]
        days = f"{first.month}月{first.day}日—{day.month}月{day.day}日"
        extra = f"覆盖本单位及下属 {len(covered) - 1} 个单位，近 7 天检查账号 {looked} 个"
        period = f"weekly:{year}-W{week:02d}"
        written += _write(s, settings, u, rows, ("周报", days), period, now, extra)
    return written


def _checked_per_owner(s: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Accounts checked in [since, until], per owner unit (closed accounts are not checked)."""
    q = (
        select(Account.owner_code, func.count(func.distinct(Snapshot.account_id)))
        .join(Account, col(Account.id) == col(Snapshot.account_id))
        .where(col(Snapshot.taken_at) >= since, col(Snapshot.taken_at) <= until)
        .group_by(col(Account.owner_code))
    )
    return {code: int(n) for code, n in s.exec(q).all()}


def _done(s: Session, period: str) -> bool:
    """Written already (every unit's digest of a period is written in one transaction)."""
    q = select(Notification.id).where(col(Notification.dedup_key).startswith(f"digest:{period}:"))
    return s.exec(q.limit(1)).first() is not None


def _write(
    s: Session,
    settings: AlertingSettings,
    unit: Unit,
    rows: list[DigestRow],
    words: tuple[str, str],
    period: str,
    now: datetime,
    *extra: str,
) -> int:
    """The digest (``words``: 日报 or 周报, and the days it covers) to each of the unit's
    channels, made to the size each one takes."""
    make = partial(render_digest, rows, recipient=unit.name, period=words[0], day=words[1],
                   tz=settings.timezone, extra=extra, now=now)  # fmt: skip
    n = 0
    for channel in unit.channels:
        message = make(budget=budget_for(settings.channel_url(channel) or ""))
        n += direct.write(
            s,
            settings,
            channel=channel,
            unit_code=unit.code,
            kind="digest",
            event="digest",
            message=message,
            dedup_key=f"digest:{period}:{unit.code}:{channel_key(channel)[:12]}",
            now=now,
        )
    return n
