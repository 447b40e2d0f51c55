"""Findings nobody acted on: repeat them to the owner, escalate them to the supervisor.

- **Repeat**: an open finding that is not acknowledged is told again every
  ``repeat_minutes`` (per route). Acknowledging stops the repeats.
- **Escalate**: the supervisor (the nearest unit above, with channels) is told once when a
  finding has been neither acknowledged nor resolved for ``escalate_after_minutes``, or —
  acknowledged or not — when its deadline has passed while it is still open.
- **Climb**: a severity with an ``[alerts.ladder]`` takes its steps instead of
  ``escalate_after_minutes`` (``alerting.ladder``); the repeats and the deadline stay.
- **Quiet hours**: none of it happens for a finding that is not a veto while
  ``[alerts] quiet_hours`` last; it happens when they end.

Each step is claimed with a conditional UPDATE on the finding (``notified_at`` /
``escalated_at`` still as read), so two nodes scanning at once tell nobody twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import exists, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from monitor.alerting.ladder import climb, ladder_of, quiet_now
from monitor.alerting.route import (
    OPS_KINDS,
    OWNER_EVENTS,
    add_items,
    escalation_event,
    notice_for,
    owner_targets,
    plan_for,
    supervisor_targets,
    walk_up,
)
from monitor.alerting.settings import AlertingSettings
from monitor.alerting.silences import Matcher
from monitor.store.models import Account, AlertItem, Finding, Unit
from probes.checks.rules import RuleSet

log = structlog.get_logger("xuncha.alerts")


def _escalation_due(f: Finding, after: int | None, now: datetime) -> str | None:
    """Why the supervisor must be told now, or None."""
    if f.escalated_at is not None:
        return None
    if f.deadline is not None and f.deadline <= now:
        return "已过整改期限仍未解决"
    if after is None or f.acknowledged_at is not None:
        return None
    if f.opened_at + timedelta(minutes=after) <= now:
        hours = after / 60
        span = f"{hours:g} 小时" if after % 60 == 0 else f"{after} 分钟"
        return f"主办单位 {span}内未确认也未整改"
    return None


def _candidates(settings: AlertingSettings, now: datetime) -> list:
    """SQL filters that keep the scan to findings that may be due (a superset: the exact
    decision is per finding, by its route)."""
    a = settings.alerts
    repeats = [m for m in [a.repeat_minutes, *(r.repeat_minutes for r in a.routes)] if m]
    afters = [
        m
        for m in [a.escalate_after_minutes, *(r.escalate_after_minutes for r in a.routes)]
        if m is not None
    ]
    unescalated = col(Finding.escalated_at).is_(None)
    escalate = unescalated & (col(Finding.deadline) <= now)
    for severity, ladder_ in a.ladder.items():
        for i, step in enumerate(ladder_.steps):  # its next step is due (index, time)
            escalate = escalate | (
                (col(Finding.severity) == severity)
                & col(Finding.acknowledged_at).is_(None)
                & (col(Finding.ladder_step) == i)
                & (col(Finding.opened_at) <= now - timedelta(minutes=step.minutes))
                & col(Finding.kind).not_in(OPS_KINDS)  # the patrol's own: ops hear, once
            )
    if afters:
        escalate = escalate | (
            unescalated
            & col(Finding.acknowledged_at).is_(None)
            & (col(Finding.opened_at) <= now - timedelta(minutes=min(afters)))
        )
    # never told (its opening fell in a silence): told as soon as no silence covers it
    remind = col(Finding.notified_at).is_(None)
    if repeats:
        remind = remind | (col(Finding.notified_at) <= now - timedelta(minutes=min(repeats)))
    remind = remind & col(Finding.acknowledged_at).is_(None) & ~_telling()
    return [col(Finding.status) == "open", col(Finding.severity) != "info", escalate | remind]


def _telling() -> Any:
    """The finding has news for its owner waiting to be sent (its opening in the group wait,
    or behind a throttled channel): that message tells it, so no reminder is due yet."""
    return exists().where(
        col(AlertItem.finding_id) == col(Finding.id),
        col(AlertItem.status) == "queued",
        col(AlertItem.event).in_(OWNER_EVENTS),
    )


def scan(
    engine: Engine, settings: AlertingSettings, now: datetime, *, batch: int = 500
) -> tuple[int, int]:
    """Write due reminders and escalations; returns (reminders, escalations).

    Findings are handled in batches, one transaction each: per-finding transactions cost a
    commit apiece (bench/alerting.py: 18 ms a finding on SQLite, a day's repeats of 5,000
    findings took 89 s)."""
    reminders = escalations = 0
    rulesets = settings.rulesets  # the rules in words, for every notice
    with Session(engine) as s:
        ids = list(s.exec(select(Finding.id).where(*_candidates(settings, now))).all())
        matcher = Matcher(s, now)
        units = {u.code: u for u in s.exec(select(Unit)).all()}
        for u in units.values():
            s.expunge(u)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with Session(engine) as s:
            rows = s.exec(
                select(Finding, Account)
                .join(Account, col(Account.id) == col(Finding.account_id))
                .where(col(Finding.id).in_(chunk), col(Finding.status) == "open")
            ).all()
            with s.no_autoflush:  # one flush per batch, not one per conditional UPDATE
                for f, account in rows:
                    line = walk_up(units.get(account.owner_code), units.get)
                    r, e = _one(s, settings, f, account, line, matcher, now, rulesets)
                    reminders += r
                    escalations += e
            s.commit()
    return reminders, escalations


def _one(
    s: Session,
    settings: AlertingSettings,
    f: Finding,
    account: Account,
    line: list[Unit],
    matcher: Matcher,
    now: datetime,
    rulesets: Mapping[str, RuleSet],
) -> tuple[int, int]:
    unit = line[0] if line else None
    p = plan_for(settings, f, account, line)
    if p.mute or quiet_now(settings, f, now):
        return 0, 0
    reminded = 0
    escalated = climb(s, settings, f, account, line, p, now, rulesets)
    # a severity with a ladder climbs it instead of escalating after a time; the deadline stays
    after = None if ladder_of(settings, f) else p.escalate_after_minutes
    why = _escalation_due(f, after, now)
    supervisors = supervisor_targets(p, line) if why else []
    if why and supervisors and _claim(s, f, "escalated_at", now):
        notice = notice_for(settings, f, account, unit, "escalated", now, why, rulesets)
        add_items(
            s, supervisors, notice, now=now, wait_seconds=p.group_wait_seconds,
            tag=now.isoformat(),
        )  # fmt: skip
        escalation_event(s, f, supervisors, now, why)
        escalated += 1
        log.info("finding_escalated", finding=f.id, why=why)
    silenced = matcher.covering(account.id, account.platform, f.kind)
    due = f.notified_at is None or bool(
        p.repeat_minutes and f.notified_at + timedelta(minutes=p.repeat_minutes) <= now
    )
    if silenced is None and f.acknowledged_at is None and due:
        targets = owner_targets(settings, p, line, account.owner_code)
        # claimed only while nothing is on its way to the owner: a message composed since
        # the scan read the finding has set ``notified_at``, one still queued is ``_telling``
        if targets and _claim(s, f, "notified_at", now, ~_telling()):
            notice = notice_for(settings, f, account, unit, "reminder", now, rulesets=rulesets)
            add_items(
                s, targets, notice, now=now, wait_seconds=p.group_wait_seconds,
                tag=now.isoformat(),
            )  # fmt: skip
            reminded = 1
    return reminded, escalated


def _claim(s: Session, f: Finding, column: str, now: datetime, *also: Any) -> bool:
    """Set ``column`` to now if it still holds what we read (another node, or the composer,
    did not change it meanwhile) and the ``also`` conditions hold."""
    current = getattr(f, column)
    attr = getattr(Finding, column)
    cond = col(attr).is_(None) if current is None else col(attr) == current
    res = s.execute(
        update(Finding)
        .where(col(Finding.id) == f.id, cond, *also)
        .values({column: now})
        # no ORM sync: it evaluates the criteria against every object in the session
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(f, column, now)  # the row has it; no second UPDATE at flush
    return True
