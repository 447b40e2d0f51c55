"""Findings: one per (account, problem), opened, updated and resolved as snapshots come.

Alerts are about findings, never raw signals, so a problem seen every hour is
reported once. Content problems (staleness, ...) can only be judged from a fetch
that worked: a failed or blocked fetch leaves them as they were, and only fetch
problems are reconciled against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from monitor.models import Finding, FindingEvent
from probes.model import SEVERITY_RANK, Severity, Signal

# problems about the fetch itself; everything else is about what the account shows
FETCH_KINDS = frozenset({"fetch_failed", "blocked", "gone"})
# opening the first kind resolves the second without a "resolved" notice
SUPERSEDES = {"stale": "stale_soon"}


@dataclass
class Change:
    event: str  # opened / updated / resolved / superseded
    finding: Finding
    previous_severity: str | None = None


def open_findings(session: Session, account_id: str) -> dict[str, Finding]:
    rows = session.exec(
        select(Finding).where(Finding.account_id == account_id, Finding.status == "open")
    ).all()
    return {f.kind: f for f in rows}


def reconcile(
    session: Session,
    account_id: str,
    snapshot_id: int,
    signals: list[Signal],
    *,
    content_seen: bool,
    now: datetime,
) -> list[Change]:
    """Apply one snapshot's signals to the account's open findings (caller commits)."""
    current = open_findings(session, account_id)
    by_kind: dict[str, Signal] = {}
    for s in signals:  # one per kind: keep the most severe if a detector repeats itself
        old = by_kind.get(s.kind)
        if old is None or SEVERITY_RANK[s.severity] > SEVERITY_RANK[old.severity]:
            by_kind[s.kind] = s
    changes: list[Change] = []

    for kind, sig in by_kind.items():
        f = current.get(kind)
        if f is None:
            f = Finding(
                account_id=account_id,
                kind=kind,
                severity=sig.severity.value,
                title=sig.title,
                detail=sig.detail,
                rule=sig.rule,
                deadline=sig.deadline,
                evidence=sig.evidence,
                opened_at=now,
                updated_at=now,
                first_snapshot_id=snapshot_id,
                last_snapshot_id=snapshot_id,
            )
            session.add(f)
            session.flush()
            _event(session, f, "opened", snapshot_id, now, {"severity": f.severity})
            changes.append(Change("opened", f))
            continue
        previous = f.severity
        f.title, f.detail, f.rule = sig.title, sig.detail, sig.rule
        f.deadline, f.evidence = sig.deadline, sig.evidence
        f.last_snapshot_id, f.updated_at = snapshot_id, now
        if sig.severity.value != previous:
            f.severity = sig.severity.value
            _event(session, f, "updated", snapshot_id, now, {"severity": [previous, f.severity]})
            if SEVERITY_RANK[sig.severity] > SEVERITY_RANK[Severity(previous)]:
                changes.append(Change("updated", f, previous))
        session.add(f)

    opened = {c.finding.kind for c in changes if c.event == "opened"}
    superseded = {SUPERSEDES[k] for k in opened if k in SUPERSEDES}
    for kind, f in current.items():
        if kind in by_kind or (not content_seen and kind not in FETCH_KINDS):
            continue
        event = "superseded" if kind in superseded else "resolved"
        f.status, f.resolved_at, f.updated_at = "resolved", now, now
        f.last_snapshot_id = snapshot_id
        session.add(f)
        _event(session, f, event, snapshot_id, now, {})
        changes.append(Change(event, f))
    session.flush()
    return changes


def _event(
    session: Session, f: Finding, event: str, snapshot_id: int | None, now: datetime, detail: dict
) -> None:
    assert f.id is not None
    session.add(
        FindingEvent(finding_id=f.id, event=event, snapshot_id=snapshot_id, at=now, detail=detail)
    )


class AckError(Exception):
    """The finding cannot be acknowledged (unknown, already resolved)."""


def acknowledge(session: Session, finding_id: int, *, by: str, note: str, now: datetime) -> Finding:
    """Record that a duty officer has seen a finding: who, when, and what they said."""
    f = session.get(Finding, finding_id)
    if f is None:
        raise AckError(f"问题 #{finding_id} 不存在")
    if f.status != "open":
        raise AckError(f"问题 #{finding_id} 已于 {f.resolved_at:%Y-%m-%d %H:%M} UTC 解决，无需确认")
    f.acknowledged_at, f.acknowledged_by = now, by
    session.add(f)
    session.flush()
    _event(session, f, "acknowledged", f.last_snapshot_id, now, {"by": by, "note": note})
    return f
