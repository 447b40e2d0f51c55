"""What a check's write does for the loop (``monitor.store.rectify``): signals a supervisor
dismissed as 误报 are dropped before they reach the findings, and a finding marked 已整改 is
decided by the first check judged after the mark.

Decided in the batch's own transaction, so the recheck's events and its "复查未通过" alert are
written with the snapshot that decided them, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from alerts.evidence import Room
from alerts.formats import Text
from monitor.alerting.route import add_items, notice_for, owner_targets, plan_for, unit_line
from monitor.alerting.settings import AlertingSettings
from monitor.config import Settings
from monitor.evidence import describe
from monitor.store.findings import FETCH_KINDS, SUPERSEDES
from monitor.store.models import Account, Finding, FindingEvent, Snapshot, Unit
from monitor.store.rectify import INCOMPLETE, Dismissed, dismissed_of, pending_rechecks, suppress
from monitor.timefmt import zone
from probes.checks.rules import RuleSet
from probes.model import Outcome, Signal

FAILED = "recheck_failed"


@dataclass
class Loop:
    """The batch's dismissed evidence and its findings awaiting a recheck."""

    current: dict[str, dict[str, Finding]]  # the batch's open findings, by account and kind
    dismissed: Dismissed
    pending: dict[int, datetime]  # finding id -> marked 已整改 at

    @classmethod
    def load(cls, s: Session, current: dict[str, dict[str, Finding]]) -> Loop:
        ids = [f.id for fs in current.values() for f in fs.values() if f.id is not None]
        return cls(current, dismissed_of(s, list(current)), pending_rechecks(s, ids))

    def keep(self, account_id: str, signals: list[Signal]) -> list[Signal]:
        return suppress(signals, account_id, self.dismissed)

    def decide(
        self,
        s: Session,
        app: Any,
        jobs: list[Any],
        snaps: list[Snapshot],
        units: Mapping[str, Unit],
    ) -> None:
        """After the batch's reconcile: :meth:`decide_one` for each check."""
        if not self.pending:
            return
        for job, snap in zip(jobs, snaps, strict=True):
            rec, unit = job.record, units.get(job.record.account.owner_code)
            ok = rec.obs.outcome is Outcome.ok
            self.decide_one(s, app.settings, app.rulesets, rec.account, unit, snap, ok,
                            rec.obs.fetched_at, rec.now)  # fmt: skip

    def decide_one(
        self,
        s: Session,
        settings: Settings,
        rulesets: Mapping[str, RuleSet],
        account: Account,
        unit: Unit | None,
        snap: Snapshot,
        seen: bool,
        taken_at: datetime,
        now: datetime,
    ) -> None:
        """Each finding of ``account`` awaiting a recheck, when this check (``seen``: its page
        was read) was taken after the mark: passed (gone), failed (still there: the unit is
        told), or — the page not read — left waiting with a word saying so."""
        for f in self.current.get(account.id, {}).values():
            marked = self.pending.get(f.id or 0)
            if marked is None or _aware(taken_at) < marked:
                continue  # a check that started before the mark decides nothing
            if f.status != "open" and not _worse(s, f):
                _event(s, f, "recheck_passed", snap, now,
                       {"before": f.first_snapshot_id, "after": snap.id})  # fmt: skip
            elif seen or f.kind in FETCH_KINDS or f.status != "open":
                why = _why(f, now, settings.timezone)
                _event(s, f, FAILED, snap, now, {"why": why, "after": snap.id})
                if f.status == "open":  # a worse kind in its place is told as its opening
                    _tell(s, settings, rulesets, account, unit, f, now)
            else:
                _event(s, f, "recheck_incomplete", snap, now, {"why": INCOMPLETE})
            self.pending.pop(f.id or 0)


def _worse(s: Session, f: Finding) -> bool:
    """``f`` closed only because a worse kind took its place (即将超期 → 长期未更新)."""
    worse = [k for k, v in SUPERSEDES.items() if v == f.kind]
    if not worse:
        return False
    q = select(Finding.id).where(Finding.account_id == f.account_id, Finding.status == "open")
    return s.exec(q.where(col(Finding.kind).in_(worse))).first() is not None


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _event(s: Session, f: Finding, event: str, snap: Snapshot, at: datetime, detail: dict) -> None:
    assert f.id is not None
    s.add(FindingEvent(finding_id=f.id, event=event, snapshot_id=snap.id, at=at, detail=detail))


TOLD = "单位已提交整改，但复查时问题仍在（证据见下）；请再次整改后重新提交"


def _why(f: Finding, now: datetime, tz: str) -> str:
    """The evidence in words, as a message says it: why the recheck did not pass."""
    lines = describe(f.evidence, Text(), zone(tz), now, Room(3, 80), said=f.title)
    words = [w for w in (line.strip(" -·") for line in lines[:4]) if w and not w.endswith("：")]
    return f"复查时问题仍在：{f.title}" + (f"。{'；'.join(words)}" if words else "")


def _tell(
    s: Session,
    settings: Settings,
    rulesets: Mapping[str, RuleSet],
    account: Account,
    unit: Unit | None,
    f: Finding,
    now: datetime,
) -> None:
    """ "复查未通过" to the unit that hears first: never the supervisor, never ops."""
    if not settings.alerts.enabled:
        return
    line = unit_line(s, unit)
    a = AlertingSettings.of(settings)
    p = plan_for(a, f, account, line)
    if p.mute or p.audience == "ops":
        return
    targets = [t for t in owner_targets(a, p, line, account.owner_code) if t.unit != "ops"]
    notice = notice_for(a, f, account, unit, FAILED, now, TOLD, rulesets)
    add_items(s, targets, notice, now=now, wait_seconds=p.group_wait_seconds, tag=now.isoformat())
