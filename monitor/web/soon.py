"""Accounts not in breach yet that will be, by their own rules, within two working days:
judged from each account's latest good look with the patrol's rules and calendar, now and
at the horizon (the end of the second working day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from monitor import timefmt
from monitor.app import App
from monitor.registry.accounts import ruleset_for
from monitor.store.facts import load_facts
from monitor.store.models import Account, Snapshot, Unit
from monitor.store.snapshots import latest_ok_ids
from monitor.web.auth import Principal
from monitor.web.data import scoped
from probes.checks.rules import rule_text
from probes.checks.staleness import evaluate_staleness
from probes.model import post_from_dict


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
    rule_words: str = ""  # the rule as people read it (probes.checks.rules.rule_text)

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
            "rule_text": self.rule_words,
            "latest_post_at": timefmt.iso(self.latest_post_at, tz),
        }


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
            rule_words=rule_text(sig.rule, xapp.rulesets),
        )
    return sorted(out.values(), key=lambda d: (d.deadline, d.account_id))
